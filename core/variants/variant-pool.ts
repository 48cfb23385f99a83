import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RawImage } from './ops';
import { applyVariant } from './registry';
import type { VariantSpec } from './variant-spec';
import type { VariantTask } from './variant-worker';

type Job = { src: RawImage; donor?: RawImage };

/**
 * Applies variants to batches of images on `threads` worker threads (1: in this thread). Variant ops are pure
 * JS over raw buffers, so threads are how they use more than one core. Outputs keep the input order.
 */
export class VariantPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<
    number,
    { resolve: (o: Uint8Array[]) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;

  constructor(readonly threads: number) {
    // the sources are TypeScript run through tsx, in the parent and therefore in each worker
    const file = path.join(__dirname, 'variant-worker.ts');
    const code = `require('tsx/cjs'); require(${JSON.stringify(file)});`;
    for (let i = 0; i < (threads > 1 ? threads : 0); i++) {
      const w = new Worker(code, { eval: true });
      w.on('message', (m: { id: number; outputs?: Uint8Array[]; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error !== undefined) p?.reject(new Error(m.error));
        else p?.resolve(m.outputs!);
      });
      w.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  async apply(spec: VariantSpec, jobs: Job[]): Promise<Uint8Array[]> {
    if (this.workers.length === 0) return jobs.map((j) => applyVariant(spec, j.src, j.donor));
    const per = Math.ceil(jobs.length / this.workers.length);
    const parts = await Promise.all(
      this.workers.map((w, k) => {
        // copy the views: posting a view into a shard would clone the whole shard buffer with it
        const images = jobs
          .slice(k * per, (k + 1) * per)
          .map((j) => ({ src: compact(j.src), donor: j.donor && compact(j.donor) }));
        if (images.length === 0) return Promise.resolve([] as Uint8Array[]);
        const id = this.nextId++;
        return new Promise<Uint8Array[]>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          w.postMessage({ id, spec, images } satisfies VariantTask);
        });
      }),
    );
    return parts.flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function compact(im: RawImage): RawImage {
  return { width: im.width, height: im.height, bbox: im.bbox, rgb: im.rgb.slice(), mask: im.mask.slice() };
}

import { parentPort } from 'node:worker_threads';
import type { RawImage } from './ops';
import { applyVariant } from './registry';
import type { VariantSpec } from './variant-spec';

/** Worker-thread side of variant-pool.ts: applies one variant to a batch of images. */
export interface VariantTask {
  id: number;
  spec: VariantSpec;
  images: { src: RawImage; donor?: RawImage }[];
}

parentPort?.on('message', (task: VariantTask) => {
  try {
    const outputs = task.images.map((im) => applyVariant(task.spec, im.src, im.donor));
    parentPort!.postMessage(
      { id: task.id, outputs },
      outputs.map((o) => o.buffer as ArrayBuffer),
    );
  } catch (err) {
    parentPort!.postMessage({ id: task.id, error: (err as Error).message });
  }
});

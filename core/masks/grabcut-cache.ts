import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ArtifactStore } from '../../store/artifact-store';
import { contentKey } from '../../store/keys';
import { sha256Hex } from '../hash';
import { type GrabCutJob, GRABCUT_CODE_VERSION } from './grabcut';
import type { GrabCutPool, GrabCutResult } from './grabcut-pool';

/**
 * Content address of one batch of GrabCut masks: the code version, and per image its pixels' hash, size, boxes
 * and parameters. Datasets that differ only in how they use the masks (use/compare, checks, policy) share it.
 */
export function grabCutBatchKey(jobs: GrabCutJob[]): string {
  return contentKey('masks/grabcut', {
    code: GRABCUT_CODE_VERSION,
    jobs: jobs.map((j) => ({
      rgb: sha256Hex(j.rgb).slice(0, 32),
      width: j.width,
      height: j.height,
      boxes: j.boxes,
      params: j.params,
    })),
  });
}

/** Header JSON (length-prefixed) + the masks back to back, deflated: binary masks shrink ~20x. */
function encode(jobs: GrabCutJob[], results: GrabCutResult[]): Buffer {
  const header = Buffer.from(JSON.stringify({ errors: results.map((r) => r.error ?? null) }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  const masks = results.map((r, i) => r.mask ?? new Uint8Array(jobs[i]!.width * jobs[i]!.height));
  return deflateRawSync(Buffer.concat([len, header, ...masks]));
}

function decode(jobs: { width: number; height: number }[], buf: Buffer): GrabCutResult[] {
  const raw = inflateRawSync(buf);
  const n = raw.readUInt32LE(0);
  const { errors } = JSON.parse(raw.toString('utf8', 4, 4 + n)) as { errors: (string | null)[] };
  let off = 4 + n;
  return jobs.map((j, i) => {
    const len = j.width * j.height;
    const mask = new Uint8Array(raw.subarray(off, off + len));
    off += len;
    const error = errors[i];
    return error ? { error } : { mask };
  });
}

/**
 * GrabCut masks for a batch of images: read from the store when this exact batch was computed before (by this
 * or another dataset), otherwise computed on the pool and written once. Without a store, just computed.
 */
export async function cachedGrabCut(
  store: ArtifactStore | undefined,
  pool: GrabCutPool | (() => GrabCutPool),
  jobs: GrabCutJob[],
): Promise<{ results: GrabCutResult[]; reused: boolean; key?: string }> {
  // a factory: the pool's threads start only when something is left to compute
  const run = () => (typeof pool === 'function' ? pool() : pool).run(jobs);
  if (jobs.length === 0) return { results: [], reused: false };
  if (!store) return { results: await run(), reused: false };
  const key = grabCutBatchKey(jobs);
  if (await store.stat(key)) return { results: decode(jobs, await store.get(key)), reused: true, key };
  const results = await run();
  await store.put(key, encode(jobs, results), { contentType: 'application/octet-stream' });
  return { results, reused: false, key };
}

/** A stored GrabCut batch read back (what a variant generated when read uses); `images` give the sizes. */
export async function readGrabCutBatch(
  store: ArtifactStore,
  key: string,
  images: { width: number; height: number }[],
): Promise<GrabCutResult[]> {
  return decode(images, await store.get(key));
}

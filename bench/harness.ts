/**
 * What the bench scripts share: activities called outside a worker (as a plain loop would call them), and the
 * files a run left in a local store folder.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { TrainEvalActivities } from '../core/contracts';

/** Runs one activity function with a mock activity context: heartbeats go nowhere, cancellation never comes. */
export async function callActivity<R>(fn: () => Promise<R>): Promise<R> {
  return new MockActivityEnvironment().run(fn);
}

/** Every file under `dir`, as paths, sorted (a stable order for hashing). */
export async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** Bytes of every file under `dir`. */
export async function folderBytes(dir: string): Promise<number> {
  let n = 0;
  for (const file of await filesUnder(dir)) n += (await stat(file)).size;
  return n;
}

/**
 * small_cnn trained on one manifest (its train split, validated on its val split) through a store's GPU
 * activities, batch 32, Adam, no augmentation: images/s and a fingerprint of its curves (losses to the last bit)
 * and weights' bytes, equal when two stores fed it the same pixels in the same order.
 */
export async function trainSmallCnn(
  gpu: TrainEvalActivities,
  storeDir: string,
  run: {
    name: string;
    label: string;
    key: string;
    size: number;
    classes: number;
    epochs: number;
    seed: number;
    images: number;
  },
): Promise<{ imgPerS: number; fingerprint: string }> {
  const t0 = performance.now();
  const out = await callActivity(() =>
    gpu.trainModel({
      runId: `${run.name}-${run.seed}`,
      label: run.label,
      modelSpec: { arch: 'small_cnn', inputSize: run.size, numClasses: run.classes, seed: run.seed },
      trainManifestKey: run.key,
      valManifestKey: run.key,
      epochs: run.epochs,
      batch: 32,
      seed: run.seed,
      optimizer: { name: 'adam', learningRate: 0.001 },
      augment: false,
      checkpointEveryBatches: 0,
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const hash = createHash('sha256').update(JSON.stringify(out.curves));
  const weights = path.join(storeDir, out.modelKey);
  for (const f of (await stat(weights)).isDirectory() ? await filesUnder(weights) : [weights])
    hash.update(await readFile(f));
  return { imgPerS: (run.images * run.epochs) / seconds, fingerprint: hash.digest('hex') };
}

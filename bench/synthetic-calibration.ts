/**
 * `npm run bench:synthetic`: does the synthetic dataset behave as STUDY.md needs? Trains the small CNN on a
 * variant of synthetic datasets with different background correlations p and prints val accuracy on each test
 * variant and the BG-Gap, as one markdown row per run (the calibration table in bench/RESULTS.md came from it).
 *
 * Each row also carries the leak check's reading of the same dataset (core/leaks; the best of logistic
 * regression and k-NN on only_bg_t), so the CNN's bg-only accuracy sits next to a non-CNN one.
 * The class-factors sweep (presets/class-factors.json) is this script run once per factor strength, e.g.
 *   --jobs 0:only_bg_t,0:original --src '{"factors":{"shadow":0.9}}'
 *
 * usage: npx tsx bench/synthetic-calibration.ts [--size 32] [--per 300] [--epochs 6]
 *          [--jobs 0.9:original,0:original,0.9:mixed_rand] [--src '{"hueCue":0.4}'] [--backend wasm]
 */
import { configureEngineFromEnv } from '../config/engine';
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import path from 'node:path';
import { checkLeaks } from '../core/leaks/leak-check';
import { describeBackend, initBackend, type BackendName } from '../core/backend/select-backend';
import type { ManifestSplit } from '../core/data/manifest';
import { prepareDataset } from '../core/data/prepare';
import { openSampleSource } from '../core/data/sample-source';
import { buildModel } from '../core/ml/models';
import { materializeVariant } from '../core/variants/materialize';
import { parseVariantArg } from '../core/variants/variant-spec';
import { FsArtifactStore } from '../store/fs-store';
import { arg } from './args';

// The engine settings (BGSTUDY_BACKEND and the like) are read once, here at the edge.
configureEngineFromEnv();

const SIZE = Number(arg('size', '32'));
const PER = Number(arg('per', '300'));
const EPOCHS = Number(arg('epochs', '6'));
const JOBS = arg('jobs', '0.9:original,0:original,0.9:mixed_rand').split(',');
const SRC = JSON.parse(arg('src', '{}')) as Record<string, unknown>;
const TEST = ['original', 'only_fg', 'only_bg_t', 'mixed_same', 'mixed_rand', 'mixed_next'];
const store = new FsArtifactStore(path.join(__dirname, 'out', 'calibration-store'));

async function load(key: string, split: ManifestSplit, classes: number) {
  const src = await openSampleSource(store, key, split);
  const n = src.count();
  const x = new Float32Array(n * SIZE * SIZE * 3);
  const y = new Int32Array(n);
  let i = 0;
  for await (const s of src.iterate()) {
    for (let k = 0; k < s.rgb.length; k++) x[i * s.rgb.length + k] = s.rgb[k]! / 255;
    y[i++] = s.label;
  }
  return { x: tf.tensor4d(x, [n, SIZE, SIZE, 3]), y: tf.oneHot(tf.tensor1d(y, 'int32'), classes), labels: y };
}

async function run(p: number, trainOn: string): Promise<string> {
  const ds = await prepareDataset(
    store,
    {
      source: 'synthetic',
      size: SIZE,
      perClass: { train: PER, val: 100 },
      bgCorrelation: p,
      seed: 1,
      ...SRC,
    },
    { tar: false },
  );
  const K = ds.classes.length;
  // the non-CNN reading of the same data: best leak-check accuracy on only_bg_t (logistic or k-NN, all features)
  const leaks = (await checkLeaks(store, ds.manifestKey, { maxPerClass: 200 })).report;
  const leak = Math.max(
    ...leaks.rows.filter((r) => r.variant === 'only_bg_t' && r.features === 'all').map((r) => r.accuracy),
  );
  const key = async (v: string) =>
    v === 'original'
      ? ds.manifestKey
      : (
          await materializeVariant(store, {
            datasetManifestKey: ds.manifestKey,
            variant: parseVariantArg(v),
            seed: 1,
          })
        ).manifestKey;
  const train = await load(await key(trainOn), 'train', K);
  const model = buildModel({ arch: 'small_cnn', inputSize: SIZE, numClasses: K, seed: 1 });
  model.compile({
    optimizer: tf.train.adam(1e-3),
    loss: (a: tf.Tensor, b: tf.Tensor) => tf.losses.softmaxCrossEntropy(a, b),
  });
  const t0 = Date.now();
  await model.fit(train.x, train.y, { epochs: EPOCHS, batchSize: 32, shuffle: true, verbose: 0 });
  const seconds = (Date.now() - t0) / 1000;
  tf.dispose([train.x, train.y]);
  const acc: Record<string, number> = {};
  for (const v of TEST) {
    const val = await load(await key(v), 'val', K);
    const pred = tf.tidy(() => (model.predict(val.x) as tf.Tensor).argMax(-1)).dataSync();
    let correct = 0;
    for (let i = 0; i < pred.length; i++) if (pred[i] === val.labels[i]) correct++;
    acc[v] = correct / pred.length;
    tf.dispose([val.x, val.y]);
  }
  model.dispose();
  const cells = TEST.map((v) => acc[v]!.toFixed(3));
  return `| ${JSON.stringify(SRC)} | ${p} | ${trainOn} | ${cells.join(' | ')} | ${(acc.mixed_same! - acc.mixed_rand!).toFixed(3)} | ${leak.toFixed(3)} ± ${(2 * leaks.chanceSe).toFixed(3)} | ${seconds.toFixed(0)} s |`;
}

async function main(): Promise<void> {
  const info = await initBackend({
    backend:
      (process.env.BGSTUDY_BACKEND as BackendName | undefined) ?? (arg('backend', 'wasm') as BackendName),
  });
  console.log(
    `backend ${describeBackend(info)}; ${SIZE} px, ${PER} train/class, ${EPOCHS} epochs, Adam 1e-3, batch 32, seed 1`,
  );
  console.log(
    `| generator | p | trained on | ${TEST.join(' | ')} | BG-Gap | leak check only_bg_t (± 2 SE) | train time |`,
  );
  console.log(`|---|---|---|${TEST.map(() => '---').join('|')}|---|---|---|`);
  console.log(
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const job of JOBS) {
    const [p, v] = job.split(':');
    console.log(await run(Number(p), v ?? 'original'));
  }
  console.log(
    `load average at end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

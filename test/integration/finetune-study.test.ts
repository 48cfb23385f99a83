/**
 * A study spec that fine-tunes a tfjs model, through the real Temporal dev server and S3: the model is
 * evaluated as it came and, as a run of its own, after a new head is trained on a variant; the report shows
 * both rows. The fine-tuned row's accuracy is checked against the stored model's own outputs.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { Client } from '@temporalio/client';
import { startStudy } from '../../client/start-study';
import { torchAddonInstalled } from '../../core/backend/torch-addon';
import { openSampleSource } from '../../core/data/sample-source';
import type { PretrainedArtifact } from '../../core/ml/pretrained';
import { preprocessSchema, toModelInput, viewPixels } from '../../core/ml/preprocess';
import type { TrainSummary } from '../../core/ml/results';
import { loadTfjsModel } from '../../core/ml/tfjs-model';
import type { StudyResults } from '../../core/report/results';
import { getJson } from '../../store';
import type { S3ArtifactStore } from '../../store/s3-store';
import { uniqueId } from '../helpers/env';
import { startTestStudyEnv, type TestStudyEnv } from '../helpers/study-env';
import { writeTinyTfjsModel } from '../helpers/tiny-tfjs';

const PREPROCESS = { inputSize: 16, layout: 'NHWC', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };

describe('a study that fine-tunes a pretrained tfjs model', () => {
  let env: TestStudyEnv;
  let client: Client;
  let store: S3ArtifactStore;
  let taskQueue: string;
  let uri: string;

  before(async () => {
    await tf.setBackend('cpu');
    uri = await writeTinyTfjsModel(await mkdtemp(path.join(os.tmpdir(), 'bgstudy-ft-')), 16, 5);
    env = await startTestStudyEnv('ft');
    ({ client, store, taskQueue } = env);
  });
  after(() => env?.stop());

  test('reports the model as it came and fine-tuned, side by side', async () => {
    const spec = {
      version: 1,
      name: uniqueId('finetune'),
      dataset: { source: 'synthetic', classes: 2, perClass: { train: 4, val: 4 }, size: 16, seed: 1 },
      variants: ['original', 'mixed_rand'],
      models: [
        {
          name: 'tiny',
          source: 'tfjs',
          uri,
          preprocess: PREPROCESS,
          // 5 outputs: two name the classes, three belong to none.
          classMap: { '1': 'disk', '3': 'square' },
          finetune: {
            on: ['mixed_rand'],
            epochs: 1,
            batch: 4,
            optimizer: { learningRate: 0.01 },
            checkpointEveryBatches: 1,
          },
        },
      ],
      evaluate: { pairingRepeats: 1 },
    };
    const start = () =>
      startStudy(client, spec, { taskQueue, workflowOptions: { gpuTaskQueue: `${taskQueue}-gpu` } });
    const result = await (await start()).result();
    assert.equal(result.status, 'completed');
    assert.equal(result.runs, 2);
    const results = await getJson<StudyResults>(store, result.resultsKey!);
    const pre = results.rows.find((r) => r.trainVariant === 'pretrained')!;
    const ft = results.rows.find((r) => r.arch === 'tiny-ft')!;
    assert.equal(pre.arch, 'tiny');
    assert.equal(pre.curves.length, 0);
    assert.equal(ft.trainVariant, 'mixed_rand');
    assert.equal(ft.label, 'tiny-ft-mixed_rand (seed 1)');
    assert.equal(ft.curves.length, 1);
    assert.match(ft.modelKey, /^runs\/[^/]+\/final\/pretrained\.json$/);
    assert.deepEqual(Object.keys(ft.accuracy).sort(), ['mixed_rand', 'original']);
    // The pretrained row keeps its 3rd "none of the classes" column; the new head has exactly the 2 classes.
    assert.equal(pre.confusion.original![0]!.length, 3);
    assert.equal(ft.confusion.original![0]!.length, 2);

    const desc = await getJson<PretrainedArtifact>(store, ft.modelKey);
    assert.equal(desc.finetunedFrom, pre.modelKey);
    const summary = await getJson<TrainSummary>(
      store,
      ft.modelKey.replace(/final\/pretrained\.json$/, 'train.json'),
    );
    assert.equal(summary.modelSpec.arch, 'finetune');
    assert.equal(summary.batchesTotal, 2);
    // Where the worker's engine is libtorch (the default where setup built it), fine-tuning still runs on tfjs
    // and its result says so; elsewhere it names the tfjs backend alone.
    if (torchAddonInstalled() && !process.env.BGSTUDY_BACKEND)
      assert.match(
        summary.backend.name,
        /^\S+.* \(fine-tuning runs on tfjs: the libtorch engine builds only /,
      );
    else assert.doesNotMatch(summary.backend.name, /libtorch/);

    // Independent check of one cell: the stored fine-tuned files, run directly, argmax per image.
    const variant = results.variants.find((v) => v.label === 'original')!;
    const source = await openSampleSource(store, variant.manifestKey!, 'val');
    const pp = preprocessSchema.parse(PREPROCESS);
    const raw = await loadTfjsModel(await store.get(desc.modelFile), (p) => store.get(desc.weightFiles[p]!));
    let correct = 0;
    let n = 0;
    for await (const s of source.iterate()) {
      const { data } = await raw.run(toModelInput(viewPixels(s, pp), 1, pp), [1, 16, 16, 3]);
      assert.equal(data.length, 2);
      if ((data[1]! > data[0]! ? 1 : 0) === s.label) correct++;
      n++;
    }
    await raw.dispose();
    assert.equal(n, 8);
    assert.equal(ft.accuracy.original, correct / n);

    const md = (await store.get(result.reportKey!)).toString('utf8');
    assert.match(md, /\| tiny \| pretrained \|/);
    assert.match(md, /\| tiny-ft \| mixed_rand \|/);

    // The same spec again: the fine-tune is found in the store, not trained again.
    const again = await (await start()).result();
    const rows2 = (await getJson<StudyResults>(store, again.resultsKey!)).rows;
    const ft2 = rows2.find((r) => r.arch === 'tiny-ft')!;
    assert.equal(ft2.modelKey, ft.modelKey);
    assert.deepEqual(ft2.accuracy, ft.accuracy);
  });
});

/**
 * The slides' "highly correlated class" experiment end to end, through the real Temporal dev server and S3: a
 * model trained with a context head (the background family) and its twin without one; the report pairs them.
 * The paired numbers are checked against the stored class model run directly on the test images.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { Client } from '@temporalio/client';
import { startStudy } from '../../client/start-study';
import { torchAddonInstalled } from '../../core/backend/torch-addon';
import { openSampleSource } from '../../core/data/sample-source';
import { BG_FAMILIES } from '../../core/data/synthetic-backgrounds';
import { loadModel } from '../../core/ml/model-artifact';
import { samplePixels } from '../../core/ml/pixels';
import type { TrainSummary } from '../../core/ml/results';
import type { StudyResults } from '../../core/report/results';
import { getJson } from '../../store';
import type { S3ArtifactStore } from '../../store/s3-store';
import { uniqueId } from '../helpers/env';
import { startTestStudyEnv, type TestStudyEnv } from '../helpers/study-env';

describe('a study with a context head', () => {
  let env: TestStudyEnv;
  let client: Client;
  let store: S3ArtifactStore;
  let taskQueue: string;

  before(async () => {
    await tf.setBackend('cpu');
    env = await startTestStudyEnv('ctx');
    ({ client, store, taskQueue } = env);
  });
  after(() => env?.stop());

  test('completes, trains the head beside the class, and reports the run beside its twin', async () => {
    const entry = { model: 'small_cnn', on: ['original'], epochs: 2, batch: 6, seed: 1 };
    const spec = {
      version: 1,
      name: uniqueId('ctx'),
      dataset: {
        source: 'synthetic',
        classes: 3,
        perClass: { train: 12, val: 8 },
        size: 16,
        bgCorrelation: 0.9,
        seed: 1,
      },
      variants: ['original', 'mixed_same', 'mixed_rand'],
      train: [entry, { ...entry, context: { label: 'background' } }],
      evaluate: { pairingRepeats: 1 },
    };
    const start = () =>
      startStudy(client, spec, { taskQueue, workflowOptions: { gpuTaskQueue: `${taskQueue}-gpu` } });
    const result = await (await start()).result();
    assert.equal(result.status, 'completed');
    assert.equal(result.runs, 2);
    const results = await getJson<StudyResults>(store, result.resultsKey!);
    const withHead = results.rows.find((r) => r.context)!;
    const twin = results.rows.find((r) => !r.context)!;
    assert.deepEqual(withHead.context, { label: 'background', weight: 1 });
    assert.notEqual(
      withHead.modelKey,
      twin.modelKey,
      'a run with a head never shares stored results with one without',
    );

    // train.json: the head's labels are the background families, and its accuracy is on the curves
    const summary = await getJson<TrainSummary>(
      store,
      withHead.modelKey.replace(/final\/model\.json$/, 'train.json'),
    );
    assert.deepEqual(summary.context, {
      label: 'background',
      weight: 1,
      names: BG_FAMILIES.map((f) => f.name),
    });
    assert.equal(summary.curves.length, 2);
    assert.ok(summary.curves.every((c) => c.trainContextAcc! >= 0 && c.trainContextAcc! <= 1));
    const twinSummary = await getJson<TrainSummary>(
      store,
      twin.modelKey.replace(/final\/model\.json$/, 'train.json'),
    );
    assert.equal(twinSummary.context, undefined);
    const onTorch = torchAddonInstalled() && !process.env.BGSTUDY_BACKEND;
    if (onTorch)
      assert.match(
        summary.backend.name,
        /\(a context head trains on tfjs: the libtorch engine builds no second head\)$/,
      );

    // the stored model is the class model alone: loading it into the spec's plain architecture refuses any
    // extra weight array (writeWeights checks names, shapes and count)
    const { artifact, model } = await loadModel(store, withHead.modelKey);
    assert.equal(artifact.modelSpec.numClasses, 3);

    // the paired section, from results.json
    assert.equal(results.contextPairs?.length, 1);
    const pair = results.contextPairs[0]!;
    assert.equal(pair.withRunId, withHead.runId);
    assert.equal(pair.withoutRunId, twin.runId);
    assert.equal(pair.mixedRand.with, withHead.accuracy.mixed_rand);
    assert.equal(pair.mixedRand.without, twin.accuracy.mixed_rand);
    assert.ok(Math.abs(pair.bgGap.with! - withHead.bgGap!) < 1e-12);
    assert.ok(Math.abs(pair.bgGap.without! - twin.bgGap!) < 1e-12);
    assert.ok(
      Math.abs(pair.mixedRand.difference! - (withHead.accuracy.mixed_rand! - twin.accuracy.mixed_rand!)) <
        1e-12,
    );
    for (const n of [pair.bgGap, pair.mixedRand]) {
      assert.equal(n.differenceInterval?.n, 24, 'paired over the 24 test images');
      assert.ok(n.differenceInterval.lo <= n.difference! && n.difference! <= n.differenceInterval.hi);
    }

    // independently: the stored class model run on the mixed_rand test images (at most one image apart: the
    // worker's engine may differ from this process's tfjs cpu in the last bits of a near tie)
    const variant = results.variants.find((v) => v.label === 'mixed_rand')!;
    const source = await openSampleSource(store, variant.manifestKey!, 'val');
    let correct = 0;
    let n = 0;
    for await (const s of source.iterate()) {
      const logits = tf.tidy(() =>
        (model.predict(tf.tensor4d(samplePixels(s, 16), [1, 16, 16, 3])) as tf.Tensor).dataSync(),
      );
      if (logits.indexOf(Math.max(...logits)) === s.label) correct++;
      n++;
    }
    model.dispose();
    assert.equal(n, 24);
    assert.ok(
      Math.abs(correct / n - pair.mixedRand.with) <= 1 / n + 1e-12,
      `${correct}/${n} vs ${pair.mixedRand.with}`,
    );

    const md = (await store.get(result.reportKey!)).toString('utf8');
    assert.match(md, /## Context head \(the slides' "highly correlated class"\)/);
    assert.match(md, /\| small_cnn \| original \| background ×1 \| 1 \| /);
    assert.match(md, /\| small_cnn \+ context background \| original \| 1 \|/);
    // on libtorch the twin trains there and the head on tfjs: the section says the engines differ
    assert.equal(/Engines differ in 1 of 1 pair/.test(md), onTorch);
    const html = (await store.get(result.htmlKey!)).toString('utf8');
    assert.match(html, /<section id="context"><h2>Context head: highly correlated class<\/h2>/);
    assert.equal(
      (html.match(/<table id="context-pairs">[\s\S]*?<\/table>/)?.[0].match(/<tr>/g) ?? []).length,
      2,
    );

    // the same spec again: both runs are found in the store, not trained again
    const again = await (await start()).result();
    const rows2 = (await getJson<StudyResults>(store, again.resultsKey!)).rows;
    assert.deepEqual(rows2.map((r) => r.modelKey).sort(), [withHead.modelKey, twin.modelKey].sort());
  });
});

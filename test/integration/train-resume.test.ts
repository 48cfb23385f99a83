import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createEvaluateActivities } from '../../activities/evaluate';
import { createTrainActivities, type TrainModelInput } from '../../activities/train';
import { prepareDataset } from '../../core/data/prepare';
import { InProcessTrainer } from '../../core/ml/in-process-trainer';
import type { ModelSpec } from '../../core/ml/model-spec';
import type { ChallengeResult, SaliencyResult, TrainSummary, VariantEvaluation } from '../../core/ml/results';
import type { Batch, OptimizerSpec, StepTrainer } from '../../core/ml/trainer';
import { materializeVariant } from '../../core/variants/materialize';
import { getJson } from '../../store/json';
import { S3ArtifactStore } from '../../store/s3-store';
import { testServices, uniqueId } from '../helpers/env';

/** A trainer that dies in its n-th step, as a killed worker would (the step's update never lands). */
class DyingTrainer implements StepTrainer {
  steps = 0;
  constructor(
    private readonly inner: StepTrainer,
    private readonly dieAt: number,
  ) {}
  get modelSpec() {
    return this.inner.modelSpec;
  }
  get backend() {
    return this.inner.backend;
  }
  async trainStep(b: Batch) {
    if (++this.steps === this.dieAt) throw new Error('worker killed');
    return this.inner.trainStep(b);
  }
  predict(x: Float32Array, n: number) {
    return this.inner.predict(x, n);
  }
  getState() {
    return this.inner.getState();
  }
  setState(s: Parameters<StepTrainer['setState']>[0]) {
    return this.inner.setState(s);
  }
  dispose() {
    return this.inner.dispose();
  }
}

describe('training through the activity: crash, resume from S3 checkpoints, evaluate', () => {
  const services = testServices();
  const storeAt = (prefix: string) => new S3ArtifactStore({ ...services.s3, prefix });
  const store = storeAt(uniqueId('train'));
  const model: ModelSpec = { arch: 'small_cnn', inputSize: 16, numClasses: 3, seed: 7 };
  let input: TrainModelInput;
  let originalKey: string;
  let bgKey: string;

  before(async () => {
    await tf.setBackend('cpu');
    const ds = await prepareDataset(
      store,
      {
        source: 'synthetic',
        classes: 3,
        perClass: { train: 16, val: 6 },
        size: 16,
        bgCorrelation: 0.9,
        seed: 3,
      },
      { tar: false },
    );
    originalKey = ds.manifestKey;
    bgKey = (
      await materializeVariant(store, { datasetManifestKey: originalKey, variant: { name: 'only_bg_t' } })
    ).manifestKey;
    input = {
      model,
      train: { manifestKey: originalKey, split: 'train' },
      val: { manifestKey: originalKey, split: 'val' },
      trainVariant: 'original',
      // 48 images at batch 8: 6 steps per epoch, 12 in all; a checkpoint every 2 steps and at epoch ends.
      config: {
        epochs: 2,
        batchSize: 8,
        seed: 5,
        optimizer: { name: 'adam', learningRate: 0.01 },
        augment: { shift: 2, flip: true },
        checkpointEvery: 2,
      },
    };
  });
  after(() => store.close());

  test('a run killed in step 8 resumes from the newest checkpoint, redoes at most one interval and ends like an uninterrupted run', async () => {
    const dying: DyingTrainer[] = [];
    const makeDying = (dieAt: number) => (m: ModelSpec, o: OptimizerSpec) => {
      const t = new DyingTrainer(new InProcessTrainer(m, o), dieAt);
      dying.push(t);
      return t;
    };
    await assert.rejects(
      createTrainActivities({ store, makeTrainer: makeDying(8) }).trainModel(input),
      /worker killed/,
    );
    const run = (await store.list('runs/')).find((k) => k.includes('/ckpt/'))!.split('/ckpt/')[0]!;
    const ckpts = (await store.list(`${run}/ckpt/`)).filter((k) => k.endsWith('checkpoint.json'));
    // Steps 1-7 ran: checkpoints after steps 2, 4, 6 (= epoch end) ; only the newest two are kept.
    assert.deepEqual(
      ckpts.map((k) => k.split('/').at(-2)),
      ['0000-000004', '0001-000000'],
    );

    const second = await createTrainActivities({ store, makeTrainer: makeDying(0) }).trainModel(input);
    assert.equal(second.resumedFrom, '1-0');
    assert.equal(second.stepsRun, 6);
    const redone = dying[0]!.steps - 1 + second.stepsRun - 12;
    assert.ok(redone >= 0 && redone <= 2, `redid ${redone} steps (interval 2)`);
    assert.equal(second.epochs, 2);

    // The same run without a crash, in another store.
    const clean = storeAt(uniqueId('train-clean'));
    const ds = await prepareDataset(
      clean,
      {
        source: 'synthetic',
        classes: 3,
        perClass: { train: 16, val: 6 },
        size: 16,
        bgCorrelation: 0.9,
        seed: 3,
      },
      { tar: false },
    );
    assert.equal(ds.manifestKey, originalKey);
    const uninterrupted = await createTrainActivities({ store: clean }).trainModel(input);
    assert.equal(uninterrupted.runKey, second.runKey);
    assert.equal(uninterrupted.stepsRun, 12);
    const [a, b] = await Promise.all([
      getJson<TrainSummary>(store, second.summaryKey),
      getJson<TrainSummary>(clean, uninterrupted.summaryKey),
    ]);
    assert.deepEqual(a.curves, b.curves);
    assert.equal(a.curves.length, 2);
    assert.equal(a.backend.name, 'cpu');
    assert.ok(a.backend.versions['tfjs-core']);
    const wa = await store.get(`${second.runKey}/final/weights.bin`);
    const wb = await clean.get(`${uninterrupted.runKey}/final/weights.bin`);
    assert.ok(wa.length > 20_000 && wa.equals(wb), 'final weights are byte-identical');
    await clean.close();

    // A finished run returns at once.
    const again = await createTrainActivities({ store, makeTrainer: makeDying(1) }).trainModel(input);
    assert.equal(again.reused, true);
    assert.equal(again.modelKey, second.modelKey);
  });

  test('evaluation, the backgrounds challenge and saliency write complete results to S3', async () => {
    const { modelKey } = await createTrainActivities({ store }).trainModel(input);
    const ev = createEvaluateActivities({ store });
    const acc = await ev.evaluateModel({
      modelKey,
      variant: 'original',
      data: { manifestKey: originalKey, split: 'val' },
      batchSize: 8,
    });
    const doc = await getJson<VariantEvaluation>(store, acc.key);
    assert.equal(doc.n, 18);
    assert.equal(
      doc.confusion.flat().reduce((x, y) => x + y, 0),
      18,
    );
    assert.equal(doc.perClass.reduce((s, c) => s + c.correct, 0) / 18, doc.accuracy);
    assert.equal(acc.value, doc.accuracy);
    assert.deepEqual(doc.classes.length, 3);
    assert.equal(
      (
        await ev.evaluateModel({
          modelKey,
          variant: 'original',
          data: { manifestKey: originalKey, split: 'val' },
        })
      ).reused,
      true,
    );

    const ch = await ev.runChallenge({
      modelKey,
      foregrounds: { manifestKey: originalKey, split: 'val' },
      backgrounds: { manifestKey: bgKey, split: 'val' },
      maxBackgrounds: 10,
      batchSize: 4,
    });
    const chDoc = await getJson<ChallengeResult>(store, ch.key);
    assert.equal(chDoc.backgrounds, 10);
    assert.equal(chDoc.foregrounds + chDoc.skipped.length, 18);
    assert.equal(chDoc.adversarialAccuracy, 1 - chDoc.vulnerable / chDoc.foregrounds);
    // Stopping at the first miss: a vulnerable foreground costs at most 10 evaluations, a robust one exactly 10.
    assert.ok(chDoc.evaluations >= (chDoc.foregrounds - chDoc.vulnerable) * 10 + chDoc.vulnerable);
    assert.ok(chDoc.evaluations <= chDoc.foregrounds * 10);

    const sal = await ev.computeSaliency({
      modelKey,
      variant: 'original',
      data: { manifestKey: originalKey, split: 'val' },
      perClass: 2,
    });

    const salDoc = await getJson<SaliencyResult>(store, sal.key);
    assert.equal(salDoc.items.length, 6);
    // Maps are scaled to a maximum of 255; an all-zero map (a class score flat in the input: dead ReLUs after this
    // tiny run, checked by finite differences when written) has no share. The share itself is unit-tested.
    for (const i of salDoc.items) {
      assert.equal(i.map.length, 256);
      const max = Math.max(...i.map);
      assert.ok(
        max === 255 ? i.share !== null && i.share >= 0 && i.share <= 1 : max === 0 && i.share === null,
        JSON.stringify(i.share),
      );
    }
    assert.ok(salDoc.items.some((i) => i.share !== null));
    assert.equal(sal.value, salDoc.meanShare);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createEvaluateActivities } from '../../activities/evaluate';
import { createTrainActivities } from '../../activities/train';
import type { TrainRunInput } from '../../core/contracts';
import { prepareDataset } from '../../core/data/prepare';
import { InProcessTrainer } from '../../core/ml/in-process-trainer';
import type { ModelSpec } from '../../core/ml/model-spec';
import type { ChallengeResult, SaliencyResult, TrainSummary, VariantEvaluation } from '../../core/ml/results';
import type { Batch, OptimizerSpec, StepTrainer } from '../../core/ml/trainer';
import { materializeVariant } from '../../core/variants/materialize';
import { getJson } from '../../store/json';
import sharp from 'sharp';
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
  let input: TrainRunInput;
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
      runId: 'test-run',
      label: 'small_cnn on original',
      modelSpec: model,
      trainManifestKey: originalKey,
      valManifestKey: originalKey,
      // 48 images at batch 8: 6 steps per epoch, 12 in all; a checkpoint every 2 steps and at epoch ends.
      epochs: 2,
      batch: 8,
      seed: 5,
      optimizer: { name: 'adam', learningRate: 0.003 },
      augment: true,
      checkpointEveryBatches: 2,
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
    assert.deepEqual(second.resumedFrom, { epoch: 1, batch: 0 });
    assert.equal(second.batchesTrainedThisAttempt, 6);
    assert.equal(second.batchesTotal, 12);
    const redone = dying[0]!.steps - 1 + second.batchesTrainedThisAttempt - second.batchesTotal;
    assert.ok(redone >= 0 && redone <= 2, `redid ${redone} steps (interval 2)`);
    assert.equal(second.curves.length, 2);
    assert.equal(second.backend, 'cpu');

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
    assert.equal(uninterrupted.modelKey, second.modelKey, 'same content-addressed run');
    assert.equal(uninterrupted.batchesTrainedThisAttempt, 12);
    assert.deepEqual(second.curves, uninterrupted.curves);
    const runFolder = second.modelKey.replace(/\/final\/model\.json$/, '');
    const [a, b] = await Promise.all([
      getJson<TrainSummary>(store, `${runFolder}/train.json`),
      getJson<TrainSummary>(clean, `${runFolder}/train.json`),
    ]);
    assert.deepEqual(a.curves, b.curves);
    assert.equal(a.backend.name, 'cpu');
    assert.ok(a.backend.versions['tfjs-core']);
    assert.equal(a.label, input.label);
    const wa = await store.get(`${runFolder}/final/weights.bin`);
    const wb = await clean.get(`${runFolder}/final/weights.bin`);
    assert.ok(wa.length > 20_000 && wa.equals(wb), 'final weights are byte-identical');
    await clean.close();

    // A finished run returns at once.
    const again = await createTrainActivities({ store, makeTrainer: makeDying(1) }).trainModel(input);
    assert.equal(again.reused, true);
    assert.equal(again.modelKey, second.modelKey);
    assert.deepEqual(again.curves, second.curves);
  });

  test('evaluation, the backgrounds challenge and saliency write complete results to S3', async () => {
    const { modelKey } = await createTrainActivities({ store }).trainModel(input);
    const ev = createEvaluateActivities({ store });
    const acc = await ev.evaluateModel({
      modelKey,
      modelSpec: model,
      manifestKey: originalKey,
      variantId: 'original',
    });
    const doc = await getJson<VariantEvaluation>(store, acc.resultKey);
    assert.equal(doc.n, 18);
    assert.equal(acc.n, 18);
    assert.equal(
      doc.confusion.flat().reduce((x, y) => x + y, 0),
      18,
    );
    assert.deepEqual(acc.confusion, doc.confusion);
    assert.equal(doc.perClass.reduce((s, c) => s + c.correct, 0) / 18, doc.accuracy);
    assert.deepEqual(
      acc.perClassAccuracy,
      doc.perClass.map((c) => c.accuracy),
    );
    assert.equal(acc.accuracy, doc.accuracy);
    assert.equal(doc.classes.length, 3);
    await assert.rejects(
      ev.evaluateModel({
        modelKey,
        modelSpec: { ...model, seed: 8 },
        manifestKey: originalKey,
        variantId: 'original2',
      }),
      /SpecValidationError|holds/,
    );

    // One activity over several test variants: the same numbers and result file as one evaluateModel each.
    const many = await ev.evaluateModelOn({
      modelKey,
      modelSpec: model,
      variants: [
        { manifestKey: originalKey, variantId: 'original' },
        { manifestKey: bgKey, variantId: 'bg-batched' },
      ],
    });
    assert.deepEqual(many[0], acc, 'a stored result is read back, not recomputed differently');
    const single = await ev.evaluateModel({
      modelKey,
      modelSpec: model,
      manifestKey: bgKey,
      variantId: 'bg-single',
    });
    const { resultKey: _a, variantId: _b, ...batchedNumbers } = many[1]!;
    const { resultKey: _c, variantId: _d, ...singleNumbers } = single;
    assert.deepEqual(batchedNumbers, singleNumbers);
    assert.equal((await getJson<VariantEvaluation>(store, many[1]!.resultKey)).variant, 'bg-batched');

    const ch = await ev.runChallenge({
      modelKey,
      modelSpec: model,
      foregroundManifestKey: originalKey,
      backgroundManifestKey: bgKey,
      backgrounds: 10,
      foregrounds: 12,
    });
    const chDoc = await getJson<ChallengeResult>(store, ch.resultKey);
    assert.equal(chDoc.backgrounds, 10);
    assert.equal(ch.backgrounds, 10);
    assert.equal(chDoc.foregrounds + chDoc.skipped.length, 12);
    assert.equal(chDoc.adversarialAccuracy, 1 - chDoc.vulnerable / chDoc.foregrounds);
    assert.equal(ch.cleanAccuracy, chDoc.cleanAccuracy);
    assert.ok(chDoc.cleanAccuracy >= 0 && chDoc.cleanAccuracy <= 1);
    assert.deepEqual(
      chDoc.perClass.map((c) => c.foregrounds),
      [4, 4, 4],
      'foregrounds spread over every class',
    );
    // Own image + stopping at the first miss: a robust foreground costs 1 + 10 evaluations, a vulnerable one less.
    assert.ok(chDoc.evaluations >= (chDoc.foregrounds - chDoc.vulnerable) * 11 + chDoc.vulnerable * 2);
    assert.ok(chDoc.evaluations <= chDoc.foregrounds * 11);

    const sal = await ev.computeSaliency({
      modelKey,
      modelSpec: model,
      manifestKey: originalKey,
      variantId: 'original',
      samples: 5,
    });
    const salDoc = await getJson<SaliencyResult>(store, sal.resultKey);
    assert.deepEqual(
      salDoc.items.map((i) => i.label),
      [0, 1, 2, 0, 1],
    );
    // Maps are scaled to a maximum of 255; an all-zero map (a class score flat in the input) has no share.
    for (const i of salDoc.items) {
      assert.equal(i.map.length, 256);
      const max = Math.max(...i.map);
      assert.ok(
        max === 255 ? i.share !== null && i.share >= 0 && i.share <= 1 : max === 0 && i.share === null,
      );
    }
    assert.ok(salDoc.items.some((i) => i.share !== null));
    assert.equal(sal.foregroundShare, salDoc.meanShare);
    const png = await store.get(sal.gridKey);
    const meta = await sharp(png).metadata();
    // 16px at scale 6 = 96px cells, 4 pairs per row, 2 rows, 4px gaps.
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 8 * 96 + 9 * 4, 2 * 96 + 3 * 4]);

    // One activity over several variants: the stored one read back, the other the same maps and grid as alone.
    const salMany = await ev.computeSaliencyOn({
      modelKey,
      modelSpec: model,
      samples: 5,
      variants: [
        { manifestKey: originalKey, variantId: 'original' },
        { manifestKey: bgKey, variantId: 'bg-batched' },
      ],
    });
    assert.deepEqual(salMany[0], sal, 'a stored saliency result is read back');
    const salSingle = await ev.computeSaliency({
      modelKey,
      modelSpec: model,
      manifestKey: bgKey,
      variantId: 'bg-single',
      samples: 5,
    });
    const batchedDoc = await getJson<SaliencyResult>(store, salMany[1]!.resultKey);
    const singleDoc = await getJson<SaliencyResult>(store, salSingle.resultKey);
    assert.equal(batchedDoc.variant, 'bg-batched');
    assert.deepEqual(
      batchedDoc.items.map((i) => [i.label, i.share, i.map]),
      singleDoc.items.map((i) => [i.label, i.share, i.map]),
    );
    assert.equal(salMany[1]!.foregroundShare, salSingle.foregroundShare);
    assert.deepEqual(await store.get(salMany[1]!.gridKey), await store.get(salSingle.gridKey));
  });
});

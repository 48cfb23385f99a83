import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createEvaluateActivities } from '../../activities/evaluate';
import { createTrainActivities, type OpenSource } from '../../activities/train';
import type { FinetuneRunInput } from '../../core/contracts';
import { SpecValidationError } from '../../common/errors';
import type { SampleSource } from '../../core/data/sample';
import { loadFinetuneBase, prepareFinetuneModel } from '../../core/ml/finetune';
import { InProcessTrainer, readWeights } from '../../core/ml/in-process-trainer';
import type { FinetuneModelSpec } from '../../core/ml/model-spec';
import { importPretrained, ModelInputError, type PretrainedArtifact } from '../../core/ml/pretrained';
import { loadTfjsLayersModel } from '../../core/ml/tfjs-model';
import { preprocessSchema } from '../../core/ml/preprocess';
import type { TrainSummary } from '../../core/ml/results';
import { train, type TrainCheckpoint, type TrainConfig } from '../../core/ml/train';
import type { TrainerState } from '../../core/ml/trainer';
import { getJson } from '../../store/json';
import { FsArtifactStore } from '../../store/fs-store';
import { memorySource, toySamples } from '../helpers/memory-source';
import { writeTinyTfjsModel } from '../helpers/tiny-tfjs';

const SIZE = 8;
const PP = preprocessSchema.parse({
  inputSize: SIZE,
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
  layout: 'NHWC',
});
const CLASSES = ['a', 'b'];
const trainSrc = () => memorySource(toySamples(16, SIZE, 2, 1, 't'), CLASSES);
const valSrc = () => memorySource(toySamples(6, SIZE, 2, 2, 'v'), CLASSES);

/** A store holding the tiny model (5 outputs) imported as a pretrained tfjs model. */
async function imported(): Promise<{ store: FsArtifactStore; key: string; artifact: PretrainedArtifact }> {
  await tf.setBackend('cpu');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-ft-'));
  const uri = await writeTinyTfjsModel(path.join(dir, 'model'), SIZE, 5);
  const store = new FsArtifactStore(path.join(dir, 'store'));
  const { key, artifact } = await importPretrained(store, {
    name: 'tiny',
    source: 'tfjs',
    uri,
    preprocess: PP,
    classMap: { '0': 'a', '3': 'b' },
  });
  return { store, key, artifact };
}

function bytesOf(w: TrainerState['weights'][number]): Buffer {
  return Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength);
}

async function trainerFor(
  store: FsArtifactStore,
  key: string,
  a: PretrainedArtifact,
  trainable: 'all' | 'head',
): Promise<InProcessTrainer> {
  const spec: FinetuneModelSpec = {
    arch: 'finetune',
    base: key,
    sha256: a.sha256,
    inputSize: SIZE,
    numClasses: 2,
    head: 'replace',
    trainable,
    seed: 5,
  };
  const { model } = prepareFinetuneModel(await loadFinetuneBase(store, a), spec);
  return new InProcessTrainer(
    spec,
    { name: 'adam', learningRate: 0.02 },
    { model, preprocess: PP, trainingMode: trainable === 'all' },
  );
}

const CONFIG: TrainConfig = {
  epochs: 4,
  batchSize: 8,
  seed: 3,
  optimizer: { name: 'adam', learningRate: 0.02 },
  augment: null,
  checkpointEvery: 1,
};

void test("a new head replaces the last Dense; 'head' trains only it, 'all' trains every weight; the loss falls", async () => {
  const { store, key, artifact } = await imported();
  for (const trainable of ['head', 'all'] as const) {
    const tensors = tf.memory().numTensors;
    const t = await trainerFor(store, key, artifact, trainable);
    assert.deepEqual(t.model.outputs[0]!.shape, [null, 2]);
    const before = await readWeights(t.model);
    // The old head ('logits') is gone, the new one is there.
    assert.deepEqual(before.map((w) => w.name).sort(), [
      'bn/beta',
      'bn/gamma',
      'bn/moving_mean',
      'bn/moving_variance',
      'conv/bias',
      'conv/kernel',
      'finetune_head/bias',
      'finetune_head/kernel',
      'hidden/bias',
      'hidden/kernel',
    ]);
    const losses: number[] = [];
    const out = await train(t, { train: trainSrc(), val: valSrc() }, CONFIG, {
      onBatch: (p) => void losses.push(p.loss),
    });
    const after = await readWeights(t.model);
    for (const [i, w] of after.entries()) {
      const same = bytesOf(w).equals(bytesOf(before[i]!));
      const isHead = w.name.startsWith('finetune_head/');
      if (trainable === 'head')
        assert.equal(same, !isHead, `${trainable}: ${w.name} ${same ? 'unchanged' : 'changed'}`);
      else assert.equal(same, false, `${trainable}: ${w.name} unchanged`);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.equal(losses.length, 8);
    assert.ok(mean(losses.slice(-2)) < mean(losses.slice(0, 2)), `${trainable}: losses ${losses.join(', ')}`);
    assert.ok(out.curves.at(-1)!.trainLoss < out.curves[0]!.trainLoss);
    await t.dispose();
    assert.equal(tf.memory().numTensors, tensors, 'disposing the trainer frees the model, old head included');
  }
});

void test('a fine-tune resumed from a mid-epoch checkpoint, in a fresh model, ends byte-identical', async () => {
  const { store, key, artifact } = await imported();
  const data = () => ({ train: trainSrc(), val: valSrc() });
  const checkpoints: TrainCheckpoint[] = [];
  const a = await trainerFor(store, key, artifact, 'all');
  const full = await train(a, data(), CONFIG, { saveCheckpoint: async (c) => void checkpoints.push(c) });
  const want = await a.getState();
  await a.dispose();
  const mid = checkpoints.find((c) => c.cursor.epoch === 2 && c.cursor.batch === 1)!;
  assert.ok(mid, 'a checkpoint inside epoch 2');
  const b = await trainerFor(store, key, artifact, 'all');
  const resumed = await train(b, data(), CONFIG, { resume: mid });
  const got = await b.getState();
  await b.dispose();
  assert.equal(resumed.stepsRun, 3);
  assert.deepEqual(resumed.curves, full.curves);
  const flat = (s: TrainerState) => Buffer.concat([...s.weights, ...s.optimizer].map(bytesOf));
  assert.ok(flat(got).equals(flat(want)), 'weights and optimizer state byte-identical');
});

void test('finetuneModel: crash mid-epoch, rerun resumes from the store, same bytes; evaluated like an imported model', async () => {
  const { store, key } = await imported();
  const input: FinetuneRunInput = {
    runId: 'ft',
    label: 'tiny-ft-original (seed 1)',
    baseModelKey: key,
    trainManifestKey: 'm/train',
    valManifestKey: 'm/val',
    epochs: 2,
    batch: 8,
    optimizer: { name: 'adam', learningRate: 0.02 },
    augment: true,
    seed: 1,
    checkpointEveryBatches: 1,
    head: 'replace',
    trainable: 'all',
  };
  let crash = true;
  let iterations = 0;
  /** A train source whose second pass (epoch 1) dies after one batch and a half, as a killed worker would. */
  const dying = (src: SampleSource): SampleSource => ({
    ...src,
    async *iterate(o) {
      const pass = ++iterations;
      let n = 0;
      for await (const s of src.iterate(o)) {
        if (crash && pass === 2 && ++n > 12) throw new Error('worker killed');
        yield s;
      }
    },
  });
  const openSource: OpenSource = async (_s, k, split) =>
    split === 'train' ? dying(trainSrc()) : k === 'm/val' ? valSrc() : trainSrc();
  const acts = createTrainActivities({ store, openSource });
  await assert.rejects(acts.finetuneModel(input), /worker killed/);
  crash = false;
  const out = await acts.finetuneModel(input);
  assert.deepEqual(out.resumedFrom, { epoch: 1, batch: 1 });
  assert.equal(out.batchesTrainedThisAttempt, 1);
  assert.equal(out.batchesTotal, 4);

  // The same run in a clean store, uninterrupted.
  const clean = await imported();
  assert.equal(clean.key, key, 'the descriptor key is a content hash');
  const whole = await createTrainActivities({ store: clean.store, openSource }).finetuneModel(input);
  assert.equal(whole.modelKey, out.modelKey);
  const desc = await getJson<PretrainedArtifact>(store, out.modelKey);
  assert.deepEqual(
    await store.get(desc.weightFiles['weights.bin']!),
    await clean.store.get(desc.weightFiles['weights.bin']!),
  );
  assert.deepEqual(whole.curves, out.curves);
  assert.equal(desc.classMap, 'identity');
  assert.equal(desc.finetunedFrom, key);

  const summary = await getJson<TrainSummary>(
    store,
    out.modelKey.replace(/final\/pretrained\.json$/, 'train.json'),
  );
  assert.equal(summary.modelSpec.arch, 'finetune');
  const again = await acts.finetuneModel(input);
  assert.equal(again.reused, true);

  // Evaluated through the imported-model path: the stored model gives the accuracy training measured.
  const ev = await createEvaluateActivities({ store, openSource }).evaluateModel({
    modelKey: out.modelKey,
    manifestKey: 'm/val',
    variantId: 'original',
  });
  assert.equal(ev.n, 6);
  assert.equal(ev.accuracy, out.curves.at(-1)!.valAcc);
});

void test('what cannot be fine-tuned fails by name', async () => {
  const { store, key } = await imported();
  const openSource: OpenSource = async (_s, _k, split) => (split === 'train' ? trainSrc() : valSrc());
  const acts = createTrainActivities({ store, openSource });
  const input: FinetuneRunInput = {
    runId: 'ft',
    label: 'keep',
    baseModelKey: key,
    trainManifestKey: 'm',
    valManifestKey: 'm',
    epochs: 1,
    batch: 8,
    optimizer: { name: 'adam', learningRate: 0.01 },
    augment: false,
    seed: 1,
    checkpointEveryBatches: 0,
    head: 'keep',
    trainable: 'all',
  };
  await assert.rejects(
    acts.finetuneModel(input),
    (e: Error) =>
      e instanceof SpecValidationError &&
      /head 'keep' needs one output per class, the model has 5/.test(e.message),
  );

  // An ONNX model is inference-only.
  const onnx = await importPretrained(store, {
    name: 'tiny-onnx',
    source: 'onnx',
    uri: path.join(__dirname, '..', 'fixtures', 'models', 'tiny-cnn.onnx'),
    preprocess: PP,
    classMap: 'identity',
  });
  await assert.rejects(
    acts.finetuneModel({ ...input, head: 'replace', baseModelKey: onnx.key }),
    (e: Error) =>
      e instanceof SpecValidationError && /model tiny-onnx: onnx models cannot be fine-tuned/.test(e.message),
  );
  // So is a GraphModel (converter output), refused before anything loads.
  const graph = { format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] };
  await assert.rejects(
    loadTfjsLayersModel(
      Buffer.from(JSON.stringify(graph)),
      () => Promise.reject(new Error('unread')),
      'g/model.json',
    ),
    /g\/model\.json: a tfjs GraphModel \(converter format\) cannot be fine-tuned/,
  );
  // Keeping a head whose outputs are probabilities would train them as logits.
  const soft = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [3], units: 2, activation: 'softmax', name: 'probs' })],
  });
  assert.throws(
    () => prepareFinetuneModel(soft, { head: 'keep', trainable: 'all', numClasses: 2, seed: 1 }, 'soft.json'),
    (e: Error) =>
      e instanceof ModelInputError && /soft\.json: .*layer probs applies a softmax/.test(e.message),
  );
  // With a new head the softmax goes, and the outputs are logits.
  const { model } = prepareFinetuneModel(soft, { head: 'replace', trainable: 'all', numClasses: 2, seed: 1 });
  assert.deepEqual(
    model.layers.map((l) => [l.name, (l.getConfig() as { activation?: string }).activation]),
    [
      ['probs_input', undefined],
      ['finetune_head', 'linear'],
    ],
  );
  model.dispose();
});

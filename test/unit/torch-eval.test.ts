import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createEvaluateActivities } from '../../activities/evaluate';
import type { OpenSource } from '../../activities/train';
import { initBackend } from '../../core/backend/select-backend';
import { torchAddonInstalled } from '../../core/backend/torch-addon';
import { loadTrainedClassifier } from '../../core/backend/trained-classifier';
import { backgroundsChallenge, loadBackgroundPool } from '../../core/ml/challenge';
import type { Classifier } from '../../core/ml/classifier';
import { evaluateSource } from '../../core/ml/evaluate';
import { readWeights } from '../../core/ml/in-process-trainer';
import { saveModel } from '../../core/ml/model-artifact';
import type { ModelSpec } from '../../core/ml/model-spec';
import { buildModel } from '../../core/ml/models';
import type { ChallengeResult, SaliencyResult, VariantEvaluation } from '../../core/ml/results';
import { saliencyMaps } from '../../core/ml/saliency';
import { Rng } from '../../core/data/rng';
import { FsArtifactStore } from '../../store/fs-store';
import { getJson } from '../../store/json';
import { relErr } from '../helpers/grad-check';
import { memorySource, toySamples } from '../helpers/memory-source';

// Evaluation, the backgrounds challenge and saliency on the libtorch engine against the tfjs model it copies:
// the same stored weights (BatchNorm statistics moved away from their 0/1 start, so inference mode is tested)
// must give the same logits, input gradients, predictions, challenge outcome and saliency maps. Skips without
// the addon, except where BGSTUDY_REQUIRE_TORCH=1 (CI), as in torch-engine.test.ts.
const required = process.env.BGSTUDY_REQUIRE_TORCH === '1';
const skip =
  torchAddonInstalled() || required
    ? false
    : 'libtorch addon not built (npm run setup builds it where libtorch is installed)';

const CLASSES = ['a', 'b', 'c'];
const SIZE = 32;

/** A stored model whose BatchNorm moving statistics are seeded away from mean 0 / variance 1. */
async function storedModel(store: FsArtifactStore, spec: ModelSpec): Promise<string> {
  const model = buildModel(spec);
  const weights = await readWeights(model);
  model.dispose();
  const rng = new Rng(spec.seed + 100);
  for (const w of weights) {
    if (w.name.endsWith('moving_mean')) w.data = w.data.map(() => (rng.next() - 0.5) * 0.2);
    if (w.name.endsWith('moving_variance')) w.data = w.data.map(() => 0.5 + rng.next());
  }
  return saveModel(store, `runs/${spec.arch}/final`, spec, weights, 'test');
}

async function tempStore(): Promise<{ store: FsArtifactStore; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-torch-eval-'));
  return { store: new FsArtifactStore(dir), dir };
}

const val = () => memorySource(toySamples(12, SIZE, 3, 7, 'v'), CLASSES);
const backgrounds = () => memorySource(toySamples(9, SIZE, 3, 8, 'b'), CLASSES);

/** Everything evaluation derives from a classifier, computed by the core functions the activities call. */
async function evaluateAll(c: Classifier) {
  const opts = { inputSize: SIZE, numClasses: 3, batchSize: 5 };
  const evaluation = await evaluateSource((x, n) => c.predict(x, n), val(), opts);
  const pool = await loadBackgroundPool(backgrounds(), SIZE);
  const challenge = await backgroundsChallenge((x, n) => c.predict(x, n), val(), pool, opts);
  const grid = toySamples(4, SIZE, 3, 9, 'g');
  const inputGradients = c.inputGradients!.bind(c);
  const gm = { numScores: c.numScores, predict: c.predict.bind(c), inputGradients };
  const saliency = await saliencyMaps(gm, grid, SIZE, { smoothGrad: { samples: 3, sigma: 0.15, seed: 4 } });
  const x = new Float32Array(grid.length * SIZE * SIZE * 3).map((_, i) => ((i * 7919) % 1000) / 1000);
  const labels = Int32Array.from(grid, (s) => s.label);
  return {
    evaluation,
    challenge,
    saliency,
    logits: await c.predict(x, grid.length),
    inputGrad: await inputGradients(x, grid.length, labels),
  };
}

// On Debian's libtorch 1.13 (CPU) against tfjs wasm; the bounds leave room for float rounding only (a wrong
// BatchNorm mode or layout gives errors of order one).
// Measured: logits 2.7e-7–4.0e-7, input gradients 3.0e-7–1.3e-6 (efficientnet_b0), SmoothGrad maps identical.
for (const arch of ['small_cnn', 'resnet18', 'mobilenet_v2', 'efficientnet_b0', 'shufflenet_v2'] as const) {
  void test(
    `libtorch ${arch}@${SIZE}: evaluation, challenge and SmoothGrad saliency as on tfjs`,
    { skip },
    async () => {
      await initBackend({ backend: 'wasm' });
      const { store, dir } = await tempStore();
      try {
        const key = await storedModel(store, { arch, inputSize: SIZE, numClasses: 3, seed: 3 });
        const torch = (await loadTrainedClassifier(store, key, 'libtorch')).classifier;
        const tfjs = (await loadTrainedClassifier(store, key, 'wasm')).classifier;
        try {
          assert.match(torch.backend, /^libtorch \d/);
          assert.equal(tfjs.backend, 'wasm');
          const [a, b] = [await evaluateAll(torch), await evaluateAll(tfjs)];
          const logitErr = relErr(a.logits, b.logits);
          const gradErr = relErr(a.inputGrad, b.inputGrad);
          const mapDiff = Math.max(
            ...a.saliency.items.flatMap((it, i) =>
              it.map.map((v, p) => Math.abs(v - b.saliency.items[i]!.map[p]!)),
            ),
          );
          const shareDiff = Math.max(
            ...a.saliency.items.map((it, i) => Math.abs(it.share! - b.saliency.items[i]!.share!)),
          );
          console.log(
            `# ${arch}@${SIZE}: logits ${logitErr.toExponential(1)}, input gradients ${gradErr.toExponential(1)}, ` +
              `eval loss ${a.evaluation.loss.toFixed(6)} vs ${b.evaluation.loss.toFixed(6)}, SmoothGrad share ` +
              `${shareDiff.toExponential(1)}, map ${mapDiff}/255`,
          );
          assert.ok(logitErr < 1e-5, `inference logits differ by ${logitErr.toExponential(2)}`);
          assert.ok(gradErr < 1e-5, `input gradients differ by ${gradErr.toExponential(2)}`);
          assert.deepEqual(
            a.evaluation.perImage,
            b.evaluation.perImage,
            'the same prediction for every image',
          );
          assert.deepEqual(a.evaluation.confusion, b.evaluation.confusion);
          assert.ok(Math.abs(a.evaluation.loss - b.evaluation.loss) < 1e-4 * b.evaluation.loss);
          assert.deepEqual(a.challenge, b.challenge, 'the same challenge outcome, evaluation for evaluation');
          assert.deepEqual(
            a.saliency.items.map((i) => i.predicted),
            b.saliency.items.map((i) => i.predicted),
          );
          assert.ok(shareDiff < 1e-3, `SmoothGrad foreground shares differ by ${shareDiff}`);
          assert.ok(mapDiff <= 2, `SmoothGrad maps differ by ${mapDiff}/255 somewhere`);
        } finally {
          await Promise.all([torch.dispose(), tfjs.dispose()]);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
}

void test(
  'with libtorch as the engine, the evaluation activities run on it, name it, and store the numbers tfjs gives; ' +
    'switching the engine recomputes under other keys',
  { skip },
  async () => {
    const openSource: OpenSource = async (_s, key) => (key === 'bg' ? backgrounds() : val());
    const spec: ModelSpec = { arch: 'small_cnn', inputSize: SIZE, numClasses: 3, seed: 5 };
    // One store for both engines: the second must not reuse the first one's stored results.
    const { store, dir } = await tempStore();
    const modelKey = await storedModel(store, spec);
    const keys: string[] = [];
    const run = async (engine: 'libtorch' | 'wasm') => {
      await initBackend({ backend: engine });
      const ev = createEvaluateActivities({ store, openSource });
      const base = { modelKey, modelSpec: spec };
      const acc = await ev.evaluateModel({ ...base, manifestKey: 'val', variantId: 'original' });
      const ch = await ev.runChallenge({
        ...base,
        foregroundManifestKey: 'val',
        backgroundManifestKey: 'bg',
        backgrounds: 0,
        foregrounds: 0,
      });
      const sal = await ev.computeSaliency({
        ...base,
        manifestKey: 'val',
        variantId: 'original',
        samples: 3,
      });
      keys.push(acc.resultKey, ch.resultKey, sal.resultKey);
      return {
        acc: await getJson<VariantEvaluation>(store, acc.resultKey),
        ch: await getJson<ChallengeResult>(store, ch.resultKey),
        sal: await getJson<SaliencyResult>(store, sal.resultKey),
      };
    };
    const [t, w] = await (async () => {
      try {
        return [await run('libtorch'), await run('wasm')];
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })();
    assert.equal(new Set(keys).size, 6, `each engine's results under their own keys: ${keys.join(', ')}`);
    for (const doc of [t.acc, t.ch, t.sal])
      assert.match(doc.backend.name, /^libtorch \d.*\(cpu, \d+ threads, fp32\)$/);
    for (const doc of [w.acc, w.ch, w.sal]) assert.equal(doc.backend.name, 'wasm');
    assert.deepEqual(t.acc.perImage, w.acc.perImage);
    assert.deepEqual(t.acc.confusion, w.acc.confusion);
    assert.ok(Math.abs(t.acc.loss - w.acc.loss) < 1e-4 * w.acc.loss);
    const outcome = (c: ChallengeResult) => [
      c.foregrounds,
      c.vulnerable,
      c.evaluations,
      c.cleanAccuracy,
      c.perClass,
    ];
    assert.deepEqual(outcome(t.ch), outcome(w.ch));
    assert.equal(t.sal.method, 'smoothgrad');
    assert.deepEqual(
      t.sal.items.map((i) => [i.id, i.predicted]),
      w.sal.items.map((i) => [i.id, i.predicted]),
    );
    assert.ok(
      Math.abs(t.sal.meanShare! - w.sal.meanShare!) < 1e-3,
      `${t.sal.meanShare} vs ${w.sal.meanShare}`,
    );
  },
);

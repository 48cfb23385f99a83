import { z } from 'zod';
import type {
  ChallengeInput,
  ChallengeOutput,
  EvaluateInput,
  EvaluateManyInput,
  EvaluateOutput,
  SaliencyInput,
  SaliencyManyInput,
  SaliencyOutput,
} from '../core/contracts';
import { SpecValidationError } from '../common/errors';
import { modelEngineId, tfjsEngineId } from '../core/backend/engine-id';
import { loadTrainedClassifier } from '../core/backend/trained-classifier';
import { hashOf } from '../core/hash';
import { openSampleSource } from '../core/data/sample-source';
import { backgroundsChallenge, challengeCursorFor, loadBackgroundPool } from '../core/ml/challenge';
import type { Classifier } from '../core/ml/classifier';
import { evaluateSource } from '../core/ml/evaluate';
import type { ModelArtifact } from '../core/ml/model-artifact';
import type { ModelSpec } from '../core/ml/model-spec';
import { occlusionSaliency } from '../core/ml/occlusion';
import { availableProviders } from '../core/ml/onnx-model';
import { loadPretrainedClassifier, type PretrainedArtifact } from '../core/ml/pretrained';
import {
  backendInfo,
  type ChallengeResult,
  EVAL_CODE_VERSION,
  RESULTS_SCHEMA,
  type SaliencyResult,
  type VariantEvaluation,
} from '../core/ml/results';
import { SMOOTHGRAD_DEFAULT, saliencyMaps, sampleGrid } from '../core/ml/saliency';
import { saliencyGridPng } from '../core/ml/saliency-grid';
import type { ArtifactStore } from '../store';
import { getJson, getOrCreateJson, putJson, tryGetJson } from '../store/json';
import { activityHooks } from './activity-context';
import { resumeCursor } from './cursors';
import { parseInput } from './parse-input';
import { modelSpecSchema, type OpenSource } from './train';

/** modelSpec: a model trained here (checked against the stored one); absent: an imported pretrained model. */
const base = { modelKey: z.string().min(1), modelSpec: modelSpecSchema.optional() };
const evaluateInputSchema = z.object({
  ...base,
  manifestKey: z.string().min(1),
  variantId: z.string().min(1),
});
const evaluateManyInputSchema = z.object({
  ...base,
  variants: z.array(z.object({ manifestKey: z.string().min(1), variantId: z.string().min(1) })).min(1),
});
const challengeInputSchema = z.object({
  ...base,
  foregroundManifestKey: z.string().min(1),
  backgroundManifestKey: z.string().min(1),
  /** 0: the whole pool / every foreground (as Xiao did). */
  backgrounds: z.number().int().min(0),
  foregrounds: z.number().int().min(0),
});
const saliencyInputSchema = z.object({
  ...base,
  manifestKey: z.string().min(1),
  variantId: z.string().min(1),
  samples: z.number().int().min(1).max(512),
  /** For models with input gradients; pretrained models without them always get occlusion. */
  method: z.enum(['smoothgrad', 'gradient']).default('smoothgrad'),
});
const saliencyManyInputSchema = saliencyInputSchema.omit({ manifestKey: true, variantId: true }).extend({
  variants: evaluateManyInputSchema.shape.variants,
});

/** Composites or images per forward pass. */
const EVAL_BATCH = 64;

/**
 * The engine that runs the model behind `input` on this worker: a model trained here (`modelSpec` given) runs on
 * the worker's engine in fp32; an imported ONNX model on onnxruntime with the first provider it tries; tfjs
 * models (imported or fine-tuned here) on the worker's tfjs backend.
 */
async function engineOf(
  store: ArtifactStore,
  input: { modelKey: string; modelSpec?: ModelSpec },
): Promise<string> {
  if (input.modelSpec) return modelEngineId('fp32');
  const doc = await getJson<ModelArtifact | PretrainedArtifact>(store, input.modelKey);
  if ('kind' in doc && doc.kind === 'pretrained' && doc.source === 'onnx')
    return `onnxruntime-${(await availableProviders())[0] ?? 'cpu'}`;
  return tfjsEngineId();
}

/**
 * `evals/<run hash>/<kind>-<hash of inputs, engine and code version>.json`: one folder per trained model. The
 * engine that runs it here (engineOf) is part of the key: another engine's numbers are another result.
 */
function evalKey(modelKey: string, engine: string, kind: string, inputs: object): string {
  const run = /^runs\/([^/]+)\//.exec(modelKey)?.[1] ?? hashOf(modelKey);
  return `evals/${run}/${kind}-${hashOf({ ...inputs, modelKey, engine, code: EVAL_CODE_VERSION })}`;
}

/**
 * Loads the classifier behind `modelKey` for data with `classes`: a model trained here (checked to be the one
 * the workflow means, and to share the data's label space) or an imported pretrained one (its class map
 * resolved against `classes`). The caller disposes it.
 */
async function openClassifier(
  store: ArtifactStore,
  modelKey: string,
  spec: ModelSpec | undefined,
  classes: string[],
  dataKey: string,
): Promise<{ c: Classifier; dispose: () => Promise<void> }> {
  const doc = await getJson<ModelArtifact | PretrainedArtifact>(store, modelKey);
  let classifier: Classifier;
  if ('kind' in doc && doc.kind === 'pretrained') {
    classifier = (await loadPretrainedClassifier(store, modelKey, classes)).classifier;
  } else {
    const loaded = await loadTrainedClassifier(store, modelKey);
    classifier = loaded.classifier;
    const { artifact } = loaded;
    if (!spec || hashOf(artifact.modelSpec) !== hashOf(spec)) {
      await classifier.dispose();
      throw new SpecValidationError(
        `${modelKey} holds ${JSON.stringify(artifact.modelSpec)}, not ${JSON.stringify(spec ?? null)}`,
      );
    }
    if (classes.length !== spec.numClasses) {
      await classifier.dispose();
      throw new SpecValidationError(
        `${dataKey} has ${classes.length} classes, the model has ${spec.numClasses}`,
      );
    }
  }
  return { c: classifier, dispose: async () => classifier.dispose() };
}

async function withClassifier<T>(
  store: ArtifactStore,
  modelKey: string,
  spec: ModelSpec | undefined,
  classes: string[],
  dataKey: string,
  f: (c: Classifier) => Promise<T>,
): Promise<T> {
  const { c, dispose } = await openClassifier(store, modelKey, spec, classes, dataKey);
  try {
    return await f(c);
  } finally {
    await dispose();
  }
}

type Source = Awaited<ReturnType<OpenSource>>;
type Target = { modelKey: string; modelSpec?: ModelSpec; manifestKey: string; variantId: string };

/** Where the accuracy result of a model on one test variant is stored. */
function accKey(t: Target, engine: string): string {
  return `${evalKey(t.modelKey, engine, 'acc', { manifestKey: t.manifestKey, variantId: t.variantId })}.json`;
}

/** The full accuracy result of classifier `c` on the val split `source` of one test variant. */
async function evaluateOne(
  c: Classifier,
  source: Source,
  t: Target,
  signal: AbortSignal | undefined,
  onProgress: (done: number, total: number) => void,
): Promise<VariantEvaluation> {
  const e = await evaluateSource((x, n) => c.predict(x, n), source, {
    inputSize: c.inputSize,
    numClasses: c.numClasses,
    numScores: c.numScores,
    view: (s) => c.view(s),
    batchSize: EVAL_BATCH,
    signal,
    onProgress,
  });
  return {
    schema: RESULTS_SCHEMA,
    kind: 'evaluation',
    modelKey: t.modelKey,
    variant: t.variantId,
    dataKey: t.manifestKey,
    split: 'val',
    classes: source.classes,
    ...e,
    backend: backendInfo(c.backend),
    codeVersion: EVAL_CODE_VERSION,
  };
}

/** The headline numbers the workflow carries. */
function accOutput(variantId: string, value: VariantEvaluation, resultKey: string): EvaluateOutput {
  return {
    variantId,
    n: value.n,
    accuracy: value.accuracy,
    // A class without test images has no accuracy: NaN here, null once serialized.
    perClassAccuracy: value.perClass.map((c) => c.accuracy ?? NaN),
    confusion: value.confusion,
    resultKey,
  };
}

/**
 * Evaluation activities (core/contracts.ts TrainEvalActivities). Each writes its full result JSON (core/ml/
 * results.ts) once under `evals/<run hash>/` and returns its key with the headline numbers; a rerun returns the
 * stored result. Models trained here run on the engine the worker initialized (libtorch included, see
 * core/backend/trained-classifier.ts), named in every result.
 */
export function createEvaluateActivities(deps: { store: ArtifactStore; openSource?: OpenSource }) {
  const { store } = deps;
  const openSource: OpenSource = deps.openSource ?? openSampleSource;
  /** withClassifier for the val split of one dataset, which it opens and hands over too. */
  const withValClassifier = async <T>(
    input: { manifestKey: string; modelKey: string; modelSpec?: ModelSpec },
    f: (c: Classifier, source: Awaited<ReturnType<OpenSource>>) => Promise<T>,
  ): Promise<T> => {
    const source = await openSource(store, input.manifestKey, 'val');
    return withClassifier(store, input.modelKey, input.modelSpec, source.classes, input.manifestKey, (c) =>
      f(c, source),
    );
  };

  /**
   * `each` on the val split of every target, in order, sources opened one at a time; targets that share a label
   * space share one loaded model (the batched activities load it once, not once per variant).
   */
  const withEachSource = async <T extends { manifestKey: string }>(
    model: { modelKey: string; modelSpec?: ModelSpec },
    targets: T[],
    each: (c: Classifier, source: Source, t: T, n: number) => Promise<void>,
  ): Promise<void> => {
    let loaded: { classes: string; c: Classifier; dispose: () => Promise<void> } | undefined;
    try {
      for (const [n, t] of targets.entries()) {
        const source = await openSource(store, t.manifestKey, 'val');
        const classes = JSON.stringify(source.classes);
        if (loaded?.classes !== classes) {
          await loaded?.dispose();
          loaded = {
            classes,
            ...(await openClassifier(store, model.modelKey, model.modelSpec, source.classes, t.manifestKey)),
          };
        }
        await each(loaded.c, source, t, n);
      }
    } finally {
      await loaded?.dispose();
    }
  };

  return {
    /** Accuracy, loss, per-class accuracy and confusion matrix on the val split of one test variant. */
    async evaluateModel(raw: EvaluateInput): Promise<EvaluateOutput> {
      const input = parseInput(evaluateInputSchema, raw, 'evaluateModel');
      const resultKey = accKey(input, await engineOf(store, input));
      const hooks = activityHooks();
      const { value } = await getOrCreateJson<VariantEvaluation>(
        store,
        resultKey,
        () =>
          withValClassifier(input, (c, source) =>
            evaluateOne(c, source, input, hooks.signal, (done, total) => hooks.heartbeat({ done, total })),
          ),
        hooks.signal,
      );
      return accOutput(input.variantId, value, resultKey);
    },

    /**
     * evaluateModel on several test variants in one activity: the stored results are read first, and the model
     * is loaded once for the rest (per label space). A retry resumes after the last stored variant; heartbeats
     * carry `{ variant, variants, done, total }`. Same result files and outputs as one evaluateModel each.
     */
    async evaluateModelOn(raw: EvaluateManyInput): Promise<EvaluateOutput[]> {
      const input = parseInput(evaluateManyInputSchema, raw, 'evaluateModelOn');
      const hooks = activityHooks();
      const engine = await engineOf(store, input);
      const keys = input.variants.map((v) => accKey({ ...input, ...v }, engine));
      const values = await Promise.all(keys.map((k) => tryGetJson<VariantEvaluation>(store, k)));
      const missing = input.variants.map((_, i) => i).filter((i) => values[i] === undefined);
      await withEachSource(
        input,
        missing.map((i) => ({ ...input.variants[i]!, i })),
        async (c, source, v, n) => {
          const value = await evaluateOne(c, source, { ...input, ...v }, hooks.signal, (done, total) =>
            hooks.heartbeat({ variant: n, variants: missing.length, done, total }),
          );
          hooks.signal?.throwIfAborted(); // a stopped attempt writes nothing
          await putJson(store, keys[v.i]!, value);
          values[v.i] = value;
        },
      );
      return input.variants.map((v, i) => accOutput(v.variantId, values[i]!, keys[i]!));
    },

    /**
     * Xiao's backgrounds challenge: `foregrounds` masked val images (evenly spread over the stored order) each on
     * `backgrounds` val backgrounds of the pool, stopping at the first miss. Heartbeats its cursor after every
     * foreground and resumes from it on retry.
     */
    async runChallenge(raw: ChallengeInput): Promise<ChallengeOutput> {
      const input = parseInput(challengeInputSchema, raw, 'runChallenge');
      const { modelSpec: _s, ...identity } = input;
      const engine = await engineOf(store, input);
      const resultKey = `${evalKey(input.modelKey, engine, 'challenge', identity)}.json`;
      const hooks = activityHooks();
      const { value } = await getOrCreateJson<ChallengeResult>(
        store,
        resultKey,
        () =>
          (async () => {
            const [fg, bg] = await Promise.all([
              openSource(store, input.foregroundManifestKey, 'val'),
              openSource(store, input.backgroundManifestKey, 'val'),
            ]);
            return withClassifier(
              store,
              input.modelKey,
              input.modelSpec,
              fg.classes,
              input.foregroundManifestKey,
              async (c) => {
                const { inputSize, numClasses } = c;
                const pool = await loadBackgroundPool(bg, inputSize, input.backgrounds || Infinity, (s) =>
                  c.view(s),
                );
                const cursor = resumeCursor(challengeCursorFor(numClasses), hooks.previousDetails, (issues) =>
                  hooks.info('runChallenge: previous heartbeat is not a challenge cursor, starting over', {
                    issues,
                  }),
                );
                if (cursor)
                  hooks.info('runChallenge: resuming', { fgIdx: cursor.fgIdx, computed: cursor.computed });
                const out = await backgroundsChallenge((x, n) => c.predict(x, n), fg, pool, {
                  inputSize,
                  numClasses,
                  numScores: c.numScores,
                  view: (s) => c.view(s),
                  viewMask: (s) => c.viewMask(s),
                  batchSize: EVAL_BATCH,
                  maxForegrounds: input.foregrounds || undefined,
                  cursor,
                  signal: hooks.signal,
                  onProgress: (c) => hooks.heartbeat(c),
                });
                return {
                  schema: RESULTS_SCHEMA,
                  kind: 'challenge',
                  modelKey: input.modelKey,
                  foregroundsKey: input.foregroundManifestKey,
                  backgroundsKey: input.backgroundManifestKey,
                  ...out,
                  backend: backendInfo(c.backend),
                  codeVersion: EVAL_CODE_VERSION,
                };
              },
            );
          })(),
        hooks.signal,
      );
      return {
        foregrounds: value.foregrounds,
        backgrounds: value.backgrounds,
        adversarialAccuracy: value.adversarialAccuracy,
        cleanAccuracy: value.cleanAccuracy,
        resultKey,
      };
    },

    /**
     * Gradient saliency on a fixed grid of `samples` val images (the first of each class in stored order,
     * classes interleaved), the share of saliency inside each mask, and a PNG of images next to their maps.
     */
    async computeSaliency(raw: SaliencyInput): Promise<SaliencyOutput> {
      const input = parseInput(saliencyInputSchema, raw, 'computeSaliency');
      const keys = saliencyKeys(input, await engineOf(store, input));
      const hooks = activityHooks();
      const { value } = await getOrCreateJson<SaliencyResult>(
        store,
        keys.resultKey,
        () =>
          withValClassifier(input, (c, source) =>
            saliencyOne(store, c, source, input, keys.gridKey, hooks.signal, (done, total) =>
              hooks.heartbeat({ done, total }),
            ),
          ),
        hooks.signal,
      );
      return saliencyOutput(input.variantId, value, keys);
    },

    /**
     * computeSaliency on several variants in one activity, as evaluateModelOn does for accuracy: stored results
     * are read first, the model loads once per label space for the rest, a retry resumes after the last stored
     * variant. Same files and outputs as one computeSaliency each.
     */
    async computeSaliencyOn(raw: SaliencyManyInput): Promise<SaliencyOutput[]> {
      const input = parseInput(saliencyManyInputSchema, raw, 'computeSaliencyOn');
      const hooks = activityHooks();
      const targets = input.variants.map((v) => ({ ...input, ...v }));
      const engine = await engineOf(store, input);
      const keys = targets.map((t) => saliencyKeys(t, engine));
      const values = await Promise.all(keys.map((k) => tryGetJson<SaliencyResult>(store, k.resultKey)));
      const missing = targets.map((_, i) => i).filter((i) => values[i] === undefined);
      await withEachSource(
        input,
        missing.map((i) => ({ ...targets[i]!, i })),
        async (c, source, t, n) => {
          const value = await saliencyOne(
            store,
            c,
            source,
            t,
            keys[t.i]!.gridKey,
            hooks.signal,
            (done, total) => hooks.heartbeat({ variant: n, variants: missing.length, done, total }),
          );
          hooks.signal?.throwIfAborted(); // a stopped attempt writes nothing more
          await putJson(store, keys[t.i]!.resultKey, value);
          values[t.i] = value;
        },
      );
      return targets.map((t, i) => saliencyOutput(t.variantId, values[i]!, keys[i]!));
    },
  };
}

type SaliencyTarget = z.infer<typeof saliencyInputSchema>;

/** `<evals key>.json` (the result, written last: the completion marker) and `.png` (the grid) of one saliency. */
function saliencyKeys(t: SaliencyTarget, engine: string): { resultKey: string; gridKey: string } {
  const key = evalKey(t.modelKey, engine, 'saliency', {
    manifestKey: t.manifestKey,
    variantId: t.variantId,
    samples: t.samples,
    method: t.method,
  });
  return { resultKey: `${key}.json`, gridKey: `${key}.png` };
}

/** Saliency maps of classifier `c` on one variant's grid; stores the PNG grid and returns the result document. */
async function saliencyOne(
  store: ArtifactStore,
  c: Classifier,
  source: Source,
  t: SaliencyTarget,
  gridKey: string,
  signal: AbortSignal | undefined,
  onProgress: (done: number, total: number) => void,
): Promise<SaliencyResult> {
  const { inputSize, numClasses } = c;
  const perClass = Math.ceil(t.samples / numClasses);
  const grid = interleaveByClass(await sampleGrid(source, numClasses, perClass)).slice(0, t.samples);
  // Input gradients where the model has them (trained here); occlusion otherwise (ONNX, imported tfjs).
  const method = c.inputGradients ? t.method : 'occlusion';
  const smoothGrad = method === 'smoothgrad' ? SMOOTHGRAD_DEFAULT : undefined;
  const grads = c.inputGradients?.bind(c);
  const out = grads
    ? await saliencyMaps({ ...c, inputGradients: grads }, grid, inputSize, { smoothGrad })
    : await occlusionSaliency(c, grid, { signal, onProgress });
  // The PNG first: the JSON is the completion marker.
  signal?.throwIfAborted();
  await store.put(gridKey, await saliencyGridPng(grid, out.items, inputSize, 4, (s) => c.view(s)), {
    contentType: 'image/png',
  });
  return {
    schema: RESULTS_SCHEMA,
    kind: 'saliency',
    modelKey: t.modelKey,
    variant: t.variantId,
    dataKey: t.manifestKey,
    perClass,
    gridKey,
    method,
    ...(smoothGrad ? { smoothGrad } : {}),
    ...out,
    backend: backendInfo(c.backend),
    codeVersion: EVAL_CODE_VERSION,
  };
}

/** The headline numbers of one saliency result the workflow carries. */
function saliencyOutput(
  variantId: string,
  value: SaliencyResult,
  keys: { resultKey: string; gridKey: string },
): SaliencyOutput {
  return {
    variantId,
    foregroundShare: value.meanShare ?? NaN,
    areaShare: value.meanMaskArea ?? NaN,
    gridKey: keys.gridKey,
    resultKey: keys.resultKey,
    ...(value.method ? { method: value.method } : {}),
  };
}

/** Class 0's first, class 1's first, ..., then every class's second, ...: a small grid still shows every class. */
function interleaveByClass<T extends { label: number }>(items: T[]): T[] {
  const rank = new Map<T, number>();
  const seen = new Map<number, number>();
  for (const it of items) {
    const r = seen.get(it.label) ?? 0;
    rank.set(it, r);
    seen.set(it.label, r + 1);
  }
  return [...items].sort((a, b) => rank.get(a)! - rank.get(b)! || a.label - b.label);
}

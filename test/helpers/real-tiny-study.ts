/**
 * A real tiny study for report tests: synthetic data, every variant, small CNNs trained for 2 epochs and
 * evaluated (accuracy per variant, backgrounds challenge, saliency) by the project's own activities, called
 * directly in order (what StudyWorkflow and RunWorkflow do through Temporal). Their stored results are mapped
 * into the RunSummary shape of workflows/run-workflow.ts here, because RunWorkflow does not call these
 * activities yet; that mapping is test glue and says which contract field comes from where.
 */
import * as tf from '@tensorflow/tfjs';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { EvaluateOutput, SaliencyOutput } from '../../common/contracts';
import { createDatasetActivities } from '../../activities/dataset';
import type { AggregateInput } from '../../activities/report';
import { createEvaluateActivities } from '../../activities/evaluate';
import { createStudyActivities } from '../../activities/study';
import { createTrainActivities } from '../../activities/train';
import { createVariantActivities } from '../../activities/variants';
import type { ChallengeResult, SaliencyResult, TrainSummary, VariantEvaluation } from '../../core/ml/results';
import type { ArtifactStore } from '../../store/artifact-store';
import { getJson } from '../../store/json';
import type { RunSummary } from '../../workflows/run-workflow';

// evaluateModel/computeSaliency put the variant name into an artifact key, which rejects "(" and ","
// (labels such as bg_blur(sigma=1)); see the report for this bug in activities/evaluate.ts
const keySafe = (label: string) => label.replace(/[^A-Za-z0-9._=+-]/g, '_');

export const TINY_STUDY_SPEC = {
  version: 1,
  name: 'tiny-report-study',
  description: 'Tiny real study for the report test: synthetic 16 px, small CNNs, 2 epochs',
  dataset: {
    source: 'synthetic',
    classes: 4,
    perClass: { train: 32, val: 8 },
    size: 16,
    bgCorrelation: 0.9,
    seed: 3,
    genericCount: 8,
  },
  variants: ['original', 'only_bg_t', 'only_fg', 'mixed_same', 'mixed_rand', { name: 'bg_blur', sigma: [2] }],
  train: [{ model: 'small_cnn', on: ['original', 'mixed_rand', 'only_fg'], epochs: 2, batch: 8, seed: 1 }],
  evaluate: {
    on: 'all',
    pairingRepeats: 1,
    challenge: { backgrounds: 8, foregrounds: 0 },
    saliency: { samples: 8 },
  },
};

/**
 * Runs TINY_STUDY_SPEC's stages and returns what StudyWorkflow would hand to aggregateResults. All of it runs in
 * one mock activity context (the activities log and heartbeat through it).
 */
export async function runTinyStudy(
  store: ArtifactStore,
  spec: unknown = TINY_STUDY_SPEC,
): Promise<AggregateInput> {
  const stages = () => stagesOf(store, spec);
  return new MockActivityEnvironment().run<[], AggregateInput, typeof stages>(stages);
}

async function stagesOf(store: ArtifactStore, spec: unknown): Promise<AggregateInput> {
  await tf.setBackend('cpu');
  const study = createStudyActivities({ store });
  const data = { ...createDatasetActivities({ store }), ...createVariantActivities({ store }) };
  const train = createTrainActivities({ store });
  const evaluate = createEvaluateActivities({ store });

  const { plan, specKey } = await study.registerStudy(spec);
  const dataset = await data.prepareDataset(plan.dataset);
  const variantKeys: Record<string, string> = {};
  for (const v of plan.variants)
    variantKeys[v.id] = (
      await data.materializeVariant({
        datasetManifestKey: dataset.manifestKey,
        variant: v.spec,
        seed: v.seed,
      })
    ).manifestKey;
  const val = (id: string) => ({ manifestKey: variantKeys[id]!, split: 'val' as const });
  const original = plan.variants.find((v) => v.spec.name === 'original')!;
  const k = dataset.classes.length;

  const runs: RunSummary[] = [];
  for (const run of plan.runs) {
    const trained = await train.trainModel({
      model: { arch: run.arch, inputSize: run.inputSize, numClasses: k, seed: run.seed },
      train: { manifestKey: variantKeys[run.trainVariantId]!, split: 'train' },
      val: val(run.trainVariantId),
      trainVariant: run.trainLabel,
      config: {
        epochs: run.epochs,
        batchSize: run.batch,
        seed: run.seed,
        optimizer: { name: 'adam', learningRate: 0.003 },
        augment: null,
        checkpointEvery: 0,
      },
    });
    const summary = await getJson<TrainSummary>(store, trained.summaryKey);
    const tests: RunSummary['tests'] = [];
    for (const t of plan.tests) {
      const evaluations: EvaluateOutput[] = [];
      for (const variantId of t.variantIds) {
        const out = await evaluate.evaluateModel({
          modelKey: trained.modelKey,
          variant: keySafe(t.label),
          data: val(variantId),
        });
        const e = await getJson<VariantEvaluation>(store, out.key);
        evaluations.push({
          variantId,
          n: e.n,
          accuracy: e.accuracy,
          perClassAccuracy: e.perClass.map((c) => c.accuracy ?? 0),
          confusion: e.confusion,
          resultKey: out.key,
        });
      }
      tests.push({
        label: t.label,
        accuracy: evaluations.reduce((s, e) => s + e.accuracy, 0) / evaluations.length,
        evaluations,
      });
    }
    let challenge: RunSummary['challenge'] = null;
    if (plan.challenge) {
      const out = await evaluate.runChallenge({
        modelKey: trained.modelKey,
        foregrounds: val(original.id),
        backgrounds: val(plan.challenge.backgroundVariantId),
        maxBackgrounds: plan.challenge.backgrounds || undefined,
      });
      const c = await getJson<ChallengeResult>(store, out.key);
      challenge = {
        foregrounds: c.foregrounds,
        backgrounds: c.backgrounds,
        adversarialAccuracy: c.adversarialAccuracy,
        // the challenge result has no clean accuracy: the model's accuracy on original val is that number
        cleanAccuracy: tests.find((t) => t.label === original.label)?.accuracy ?? Number.NaN,
        resultKey: out.key,
      };
    }
    const saliency: SaliencyOutput[] = [];
    if (plan.saliency)
      for (const t of plan.tests.slice(0, 3)) {
        const variantId = t.variantIds[0]!;
        const out = await evaluate.computeSaliency({
          modelKey: trained.modelKey,
          variant: keySafe(t.label),
          data: val(variantId),
          perClass: Math.max(1, Math.floor(plan.saliency.samples / k)),
        });
        const s = await getJson<SaliencyResult>(store, out.key);
        // no PNG is written by computeSaliency: the report draws the grid from the stored maps (gridKey = result)
        saliency.push({
          variantId,
          foregroundShare: s.meanShare ?? Number.NaN,
          gridKey: out.key,
          resultKey: out.key,
        });
      }
    runs.push({
      runId: run.runId,
      label: run.label,
      train: {
        runId: run.runId,
        modelKey: trained.modelKey,
        // stored epochs are 0-based; reports count from 1
        curves: summary.curves.map((c) => ({
          epoch: c.epoch + 1,
          trainLoss: c.trainLoss,
          trainAcc: c.trainAcc,
          valLoss: c.valLoss,
          valAcc: c.valAcc,
        })),
        backend: `${summary.backend.name} (tfjs ${summary.backend.versions['tfjs-core'] ?? '?'})`,
        resumedFrom: null,
        batchesTrainedThisAttempt: trained.stepsRun,
        batchesTotal: trained.stepsRun,
        reused: trained.reused,
      },
      tests,
      challenge,
      saliency,
    });
  }
  return { plan, specKey, dataset, variantKeys, runs, cancelled: false };
}

import {
  ApplicationFailure,
  defineQuery,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import type { createReportActivities } from '../activities/report';
import type { Duration, RetryPolicy } from '@temporalio/common';
import type {
  ChallengeOutput,
  EvaluateManyInput,
  FinetuneRunInput,
  ImportModelInput,
  RunSummary,
  SaliencyOutput,
  StoredRunSummary,
  TrainEvalActivities,
  TrainRunInput,
  TrainRunOutput,
} from '../core/contracts';
import { NON_RETRYABLE_ERRORS } from '../common/errors';
import { GPU_QUEUE } from '../common/queues';
import { mapLimit } from '../common/map-limit';

export interface RunWorkflowInput {
  /** A model to train; or `pretrained`, a model to import instead (exactly one of the two). */
  train?: TrainRunInput;
  pretrained?: ImportModelInput;
  /** With `pretrained`: fine-tune the imported model (a tfjs LayersModel) before evaluating it. */
  finetune?: Omit<FinetuneRunInput, 'baseModelKey'>;
  /** Test columns: label -> the manifest keys of its pairings (averaged). */
  tests: { label: string; variants: { variantId: string; manifestKey: string }[] }[];
  challenge:
    | false
    | {
        foregroundManifestKey: string;
        backgroundManifestKey: string;
        backgrounds: number;
        foregrounds: number;
      };
  saliency:
    | false
    | {
        samples: number;
        /** Absent in inputs recorded before the spec had it: the activity's default (SmoothGrad). */
        method?: 'smoothgrad' | 'gradient';
        variants: { variantId: string; manifestKey: string }[];
      };
  gpuTaskQueue?: string;
  heartbeatTimeout?: Duration;
}

export type { RunSummary, StoredRunSummary };

export interface RunProgress {
  phase: 'train' | 'import' | 'evaluate' | 'challenge' | 'saliency' | 'done';
  evaluationsDone: number;
  evaluationsTotal: number;
  /** e.g. "small_cnn on mixed_rand (seed 1)", and the epochs it trains (absent in runs started before them). */
  label?: string;
  epochs?: number;
}

export const runProgressQuery = defineQuery<RunProgress>('runProgress');

const RETRY: RetryPolicy = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: NON_RETRYABLE_ERRORS,
};

function gpu(taskQueue: string, heartbeatTimeout: Duration, ui: boolean) {
  // Training heartbeats after every batch; a worker lost for two minutes is presumed dead, and the retry
  // resumes from the newest checkpoint in the store. With `ui`, each call carries a summary for the UI.
  const proxy = (startToCloseTimeout: Duration) => (summary: string) =>
    proxyActivities<TrainEvalActivities>({
      taskQueue,
      startToCloseTimeout,
      heartbeatTimeout,
      retry: RETRY,
      ...(ui ? { summary } : {}),
    });
  return { train: proxy('48 hours'), evaluate: proxy('12 hours') };
}

/**
 * One (model, train variant, seed) run: train, then evaluate on every test column, the backgrounds challenge
 * and saliency. A child of StudyWorkflow, so each run has its own bounded history.
 */
export async function RunWorkflow(input: RunWorkflowInput): Promise<RunSummary | StoredRunSummary> {
  // Activity summaries and current details for the Temporal UI; histories recorded before them replay without.
  const ui = patched('ui-metadata');
  const { train, evaluate } = gpu(input.gpuTaskQueue ?? GPU_QUEUE, input.heartbeatTimeout ?? '2 minutes', ui);
  const label = (input.train ?? input.pretrained)?.label ?? '';
  const evaluationsTotal = input.tests.reduce((n, t) => n + t.variants.length, 0);
  const progress: RunProgress = {
    phase: 'train',
    evaluationsDone: 0,
    evaluationsTotal,
    label,
    epochs: input.train?.epochs ?? input.finetune?.epochs,
  };
  setHandler(runProgressQuery, () => progress);
  const phase = (p: RunProgress['phase']) => {
    progress.phase = p;
    if (ui)
      setCurrentDetails(
        `**${p}**${p === 'evaluate' ? ` ${progress.evaluationsDone}/${evaluationsTotal} test sets` : ''}`,
      );
  };
  if (ui) phase('train');

  let trained: TrainRunOutput;
  // Only runs of pretrained models take this branch, so histories recorded before it replay unchanged.
  if (input.pretrained && patched('pretrained-models')) {
    phase('import');
    trained = await evaluate(`import ${label}`).importModel(input.pretrained);
    // Only fine-tune runs reach this marker, so histories of plain pretrained runs replay unchanged.
    if (input.finetune && patched('pretrained-finetune')) {
      phase('train');
      trained = await train(`fine-tune ${label}`).finetuneModel({
        ...input.finetune,
        baseModelKey: trained.modelKey,
      });
    }
  } else if (input.train) {
    trained = await train(`train ${label}`).trainModel(input.train);
  } else {
    throw ApplicationFailure.nonRetryable('RunWorkflow needs train or pretrained', 'SpecValidationError');
  }
  const modelSpec = input.train?.modelSpec;
  const run = (input.train ?? input.pretrained)!;

  phase('evaluate');
  // One activity over every test variant (the model loads once, one dispatch instead of one per variant);
  // histories recorded before it replay the per-variant activities below.
  const tests = patched('batched-evaluation')
    ? await evaluateAll(evaluate, trained.modelKey, modelSpec, input.tests, () => {
        progress.evaluationsDone = evaluationsTotal;
        if (ui) phase('evaluate');
      })
    : await mapLimit(input.tests, 2, async (t) => {
        const evaluations = await mapLimit(t.variants, 1, async (v) => {
          const out = await evaluate(`evaluate on ${v.variantId}`).evaluateModel({
            modelKey: trained.modelKey,
            modelSpec,
            manifestKey: v.manifestKey,
            variantId: v.variantId,
          });
          progress.evaluationsDone++;
          if (ui) phase('evaluate');
          return out;
        });
        const accuracy = evaluations.reduce((s, e) => s + e.accuracy, 0) / evaluations.length;
        return { label: t.label, accuracy, evaluations };
      });

  let challenge: ChallengeOutput | null = null;
  if (input.challenge) {
    phase('challenge');
    challenge = await evaluate('backgrounds challenge').runChallenge({
      modelKey: trained.modelKey,
      modelSpec,
      ...input.challenge,
    });
  }

  let saliency: SaliencyOutput[] = [];
  if (input.saliency) {
    phase('saliency');
    const { samples, method, variants } = input.saliency;
    const options = { modelKey: trained.modelKey, modelSpec, samples, ...(method ? { method } : {}) };
    // One activity over every variant (the model loads once, one dispatch instead of one per variant);
    // histories recorded before it replay the per-variant activities below.
    if (patched('batched-saliency')) {
      if (variants.length)
        saliency = await evaluate(`saliency on ${variants.length} test sets`).computeSaliencyOn({
          ...options,
          variants: variants.map((v) => ({ manifestKey: v.manifestKey, variantId: v.variantId })),
        });
    } else {
      for (const v of variants)
        saliency.push(
          await evaluate(`saliency on ${v.variantId}`).computeSaliency({
            ...options,
            manifestKey: v.manifestKey,
            variantId: v.variantId,
          }),
        );
    }
  }
  const summary: RunSummary = {
    runId: run.runId,
    label: run.label,
    train: trained,
    tests,
    challenge,
    saliency,
  };
  // The summary goes to the store and the study receives its key: the study's history and the report's input
  // then grow by a key per run, not by the run's numbers. Runs recorded before it return the summary itself.
  if (patched('i21-summary-in-store')) {
    const stored = await proxyActivities<ReturnType<typeof createReportActivities>>({
      startToCloseTimeout: '10 minutes',
      retry: { ...RETRY, initialInterval: '1s' },
      ...(ui ? { summary: 'store the run summary' } : {}),
    }).storeRunSummary(summary);
    phase('done');
    return stored;
  }
  phase('done');
  return summary;
}

/** evaluateModelOn over every variant of every test column, regrouped by column as the per-variant path returns. */
async function evaluateAll(
  evaluate: (summary: string) => TrainEvalActivities,
  modelKey: string,
  modelSpec: EvaluateManyInput['modelSpec'],
  columns: RunWorkflowInput['tests'],
  done: () => void,
): Promise<RunSummary['tests']> {
  const variants = columns.flatMap((t) => t.variants);
  if (!variants.length) return columns.map((t) => ({ label: t.label, accuracy: NaN, evaluations: [] }));
  const outs = await evaluate(`evaluate on ${variants.length} test sets`).evaluateModelOn({
    modelKey,
    modelSpec,
    variants: variants.map((v) => ({ manifestKey: v.manifestKey, variantId: v.variantId })),
  });
  done();
  let i = 0;
  return columns.map((t) => {
    const evaluations = t.variants.map(() => outs[i++]!);
    const accuracy = evaluations.reduce((s, e) => s + e.accuracy, 0) / evaluations.length;
    return { label: t.label, accuracy, evaluations };
  });
}

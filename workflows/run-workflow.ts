import { ApplicationFailure, defineQuery, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Duration, RetryPolicy } from '@temporalio/common';
import type {
  ChallengeOutput,
  FinetuneRunInput,
  ImportModelInput,
  RunSummary,
  SaliencyOutput,
  TrainEvalActivities,
  TrainRunInput,
  TrainRunOutput,
} from '../common/contracts';
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
  saliency: false | { samples: number; variants: { variantId: string; manifestKey: string }[] };
  gpuTaskQueue?: string;
  heartbeatTimeout?: Duration;
}

export type { RunSummary };

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

function gpu(taskQueue: string, heartbeatTimeout: Duration) {
  return {
    // Training heartbeats after every batch; a worker lost for two minutes is presumed dead, and the retry
    // resumes from the newest checkpoint in the store.
    train: proxyActivities<TrainEvalActivities>({
      taskQueue,
      startToCloseTimeout: '48 hours',
      heartbeatTimeout,
      retry: RETRY,
    }),
    evaluate: proxyActivities<TrainEvalActivities>({
      taskQueue,
      startToCloseTimeout: '12 hours',
      heartbeatTimeout,
      retry: RETRY,
    }),
  };
}

/**
 * One (model, train variant, seed) run: train, then evaluate on every test column, the backgrounds challenge
 * and saliency. A child of StudyWorkflow, so each run has its own bounded history.
 */
export async function RunWorkflow(input: RunWorkflowInput): Promise<RunSummary> {
  const { train, evaluate } = gpu(input.gpuTaskQueue ?? GPU_QUEUE, input.heartbeatTimeout ?? '2 minutes');
  const evaluationsTotal = input.tests.reduce((n, t) => n + t.variants.length, 0);
  const progress: RunProgress = {
    phase: 'train',
    evaluationsDone: 0,
    evaluationsTotal,
    label: (input.train ?? input.pretrained)?.label,
    epochs: input.train?.epochs ?? input.finetune?.epochs,
  };
  setHandler(runProgressQuery, () => progress);

  let trained: TrainRunOutput;
  // Only runs of pretrained models take this branch, so histories recorded before it replay unchanged.
  if (input.pretrained && patched('pretrained-models')) {
    progress.phase = 'import';
    trained = await evaluate.importModel(input.pretrained);
    // Only fine-tune runs reach this marker, so histories of plain pretrained runs replay unchanged.
    if (input.finetune && patched('pretrained-finetune')) {
      progress.phase = 'train';
      trained = await train.finetuneModel({ ...input.finetune, baseModelKey: trained.modelKey });
    }
  } else if (input.train) {
    trained = await train.trainModel(input.train);
  } else {
    throw ApplicationFailure.nonRetryable('RunWorkflow needs train or pretrained', 'SpecValidationError');
  }
  const modelSpec = input.train?.modelSpec;
  const run = (input.train ?? input.pretrained)!;

  progress.phase = 'evaluate';
  const tests = await mapLimit(input.tests, 2, async (t) => {
    const evaluations = await mapLimit(t.variants, 1, async (v) => {
      const out = await evaluate.evaluateModel({
        modelKey: trained.modelKey,
        modelSpec,
        manifestKey: v.manifestKey,
        variantId: v.variantId,
      });
      progress.evaluationsDone++;
      return out;
    });
    const accuracy = evaluations.reduce((s, e) => s + e.accuracy, 0) / evaluations.length;
    return { label: t.label, accuracy, evaluations };
  });

  let challenge: ChallengeOutput | null = null;
  if (input.challenge) {
    progress.phase = 'challenge';
    challenge = await evaluate.runChallenge({ modelKey: trained.modelKey, modelSpec, ...input.challenge });
  }

  const saliency: SaliencyOutput[] = [];
  if (input.saliency) {
    progress.phase = 'saliency';
    for (const v of input.saliency.variants) {
      saliency.push(
        await evaluate.computeSaliency({
          modelKey: trained.modelKey,
          modelSpec,
          manifestKey: v.manifestKey,
          variantId: v.variantId,
          samples: input.saliency.samples,
        }),
      );
    }
  }
  progress.phase = 'done';
  return { runId: run.runId, label: run.label, train: trained, tests, challenge, saliency };
}

import {
  ApplicationFailure,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createStudyActivities } from '../activities/study';
import { NON_RETRYABLE_ERRORS } from '../common/errors';

// CPU activities run on the workflow's own task queue (`bgstudy` in production, a unique one in tests).
const study = proxyActivities<ReturnType<typeof createStudyActivities>>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: NON_RETRYABLE_ERRORS,
  },
});

export interface StageProgress {
  done: number;
  total: number;
}

export interface StudyProgress {
  stage: 'register' | 'done';
  stages: Record<string, StageProgress>;
  studyHash?: string;
}

export interface StudyResult {
  studyHash: string;
  specKey: string;
  workflowId: string;
}

export const progressQuery = defineQuery<StudyProgress>('progress');
/** Stops the study cleanly: no new stage starts, running ones are cancelled, stored artifacts stay. */
export const cancelSignal = defineSignal('cancel');

/** The whole study as one durable DAG. Each stage only passes artifact keys to the next. */
export async function StudyWorkflow(spec: unknown): Promise<StudyResult> {
  const progress: StudyProgress = { stage: 'register', stages: { register: { done: 0, total: 1 } } };
  setHandler(progressQuery, () => progress);

  const registered = await study.registerStudy(spec).catch((err: unknown) => {
    throw ApplicationFailure.nonRetryable(
      `study spec rejected: ${(err as Error).message}`,
      'SpecValidationError',
    );
  });
  progress.studyHash = registered.studyHash;
  progress.stages.register = { done: 1, total: 1 };
  progress.stage = 'done';
  return {
    studyHash: registered.studyHash,
    specKey: registered.specKey,
    workflowId: workflowInfo().workflowId,
  };
}

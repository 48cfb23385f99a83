import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  defineSignal,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Duration, RetryPolicy, SearchAttributeUpdatePair } from '@temporalio/common';
import type { createDatasetActivities } from '../activities/dataset';
import type { createReportActivities } from '../activities/report';
import type { createStudyActivities } from '../activities/study';
import type { createVariantActivities } from '../activities/variants';
import { NON_RETRYABLE_ERRORS } from '../common/errors';
import { GPU_QUEUE } from '../common/queues';
import {
  STUDY_DATASET,
  STUDY_NAME,
  STUDY_PRESET,
  STUDY_SEARCH_ATTRIBUTES,
  STUDY_SPEC_HASH,
} from '../common/search-attributes';
import type { StudyPlan } from '../core/spec/plan';
import type { FailedRun } from '../core/report/results';
import { modelNameOf, readPlanRuns } from '../core/spec/planned-run';
import { mapLimit } from '../common/map-limit';
import { runInputOf } from './run-inputs';
import { reportInputOf } from './report-input';
import { RunWorkflow, type RunSummary, type StoredRunSummary } from './run-workflow';

type CpuActivities = ReturnType<typeof createStudyActivities> &
  ReturnType<typeof createDatasetActivities> &
  ReturnType<typeof createVariantActivities> &
  ReturnType<typeof createReportActivities>;

const RETRY: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: NON_RETRYABLE_ERRORS,
};

// CPU activities run on the workflow's own task queue (`bgstudy` in production, a unique one in tests).
const QUICK: ActivityOptions = { startToCloseTimeout: '10 minutes', retry: RETRY };

export const STAGES = ['register', 'dataset', 'variants', 'runs', 'report'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageProgress {
  done: number;
  total: number;
  /** Workflow time (ms since epoch) when the stage started / finished: enough for an ETA. */
  startedAt?: number;
  finishedAt?: number;
}

export interface StudyProgress {
  stage: Stage | 'done' | 'cancelled' | 'failed';
  stages: Partial<Record<Stage, StageProgress>>;
  studyHash?: string;
  /** Workflow ids of the RunWorkflows in flight (query them with `runProgress`). */
  running: string[];
}

export interface StudyResult {
  status: 'completed' | 'cancelled';
  studyHash: string;
  specKey: string;
  workflowId: string;
  resultsKey?: string;
  reportKey?: string;
  /** Local folder holding the report files, when the worker wrote one. */
  reportDir?: string;
  /** report.html in the store, and on the worker's disk when it wrote a local copy. */
  htmlKey?: string;
  htmlPath?: string;
  runs: number;
}

export interface StudyWorkflowOptions {
  /** Task queue of training and evaluation (tests use a unique one). */
  gpuTaskQueue?: string;
  /**
   * How long a silent long activity (no heartbeat) is presumed alive before it is retried elsewhere: the
   * time a killed worker costs. Default 2 minutes (a batch or a shard must fit in it).
   */
  heartbeatTimeout?: Duration;
  /** The preset the spec came from (`bgstudy run/start --preset`), for the BgStudyPreset search attribute. */
  preset?: string;
}

export const progressQuery = defineQuery<StudyProgress>('progress');
/** Stops the study cleanly: no new stage starts, running ones are cancelled, stored artifacts stay. */
export const cancelSignal = defineSignal('cancel');

/**
 * The whole study as one durable DAG: register the spec -> prepare the dataset -> generate every variant ->
 * one RunWorkflow per (model, train variant, seed) (train + evaluate on GPU workers) -> aggregate the report.
 * Stages pass artifact keys only; every stage finds its stored output when rerun, so a rerun is cheap.
 */
export async function StudyWorkflow(spec: unknown, options: StudyWorkflowOptions = {}): Promise<StudyResult> {
  const heartbeatTimeout = options.heartbeatTimeout ?? '2 minutes';
  // Summaries on activities and child workflows, current details and search attributes for the Temporal UI.
  // Histories recorded before them replay without (the search-attribute check is an extra activity).
  const ui = patched('ui-metadata');
  // Data stages heartbeat after every shard; a retry keeps the shards already in the store.
  const DATA: ActivityOptions = { startToCloseTimeout: '12 hours', heartbeatTimeout, retry: RETRY };
  /** The same proxies, with a summary the UI shows on the activity. */
  const said = (options: ActivityOptions, summary: string) =>
    ui ? proxyActivities<CpuActivities>({ ...options, summary }) : proxyActivities<CpuActivities>(options);
  const progress: StudyProgress = { stage: 'register', stages: {}, running: [] };
  setHandler(progressQuery, () => progress);
  const scope = new CancellationScope();
  setHandler(cancelSignal, () => scope.cancel());
  const begin = (stage: Stage, total: number) => {
    progress.stage = stage;
    progress.stages[stage] = { done: 0, total, startedAt: Date.now() };
    if (ui) setCurrentDetails(currentDetails(progress));
  };
  const step = (stage: Stage) => {
    const s = progress.stages[stage]!;
    s.done++;
    if (s.done === s.total) s.finishedAt = Date.now();
    if (ui) setCurrentDetails(currentDetails(progress));
  };
  let indexable: string[] = [];
  const index = (pairs: SearchAttributeUpdatePair[]) => {
    const known = pairs.filter((p) => indexable.includes(p.key.name) && p.value !== undefined);
    if (known.length) upsertSearchAttributes(known);
  };

  begin('register', 1);
  // Only a rejected spec is reported as one; anything else (a store refusing credentials) fails as itself.
  const rejected = (err: unknown): never => {
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === 'SpecValidationError')
      throw ApplicationFailure.nonRetryable(`study spec rejected: ${cause.message}`, 'SpecValidationError');
    throw err;
  };
  // The plan stays in the store and its runs arrive in pages; run summaries come back as keys, and the report
  // gets keys: no payload grows with the number of runs. Histories recorded before it pass the plan whole.
  const planInStore = patched('i21-plan-in-store');
  const register = said(QUICK, 'validate and plan the study spec');
  let registered: { plan: StudyPlan; specKey: string; planKey?: string };
  if (planInStore) {
    const { head, specKey } = await register.registerStudyPlan(spec).catch(rejected);
    const { planKey, runCount, ...rest } = head;
    const runs: unknown[] = [];
    while (runs.length < runCount) {
      const page = await said(QUICK, `read the plan's runs from ${runs.length}`).planRuns({
        planKey,
        from: runs.length,
      });
      if (!page.runs.length)
        throw ApplicationFailure.nonRetryable(`${planKey} has fewer than ${runCount} runs`);
      runs.push(...page.runs);
    }
    registered = { plan: readPlanRuns({ ...rest, runs }), specKey, planKey };
  } else {
    const old = await register.registerStudy(spec).catch(rejected);
    // Histories and studies from before the tagged-union runs carry the flat shape: read either.
    registered = { plan: readPlanRuns(old.plan), specKey: old.specKey };
  }
  const { plan } = registered;
  progress.studyHash = plan.studyHash;
  if (ui) {
    indexable = await said(QUICK, 'which search attributes the namespace has').registeredSearchAttributes(
      STUDY_SEARCH_ATTRIBUTES.map((k) => k.name),
    );
    index([
      { key: STUDY_NAME, value: plan.name },
      { key: STUDY_SPEC_HASH, value: plan.studyHash },
      ...(options.preset ? [{ key: STUDY_PRESET, value: options.preset }] : []),
    ]);
  }
  step('register');

  const runs: (RunSummary | StoredRunSummary)[] = [];
  const failed: (FailedRun & { failure: unknown })[] = [];
  let cancelled = false;
  let dataset: Awaited<ReturnType<CpuActivities['prepareDataset']>> | undefined;
  const variantKeys: Record<string, string> = {};
  try {
    await scope.run(async () => {
      begin('dataset', 1);
      dataset = await said(DATA, `prepare the ${plan.dataset.source} dataset`).prepareDataset(plan.dataset);
      if (ui) index([{ key: STUDY_DATASET, value: dataset.manifestKey }]);
      step('dataset');

      begin('variants', plan.variants.length);
      await mapLimit(plan.variants, plan.execution.variantConcurrency, async (v) => {
        const made = await said(DATA, `make variant ${v.id}`).materializeVariant({
          datasetManifestKey: dataset!.manifestKey,
          variant: v.spec,
          seed: v.seed,
        });
        variantKeys[v.id] = made.manifestKey;
        step('variants');
      });

      begin('runs', plan.runs.length);
      await mapLimit(plan.runs, plan.execution.runConcurrency, async (run) => {
        const childId = `${workflowInfo().workflowId}/run/${run.runId}`;
        progress.running.push(childId);
        let summary: RunSummary | StoredRunSummary;
        try {
          summary = await executeChild(RunWorkflow, {
            workflowId: childId,
            ...(ui ? { staticSummary: run.label, staticDetails: runDetails(plan, run) } : {}),
            args: [
              runInputOf(plan, run, variantKeys, dataset!.classes.length, {
                gpuTaskQueue: options.gpuTaskQueue ?? GPU_QUEUE,
                heartbeatTimeout,
              }),
            ],
          });
        } catch (err) {
          // A run that fails for good no longer stops the others: they finish, the report covers them and
          // names the failed run, then the study fails. Only failing runs reach the marker, so histories
          // recorded before it replay unchanged.
          if (isCancellation(err) || !patched('report-failed-runs')) throw err;
          failed.push({ runId: run.runId, label: run.label, error: rootMessage(err), failure: err });
          progress.running = progress.running.filter((id) => id !== childId);
          step('runs');
          return;
        }
        progress.running = progress.running.filter((id) => id !== childId);
        runs.push(summary);
        step('runs');
      });
    });
  } catch (err) {
    if (!isCancellation(err)) throw err;
    cancelled = true;
  }

  // The report also covers a cancelled study's finished runs; it must not be cancelled itself.
  begin('report', 1);
  const report = await CancellationScope.nonCancellable(() =>
    said(QUICK, 'aggregate the results and write the report').aggregateResults(
      reportInputOf({
        ...registered,
        dataset: dataset ?? null,
        variantKeys,
        finished: runs,
        failed: failed.map(({ failure: _, ...f }) => f),
        cancelled,
      }),
    ),
  );
  step('report');
  if (failed.length) {
    progress.stage = 'failed';
    const first = failed[0]!;
    throw ApplicationFailure.create({
      type: 'RunsFailed',
      nonRetryable: true,
      message: `${failed.length} of ${plan.runs.length} runs failed (${first.label}: ${first.error}); the report of the others: ${report.htmlKey ?? report.reportKey}`,
      details: [
        {
          failedRuns: failed.map(({ failure: _, ...f }) => f),
          resultsKey: report.resultsKey,
          htmlKey: report.htmlKey,
        },
      ],
      cause: first.failure instanceof Error ? first.failure : undefined,
    });
  }
  progress.stage = cancelled ? 'cancelled' : 'done';
  if (ui)
    setCurrentDetails(`${currentDetails(progress)}\n\nreport: ${report.htmlKey ?? report.reportKey ?? ''}`);
  return {
    status: cancelled ? 'cancelled' : 'completed',
    studyHash: plan.studyHash,
    specKey: registered.specKey,
    workflowId: workflowInfo().workflowId,
    resultsKey: report.resultsKey,
    reportKey: report.reportKey,
    reportDir: report.reportDir,
    htmlKey: report.htmlKey,
    htmlPath: report.htmlPath,
    runs: runs.length,
  };
}

/** The innermost message of a failure chain (study <- child run <- activity <- the error itself). */
function rootMessage(err: unknown): string {
  type Failure = { message?: string; cause?: Failure } | undefined;
  let e = err as Failure;
  while (e?.cause) e = e.cause;
  return e?.message ?? String(err);
}

/** The study's current details in the UI (Markdown): the stage it is in and each stage's count. */
function currentDetails(p: StudyProgress): string {
  const rows = Object.entries(p.stages).map(([k, s]) => `- ${k}: ${s.done}/${s.total}`);
  return [`**${p.stage}**`, ...rows].join('\n');
}

/** What a child RunWorkflow is, for its static details in the UI (Markdown). */
function runDetails(plan: StudyPlan, run: StudyPlan['runs'][number]): string {
  const lines = [
    `**${run.label}**`,
    `- model: ${modelNameOf(run)}${run.kind === 'trained' ? '' : ' (pretrained)'}, input ${run.inputSize} px`,
    run.kind === 'pretrained'
      ? '- not trained: evaluated as it came'
      : `- trained on: ${run.trainLabel}, ${run.epochs} epoch(s), batch ${run.batch}, seed ${run.seed}`,
    `- tested on: ${plan.tests.map((t) => t.label).join(', ')}`,
    `- study: ${plan.name} (spec ${plan.studyHash})`,
  ];
  return lines.join('\n');
}

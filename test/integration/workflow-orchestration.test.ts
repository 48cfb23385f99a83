/**
 * StudyWorkflow and RunWorkflow orchestration in seconds: the real workflow bundle on the real Temporal dev server
 * (the one `npm test` starts), with stub activities on unique task queues. What is under test is what the
 * workflows schedule, with which inputs, and what they return; the activities themselves are covered by the
 * end-to-end study tests. Every expectation below is written out from the spec by hand.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { createDatasetActivities } from '../../activities/dataset';
import type { createReportActivities } from '../../activities/report';
import type { createStudyActivities } from '../../activities/study';
import type { createVariantActivities } from '../../activities/variants';
import type { RunSummary, TrainEvalActivities, TrainRunOutput } from '../../core/contracts';
import { planStudy, type StudyPlan } from '../../core/spec/plan';
import { pageOfRuns, planHead } from '../../core/spec/plan-pages';
import { parseStudySpec } from '../../core/spec/study-spec';
import { workflowBundle } from '../../workers/create-worker';
import { installRuntime } from '../../workers/runtime';
import {
  cancelSignal,
  RunWorkflow,
  runProgressQuery,
  StudyWorkflow,
  type RunWorkflowInput,
  type StudyResult,
} from '../../workflows';
import { testServices, uniqueId } from '../helpers/env';

type CpuActivities = ReturnType<typeof createStudyActivities> &
  ReturnType<typeof createDatasetActivities> &
  ReturnType<typeof createVariantActivities> &
  ReturnType<typeof createReportActivities>;
type Activities = CpuActivities & TrainEvalActivities;

/** One scheduled activity as the stub saw it: which workflow, which activity, which input, which attempt. */
interface Call {
  workflowId: string;
  type: keyof Activities;
  input: unknown;
  attempt: number;
}

/** Per-study overrides of a stub (keyed by the study's workflow id; its runs share it). */
type Hooks = { [K in keyof Activities]?: (...args: Parameters<Activities[K]>) => ReturnType<Activities[K]> };

const calls: Call[] = [];
const hooks = new Map<string, Hooks>();

function record(type: keyof Activities, input: unknown): Hooks {
  const info = Context.current().info;
  const workflowId = info.workflowExecution?.workflowId ?? '';
  calls.push({ workflowId, type, input, attempt: info.attempt });
  return hooks.get(workflowId.split('/run/')[0]!) ?? {};
}

/** Evaluation accuracy the stub reports, by test manifest key (chosen so means are exact in binary). */
const ACCURACY: Record<string, number> = {
  'variants/original/0': 0.75,
  'variants/only_fg/0': 0.625,
  'variants/only_bg_t/0': 0.25,
  'variants/mixed_rand/1001': 0.5,
  'variants/mixed_rand/2001': 0.375,
};

const trained = (runId: string, modelKey: string): TrainRunOutput => ({
  runId,
  modelKey,
  curves: [],
  backend: 'stub',
  resumedFrom: null,
  batchesTrainedThisAttempt: 0,
  batchesTotal: 0,
  reused: false,
});

function evaluated(input: Parameters<Activities['evaluateModel']>[0]) {
  const accuracy = ACCURACY[input.manifestKey];
  if (accuracy === undefined) throw new Error(`stub has no accuracy for ${input.manifestKey}`);
  return Promise.resolve({
    variantId: input.variantId,
    n: 8,
    accuracy,
    perClassAccuracy: [],
    confusion: [],
    resultKey: `evals/${input.modelKey}/${input.variantId}`,
  });
}

const nameOf = (v: Parameters<Activities['materializeVariant']>[0]['variant']) =>
  typeof v === 'string' ? v : v.name;

/** What the stubs "stored": plans by key, run summaries by key (the report's input names them by key). */
const storedPlans = new Map<string, StudyPlan>();
const storedSummaries = new Map<string, RunSummary>();

const stubs: Activities = {
  async registerStudy(spec) {
    const h = record('registerStudy', spec);
    if (h.registerStudy) return h.registerStudy(spec);
    // The real, pure planner: the workflow receives the plan the real activity would return.
    const parsed = parseStudySpec(spec);
    return { plan: planStudy(parsed, 'stub-study-hash'), specKey: 'studies/stub/spec.json', reused: false };
  },
  async registerStudyPlan(spec) {
    record('registerStudyPlan', spec);
    const plan = planStudy(parseStudySpec(spec), 'stub-study-hash');
    const planKey = `studies/stub/plan-${Context.current().info.workflowExecution?.workflowId}.json`;
    storedPlans.set(planKey, plan);
    return { head: planHead(plan, planKey), specKey: 'studies/stub/spec.json', reused: false };
  },
  async planRuns(input) {
    record('planRuns', input);
    // One run per page (the real pages hold 256 KiB of runs), so a small study reads several.
    return pageOfRuns(storedPlans.get(input.planKey)!.runs, input.from, 1);
  },
  async storeRunSummary(summary) {
    record('storeRunSummary', summary);
    const summaryKey = `run-summaries/${summary.runId}/stub.json`;
    storedSummaries.set(summaryKey, summary);
    return { runId: summary.runId, label: summary.label, summaryKey };
  },
  async registeredSearchAttributes(names) {
    record('registeredSearchAttributes', names);
    return [];
  },
  async prepareDataset(source) {
    record('prepareDataset', source);
    return {
      manifestKey: 'datasets/stub/manifest.json',
      datasetHash: 'stub',
      classes: ['disk', 'square', 'triangle'],
      counts: {},
      skippedCount: 0,
      skipped: [],
      reused: false,
    };
  },
  async materializeVariant(input) {
    record('materializeVariant', input);
    const name = nameOf(input.variant);
    return {
      manifestKey: `variants/${name}/${input.seed ?? 0}`,
      variantHash: 'stub',
      datasetHash: 'stub',
      variant: { name } as never,
      label: name,
      classes: ['disk', 'square', 'triangle'],
      counts: {},
      reused: false,
    };
  },
  async aggregateResults(input) {
    record('aggregateResults', input);
    return { resultsKey: 'reports/stub/results.json', reportKey: 'reports/stub/report.md', htmlKey: 'h' };
  },
  async trainModel(input) {
    const h = record('trainModel', input);
    if (h.trainModel) return h.trainModel(input);
    return trained(input.runId, `runs/${input.runId}/model`);
  },
  async importModel(input) {
    const h = record('importModel', input);
    if (h.importModel) return h.importModel(input);
    return trained(input.runId, `models/${input.model.name}.json`);
  },
  async finetuneModel(input) {
    record('finetuneModel', input);
    return trained(input.runId, `runs/${input.runId}/final`);
  },
  async evaluateModel(input) {
    const h = record('evaluateModel', input);
    return h.evaluateModel ? h.evaluateModel(input) : evaluated(input);
  },
  // RunWorkflow's batched evaluation (patched 'batched-evaluation'): one activity, each of its variants recorded
  // (and hooked) as the evaluateModel it replaces, with this activity's attempt.
  async evaluateModelOn(input) {
    record('evaluateModelOn', input);
    const out = [];
    for (const v of input.variants)
      out.push(await stubs.evaluateModel({ modelKey: input.modelKey, modelSpec: input.modelSpec, ...v }));
    return out;
  },
  async runChallenge(input) {
    record('runChallenge', input);
    const { foregrounds, backgrounds } = input;
    return { foregrounds, backgrounds, adversarialAccuracy: 0.125, cleanAccuracy: 0.5, resultKey: 'ch' };
  },
  async computeSaliency(input) {
    record('computeSaliency', input);
    return {
      variantId: input.variantId,
      foregroundShare: 0.5,
      areaShare: 0.25,
      gridKey: 'g',
      resultKey: 's',
    };
  },
  async computeSaliencyOn(input) {
    record('computeSaliencyOn', input);
    const { variants, ...rest } = input;
    const out = [];
    for (const v of variants) out.push(await stubs.computeSaliency({ ...rest, ...v }));
    return out;
  },
};

let client: Client;
let connection: Connection;
let native: NativeConnection;
let workers: Worker[] = [];
let running: Promise<unknown>;
let taskQueue: string;
let gpuTaskQueue: string;

before(async () => {
  // The failures these tests provoke on purpose would each print a WARN.
  installRuntime('ERROR');
  const { temporalAddress } = testServices();
  native = await NativeConnection.connect({ address: temporalAddress });
  connection = await Connection.connect({ address: temporalAddress });
  client = new Client({ connection });
  taskQueue = uniqueId('orchestration');
  gpuTaskQueue = `${taskQueue}-gpu`;
  // Heartbeats reach the server at once, so a cancelled activity hears of it within a fraction of a second.
  const common = {
    connection: native,
    activities: stubs,
    maxHeartbeatThrottleInterval: '100ms',
    defaultHeartbeatThrottleInterval: '100ms',
  } as const;
  workers = [
    await Worker.create({ ...common, taskQueue, workflowBundle: await workflowBundle() }),
    await Worker.create({ ...common, taskQueue: gpuTaskQueue }),
  ];
  running = Promise.all(workers.map((w) => w.run()));
});

after(async () => {
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  await running;
  await connection?.close();
  await native?.close();
});

const dataset = { source: 'synthetic', classes: 3, perClass: { train: 4, val: 4 }, size: 16, seed: 1 };
const tinyTfjs = {
  name: 'tiny-tfjs',
  source: 'tfjs',
  uri: 'test/fixtures/models/tiny-tfjs/model.json',
  preprocess: { inputSize: 16, layout: 'NHWC', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
  classMap: 'identity',
};

/** Starts a study on the stub workers; `id` names it and keys its hooks. */
function startStudy(id: string, spec: object, h: Hooks = {}) {
  hooks.set(id, h);
  return client.workflow.start(StudyWorkflow, {
    taskQueue,
    workflowId: id,
    args: [spec, { gpuTaskQueue, heartbeatTimeout: '10s' }],
  });
}

/** The activities a study (and its child runs) scheduled, in the order they were called. */
const callsOf = (studyId: string, type?: keyof Activities) =>
  calls.filter(
    (c) =>
      (c.workflowId === studyId || c.workflowId.startsWith(`${studyId}/run/`)) && (!type || c.type === type),
  );

/** The inputs of one activity type a study scheduled, typed as the activity takes them. */
const inputsOf = <K extends keyof Activities>(studyId: string, type: K) =>
  callsOf(studyId, type).map((c) => c.input as Parameters<Activities[K]>[0]);

/**
 * aggregateResults' inputs as the report reads them: the plan and each finished run's summary read back from
 * the stubs' store. The input itself must carry keys only (a plan key, a summary key per run).
 */
const reportsOf = (studyId: string) =>
  inputsOf(studyId, 'aggregateResults').map(({ runs, ...input }) => {
    assert.ok('planKey' in input && storedPlans.has(input.planKey), 'the plan is passed by key');
    return {
      ...input,
      runs: runs.map((r) => {
        assert.deepEqual(Object.keys(r), ['summaryKey'], 'each run is passed by key');
        return storedSummaries.get((r as { summaryKey: string }).summaryKey)!;
      }),
    };
  });

const sorted = <T>(xs: T[]) => [...xs].sort();

test('a trained study: every variant once, one training per (variant, seed), every pairing evaluated, report last', async () => {
  const id = uniqueId('wf-trained');
  const result: StudyResult = await (
    await startStudy(id, {
      version: 1,
      name: 'wf-trained',
      dataset,
      variants: ['original', 'only_fg', 'mixed_rand'],
      train: [{ model: 'small_cnn', on: ['original', 'mixed_rand'], epochs: 2, batch: 4, seed: [1, 2] }],
      evaluate: { pairingRepeats: 2 },
    })
  ).result();

  assert.equal(result.status, 'completed');
  assert.equal(result.runs, 4);
  assert.equal(result.resultsKey, 'reports/stub/results.json');
  const types = callsOf(id).map((c) => c.type);
  assert.equal(types[0], 'registerStudyPlan');
  assert.equal(types.at(-1), 'aggregateResults');
  // The plan's 4 runs arrive one page each; each run stores its summary once.
  assert.deepEqual(
    inputsOf(id, 'planRuns').map((p) => p.from),
    [0, 1, 2, 3],
  );
  assert.equal(inputsOf(id, 'storeRunSummary').length, 4);
  assert.deepEqual(inputsOf(id, 'prepareDataset').length, 1);
  // Training uses mixed_rand with the pairing seed (1); tests use 1001 and 2001 (pairingRepeats 2).
  assert.deepEqual(sorted(inputsOf(id, 'materializeVariant').map((c) => `${nameOf(c.variant)}/${c.seed}`)), [
    'mixed_rand/1',
    'mixed_rand/1001',
    'mixed_rand/2001',
    'only_fg/0',
    'original/0',
  ]);
  const trainings = inputsOf(id, 'trainModel');
  assert.deepEqual(sorted(trainings.map((c) => `${c.trainManifestKey} seed ${c.seed}`)), [
    'variants/mixed_rand/1 seed 1',
    'variants/mixed_rand/1 seed 2',
    'variants/original/0 seed 1',
    'variants/original/0 seed 2',
  ]);
  for (const t of trainings) {
    assert.deepEqual(t.modelSpec, {
      arch: 'small_cnn',
      inputSize: 16,
      numClasses: 3,
      seed: t.seed,
    });
    assert.equal(t.epochs, 2);
    assert.equal(t.batch, 4);
    assert.equal(t.valManifestKey, t.trainManifestKey);
  }
  // 4 runs x (original + only_fg + 2 mixed_rand pairings), each with its own run's model.
  const evaluations = inputsOf(id, 'evaluateModel');
  assert.equal(evaluations.length, 16);
  for (const e of evaluations) assert.match(e.modelKey, /^runs\/[0-9a-f]+\/model$/);
  assert.equal(new Set(evaluations.map((e) => e.modelKey)).size, 4);
  assert.equal(inputsOf(id, 'importModel').length + inputsOf(id, 'finetuneModel').length, 0);
  assert.equal(inputsOf(id, 'runChallenge').length + inputsOf(id, 'computeSaliency').length, 0);

  const [report] = reportsOf(id);
  assert.equal(report!.cancelled, false);
  assert.equal(report!.dataset?.manifestKey, 'datasets/stub/manifest.json');
  assert.equal(Object.keys(report!.variantKeys).length, 5);
  assert.equal(report!.runs.length, 4);
  for (const run of report!.runs) {
    // mixed_rand: mean of its two pairings, (0.5 + 0.375) / 2.
    assert.deepEqual(
      run.tests.map((t) => [t.label, t.accuracy]),
      [
        ['original', 0.75],
        ['only_fg', 0.625],
        ['mixed_rand', 0.4375],
      ],
    );
    assert.equal(run.challenge, null);
    assert.deepEqual(run.saliency, []);
  }
  // The report lists runs in plan order (spec order: original seeds 1, 2, then mixed_rand seeds 1, 2).
  assert.deepEqual(
    report!.runs.map((r) => r.label),
    [
      'small_cnn on original (seed 1)',
      'small_cnn on original (seed 2)',
      'small_cnn on mixed_rand (seed 1)',
      'small_cnn on mixed_rand (seed 2)',
    ],
  );
});

test('a pretrained model is imported, not trained, and evaluated without a model spec', async () => {
  const id = uniqueId('wf-pretrained');
  const result = await (
    await startStudy(id, {
      version: 1,
      name: 'wf-pretrained',
      dataset,
      variants: ['original', 'only_fg'],
      models: [tinyTfjs],
      evaluate: { pairingRepeats: 1 },
    })
  ).result();
  assert.equal(result.status, 'completed');
  assert.equal(result.runs, 1);
  const imports = inputsOf(id, 'importModel');
  assert.equal(imports.length, 1);
  assert.equal(imports[0]!.model.name, 'tiny-tfjs');
  assert.equal(imports[0]!.model.uri, tinyTfjs.uri);
  assert.equal(imports[0]!.label, 'tiny-tfjs (pretrained tfjs)');
  assert.equal(inputsOf(id, 'trainModel').length + inputsOf(id, 'finetuneModel').length, 0);
  const evaluations = inputsOf(id, 'evaluateModel');
  assert.deepEqual(sorted(evaluations.map((e) => e.manifestKey)), [
    'variants/only_fg/0',
    'variants/original/0',
  ]);
  for (const e of evaluations) {
    assert.equal(e.modelKey, 'models/tiny-tfjs.json');
    assert.equal(e.modelSpec, undefined);
  }
  // Nothing to train on: only the tested variants are made.
  assert.equal(inputsOf(id, 'materializeVariant').length, 2);
});

test('a fine-tune imports the model, fine-tunes from its key and evaluates the fine-tuned weights', async () => {
  const id = uniqueId('wf-finetune');
  const result = await (
    await startStudy(id, {
      version: 1,
      name: 'wf-finetune',
      dataset,
      variants: ['original', 'only_fg'],
      models: [{ ...tinyTfjs, finetune: { on: ['only_fg'], epochs: 3, batch: 4, trainable: 'head' } }],
      evaluate: { pairingRepeats: 1 },
    })
  ).result();
  assert.equal(result.status, 'completed');
  assert.equal(result.runs, 2, 'the model as it came, and its fine-tune');
  assert.equal(inputsOf(id, 'importModel').length, 2);
  assert.equal(inputsOf(id, 'trainModel').length, 0);
  const [ft, ...more] = inputsOf(id, 'finetuneModel');
  assert.equal(more.length, 0);
  const input = ft!;
  assert.equal(input.baseModelKey, 'models/tiny-tfjs.json');
  assert.equal(input.trainManifestKey, 'variants/only_fg/0');
  assert.deepEqual(
    [input.epochs, input.batch, input.seed, input.head, input.trainable],
    [3, 4, 1, 'replace', 'head'],
  );
  assert.equal(input.label, 'tiny-tfjs-ft-only_fg (seed 1)');
  // The fine-tune's evaluations read its own weights; the plain run's read the imported model.
  const byModel = (key: string) => inputsOf(id, 'evaluateModel').filter((e) => e.modelKey === key).length;
  assert.equal(byModel(`runs/${input.runId}/final`), 2);
  assert.equal(byModel('models/tiny-tfjs.json'), 2);
  const [report] = reportsOf(id);
  const ftRun = report!.runs.find((r) => r.runId === input.runId);
  assert.equal(ftRun?.train.modelKey, `runs/${input.runId}/final`);
});

test('the challenge and saliency: original foregrounds on only_bg_t backgrounds, saliency per test column', async () => {
  const id = uniqueId('wf-challenge');
  const result = await (
    await startStudy(id, {
      version: 1,
      name: 'wf-challenge',
      dataset,
      variants: ['mixed_rand'],
      train: [{ model: 'small_cnn', on: ['mixed_rand'], epochs: 1, batch: 4 }],
      evaluate: {
        pairingRepeats: 1,
        challenge: { backgrounds: 4, foregrounds: 3 },
        saliency: { samples: 2, method: 'gradient' },
      },
    })
  ).result();
  assert.equal(result.status, 'completed');
  // The challenge brings original and only_bg_t into the study.
  assert.deepEqual(sorted(inputsOf(id, 'materializeVariant').map((c) => `${nameOf(c.variant)}/${c.seed}`)), [
    'mixed_rand/1',
    'mixed_rand/1001',
    'only_bg_t/0',
    'original/0',
  ]);
  const [challenge, ...more] = inputsOf(id, 'runChallenge');
  assert.equal(more.length, 0);
  const [training] = inputsOf(id, 'trainModel');
  assert.deepEqual(challenge!, {
    modelKey: `runs/${training!.runId}/model`,
    modelSpec: { arch: 'small_cnn', inputSize: 16, numClasses: 3, seed: 1 },
    foregroundManifestKey: 'variants/original/0',
    backgroundManifestKey: 'variants/only_bg_t/0',
    backgrounds: 4,
    foregrounds: 3,
  });
  // One batched saliency activity for the run (patched 'batched-saliency'), over every saliency variant.
  assert.equal(inputsOf(id, 'computeSaliencyOn').length, 1);
  assert.deepEqual(
    sorted(inputsOf(id, 'computeSaliency').map((c) => `${c.manifestKey} x${c.samples} ${c.method}`)),
    [
      'variants/mixed_rand/1001 x2 gradient',
      'variants/only_bg_t/0 x2 gradient',
      'variants/original/0 x2 gradient',
    ],
  );
  const [report] = reportsOf(id);
  const [run] = report!.runs;
  assert.equal(run?.challenge?.adversarialAccuracy, 0.125);
  assert.equal(run?.saliency.length, 3);
});

// The timeout turns a cancel that never lands (training forever) into a failure rather than a hung suite.
test(
  'cancel during training: the activity is cancelled, no run finishes, the report covers what did',
  { timeout: 60_000 },
  async () => {
    const id = uniqueId('wf-cancel');
    let started!: () => void;
    const training = new Promise<void>((resolve) => (started = resolve));
    let heard: unknown;
    const handle = await startStudy(
      id,
      {
        version: 1,
        name: 'wf-cancel',
        dataset,
        variants: ['original', 'only_fg'],
        train: [{ model: 'small_cnn', on: ['original'], epochs: 1, batch: 4 }],
        evaluate: { pairingRepeats: 1 },
      },
      {
        // Trains "forever", heartbeating, until told to stop.
        async trainModel() {
          const ctx = Context.current();
          started();
          try {
            for (;;) {
              ctx.heartbeat({ epoch: 0, batch: 0 });
              await ctx.sleep(50);
            }
          } catch (err) {
            heard = err;
            throw err;
          }
        },
      },
    );
    await training;
    await handle.signal(cancelSignal);
    const result = await handle.result();
    assert.equal(result.status, 'cancelled');
    assert.equal(result.runs, 0);
    const [report, ...more] = reportsOf(id);
    assert.equal(more.length, 0);
    assert.equal(report!.cancelled, true);
    assert.deepEqual(report!.runs, []);
    assert.equal(Object.keys(report!.variantKeys).length, 2, 'the variants made before the cancel');
    assert.equal(inputsOf(id, 'evaluateModel').length, 0);
    // The training activity itself hears of the cancel through its heartbeat.
    for (let i = 0; i < 100 && heard === undefined; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((heard as Error | undefined)?.name, 'CancelledFailure');
  },
);

test('a rejected spec fails the study at registration, naming the field; nothing else is scheduled', async () => {
  const id = uniqueId('wf-rejected');
  const handle = await startStudy(id, {
    version: 1,
    name: 'wf-rejected',
    dataset,
    variants: ['original'],
    train: [{ model: 'small_cnn', on: ['original'], epochs: 1, batch: 1 }],
  });
  const err = await handle.result().then(
    () => assert.fail('the study should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError);
  assert.ok(err.cause instanceof ApplicationFailure);
  assert.equal(err.cause.type, 'SpecValidationError');
  assert.match(err.cause.message, /^study spec rejected: .*batch/s);
  assert.deepEqual(
    callsOf(id).map((c) => c.type),
    ['registerStudyPlan'],
    'one attempt (not retried), nothing after it',
  );
});

test('a run failing for good: the other runs finish, the report covers them and names it, the study fails; a transient evaluation failure is retried', async () => {
  const spec = (name: string, seed: number | number[] = 1) => ({
    version: 1,
    name,
    dataset,
    variants: ['original'],
    train: [{ model: 'small_cnn', on: ['original'], epochs: 1, batch: 4, seed }],
    evaluate: { pairingRepeats: 1 },
  });
  const failing = uniqueId('wf-train-fails');
  const err = await (
    await startStudy(failing, spec('wf-train-fails', [1, 2, 3]), {
      async trainModel(input) {
        if (input.modelSpec.seed === 2)
          throw ApplicationFailure.create({
            message: 'checkpoint of another run',
            type: 'CheckpointMismatchError',
          });
        return trained(input.runId, `runs/${input.runId}/model`);
      },
    })
  )
    .result()
    .then(
      () => assert.fail('the study should fail'),
      (e: unknown) => e,
    );
  assert.ok(err instanceof WorkflowFailedError);
  assert.ok(err.cause instanceof ApplicationFailure);
  assert.equal(err.cause.type, 'RunsFailed');
  assert.match(
    err.cause.message,
    /^1 of 3 runs failed \(.*seed 2.*: checkpoint of another run\); the report of the others: /,
  );
  // study <- child run <- activity <- the error itself, kept as the cause
  let cause: unknown = err;
  while ((cause as Error).cause) cause = (cause as Error).cause;
  assert.ok(cause instanceof ApplicationFailure);
  assert.equal(cause.type, 'CheckpointMismatchError');
  assert.equal(inputsOf(failing, 'trainModel').length, 3, 'a non-retryable type is not retried');
  assert.equal(inputsOf(failing, 'evaluateModelOn').length, 2, 'the other runs are evaluated');
  const [partial, ...more] = reportsOf(failing);
  assert.equal(more.length, 0);
  assert.deepEqual(
    partial!.runs.map((r) => r.label),
    inputsOf(failing, 'trainModel')
      .filter((t) => t.modelSpec.seed !== 2)
      .map((t) => t.label),
  );
  assert.deepEqual(
    partial!.failedRuns?.map((f) => [f.error, f.label.includes('seed 2')]),
    [['checkpoint of another run', true]],
  );
  assert.equal(partial!.cancelled, false);

  const flaky = uniqueId('wf-eval-flaky');
  const result = await (
    await startStudy(flaky, spec('wf-eval-flaky'), {
      async evaluateModel(input) {
        if (Context.current().info.attempt === 1) throw new Error('GPU worker lost');
        return evaluated(input);
      },
    })
  ).result();
  assert.equal(result.status, 'completed');
  const evaluations = callsOf(flaky, 'evaluateModel');
  assert.deepEqual(
    evaluations.map((e) => e.attempt),
    [1, 2],
  );
  const [report] = reportsOf(flaky);
  assert.equal(report!.runs[0]?.tests[0]?.accuracy, 0.75);
});

test('RunWorkflow alone: fine-tune summary, progress at the end, and an input with no model refused', async () => {
  const id = uniqueId('wf-run');
  hooks.set(id, {});
  const input: RunWorkflowInput = {
    pretrained: {
      runId: 'r1',
      label: 'tiny ft',
      model: { ...tinyTfjs, source: 'tfjs', classMap: 'identity' } as never,
    },
    finetune: {
      runId: 'r1',
      label: 'tiny ft',
      trainManifestKey: 'variants/original/0',
      valManifestKey: 'variants/original/0',
      epochs: 2,
      batch: 4,
      optimizer: { name: 'adam', learningRate: 0.001 },
      augment: false,
      seed: 7,
      checkpointEveryBatches: 0,
      head: 'replace',
      trainable: 'all',
    },
    tests: [
      { label: 'original', variants: [{ variantId: 'original', manifestKey: 'variants/original/0' }] },
      {
        label: 'mixed_rand',
        variants: [
          { variantId: 'mixed_rand#1001', manifestKey: 'variants/mixed_rand/1001' },
          { variantId: 'mixed_rand#2001', manifestKey: 'variants/mixed_rand/2001' },
        ],
      },
    ],
    challenge: false,
    saliency: false,
    gpuTaskQueue,
    heartbeatTimeout: '10s',
  };
  const handle = await client.workflow.start(RunWorkflow, { taskQueue, workflowId: id, args: [input] });
  const result = await handle.result();
  assert.ok('summaryKey' in result, 'the run returns where its summary is stored');
  const summary = storedSummaries.get(result.summaryKey)!;
  assert.deepEqual([result.runId, result.label], ['r1', 'tiny ft']);
  assert.equal(summary.runId, 'r1');
  assert.equal(summary.train.modelKey, 'runs/r1/final');
  assert.deepEqual(
    summary.tests.map((t) => [t.label, t.accuracy, t.evaluations.length]),
    [
      ['original', 0.75, 1],
      ['mixed_rand', 0.4375, 2],
    ],
  );
  assert.equal(inputsOf(id, 'finetuneModel')[0]!.baseModelKey, 'models/tiny-tfjs.json');
  assert.deepEqual(await handle.query(runProgressQuery), {
    phase: 'done',
    evaluationsDone: 3,
    evaluationsTotal: 3,
    label: 'tiny ft',
    epochs: 2,
  });

  const none = uniqueId('wf-run-none');
  const err = await client.workflow
    .execute(RunWorkflow, {
      taskQueue,
      workflowId: none,
      args: [{ ...input, pretrained: undefined, finetune: undefined }],
    })
    .then(
      () => assert.fail('should fail'),
      (e: unknown) => e,
    );
  assert.ok(err instanceof WorkflowFailedError);
  assert.equal((err.cause as ApplicationFailure).type, 'SpecValidationError');
  assert.equal(callsOf(none).length, 0);
});

/**
 * Every payload a study sends or receives through Temporal, sized as Temporal sees it (@temporalio/common's
 * defaultPayloadConverter), for the largest study a spec may plan (issue 21): thousands of tiny runs. Temporal
 * refuses a payload past 2 MB; here each must stay under 1 MiB, and the study's history under Temporal's limits.
 * The payloads are built by the functions the workflows use (planStudy, planHead/pageOfRuns, runInputOf,
 * runSummaryKey, reportInputOf); run summaries are CONSTRUCTED (test/helpers/report-fixture.ts, no training).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { SpecValidationError } from '../../common/errors';
import type { StoredRunSummary } from '../../core/contracts';
import { hashOf } from '../../core/hash';
import { runSummaryKey } from '../../core/report/run-summaries';
import { MAX_STUDY_HISTORY_EVENTS } from '../../core/spec/history-limits';
import { planStudy } from '../../core/spec/plan';
import { pageOfRuns, planHead, planKeyOf } from '../../core/spec/plan-pages';
import { parseStudySpec } from '../../core/spec/study-spec';
import { validateStudySpec } from '../../core/spec/validate';
import { reportInputOf } from '../../workflows/report-input';
import { runInputOf } from '../../workflows/run-inputs';
import { constructRunSummaries } from '../helpers/report-fixture';

const MiB = 1024 * 1024;
const bytes = (value: unknown) => defaultPayloadConverter.toPayload(value).data!.length;

const CLASSES = 9;
/** 2 models x 2 train variants x `seeds` seeds; every Xiao test column with 2 pairings, challenge and saliency. */
const bigSpec = (seeds: number) => ({
  version: 1,
  name: 'payload-sizes',
  dataset: { source: 'synthetic', classes: CLASSES, perClass: { train: 8, val: 4 }, size: 16, seed: 1 },
  variants: ['original', 'only_fg', 'only_bg_t', 'mixed_same', 'mixed_rand', 'mixed_next'],
  train: [
    {
      model: 'small_cnn',
      on: ['original', 'mixed_rand'],
      epochs: 1,
      batch: 8,
      seed: Array.from({ length: seeds }, (_, i) => i + 1),
    },
    {
      model: 'resnet18',
      on: ['original', 'mixed_rand'],
      epochs: 1,
      batch: 8,
      seed: Array.from({ length: seeds }, (_, i) => i + 1),
    },
  ],
  evaluate: {
    pairingRepeats: 2,
    challenge: { backgrounds: 8, foregrounds: 8 },
    saliency: { samples: 4, method: 'gradient' },
  },
});

// 4 runs per seed: 1,100 seeds is 4,400 runs, 1,120 is 4,480 (up to 9 history events each at worst).
const ALLOWED_SEEDS = 1_100;
const REFUSED_SEEDS = 1_120;

test('the largest study a spec may plan: every payload under 1 MiB, its history under Temporal limits', (t) => {
  const spec = parseStudySpec(bigSpec(ALLOWED_SEEDS));
  const plan = planStudy(spec);
  assert.equal(plan.runs.length, 4 * ALLOWED_SEEDS);
  // Keys shaped like the real ones (variants/<dataset>/<name>/<hash>/manifest.json).
  const variantKeys = Object.fromEntries(
    plan.variants.map((v) => [v.id, `variants/${hashOf('d')}/${v.spec.name}/${hashOf(v)}/manifest.json`]),
  );
  const summaries = constructRunSummaries(plan, CLASSES);
  const stored: StoredRunSummary[] = summaries.map((s) => ({
    runId: s.runId,
    label: s.label,
    summaryKey: runSummaryKey(s),
  }));
  const dataset = {
    manifestKey: `datasets/${hashOf('d')}/manifest.json`,
    datasetHash: hashOf('d'),
    classes: Array.from({ length: CLASSES }, (_, i) => `class-${i}`),
    counts: { train: 72, val: 36 },
    skippedCount: 0,
    skipped: [],
    reused: false,
  };
  const planKey = planKeyOf(plan);
  const pages: ReturnType<typeof pageOfRuns>[] = [];
  for (let from = 0; from < plan.runs.length;) {
    const page = pageOfRuns(plan.runs, from);
    pages.push(page);
    from = page.next;
  }
  assert.deepEqual(
    pages.flatMap((p) => p.runs),
    plan.runs,
    'the pages hold every run once, in order',
  );
  const queues = { gpuTaskQueue: 'bgstudy-gpu', heartbeatTimeout: '2 minutes' } as const;
  const childInputs = plan.runs.map((r) => bytes(runInputOf(plan, r, variantKeys, CLASSES, queues)));
  const specKey = `studies/${plan.studyHash}/spec.json`;
  const reportInput = reportInputOf({
    plan,
    planKey,
    specKey,
    dataset,
    variantKeys,
    finished: stored,
    failed: [],
    cancelled: false,
  });

  const payloads: [string, number][] = [
    ['StudyWorkflow input (the spec)', bytes([bigSpec(ALLOWED_SEEDS), { gpuTaskQueue: 'bgstudy-gpu' }])],
    ['registerStudyPlan result', bytes({ head: planHead(plan, planKey), specKey, reused: false })],
    ['planRuns result, largest page', Math.max(...pages.map((p) => bytes(p)))],
    ['RunWorkflow input, largest', Math.max(...childInputs)],
    ['storeRunSummary input (one run summary), largest', Math.max(...summaries.map(bytes))],
    ['RunWorkflow result, largest', Math.max(...stored.map(bytes))],
    ['aggregateResults input', bytes(reportInput)],
  ];
  for (const [what, n] of payloads) t.diagnostic(`${what}: ${(n / 1024).toFixed(1)} KiB`);
  for (const [what, n] of payloads) assert.ok(n < MiB, `${what}: ${n} bytes, over 1 MiB`);

  // The report reads back exactly the runs that finished, in plan order, by key.
  assert.deepEqual(
    reportInput.runs,
    stored.map((s) => ({ summaryKey: s.summaryKey })),
  );
  // What the study's own history holds, at most: the payloads above once per run or page, well under 50 MB.
  const historyBytes =
    payloads[0]![1] +
    payloads[1]![1] +
    pages.reduce((n, p) => n + bytes(p), 0) +
    childInputs.reduce((n, x) => n + x, 0) +
    stored.reduce((n, s) => n + bytes(s), 0) +
    bytes(reportInput);
  t.diagnostic(`study history payloads: ${(historyBytes / MiB).toFixed(1)} MiB`);
  assert.ok(historyBytes < 40 * MiB, `${historyBytes} bytes of payloads in one history`);

  // Before the plan and the summaries stayed in the store, the same study's report input carried them inline:
  // over Temporal's 2 MB limit, so the study could not have finished (what this test guards against).
  const inline = bytes(
    reportInputOf({ plan, specKey, dataset, variantKeys, finished: summaries, failed: [], cancelled: false }),
  );
  t.diagnostic(`aggregateResults input with the plan and summaries inline: ${(inline / MiB).toFixed(1)} MiB`);
  assert.ok(inline > 2 * MiB);
  const wholePlan = bytes({ plan, specKey, reused: false });
  t.diagnostic(`registerStudy result with the whole plan: ${(wholePlan / MiB).toFixed(2)} MiB`);
});

test('a study past the history limit is refused with the spec, naming the field and the limit', () => {
  assert.throws(
    () => validateStudySpec(bigSpec(REFUSED_SEEDS)),
    (e: unknown) =>
      e instanceof SpecValidationError &&
      new RegExp(`train.*${4 * REFUSED_SEEDS} runs.*over the ${MAX_STUDY_HISTORY_EVENTS}`, 's').test(
        e.message,
      ),
  );
  assert.doesNotThrow(() => validateStudySpec(bigSpec(ALLOWED_SEEDS)));
});

test('a rerun lands on the stored run summary: only its numbers make the key, not what the attempt reused', () => {
  const plan = planStudy(parseStudySpec(bigSpec(1)));
  const [first] = constructRunSummaries(plan, CLASSES);
  const rerun = {
    ...first!,
    train: { ...first!.train, reused: true, resumedFrom: null, batchesTrainedThisAttempt: 0 },
  };
  assert.equal(runSummaryKey(rerun), runSummaryKey(first!));
  const other = { ...first!, train: { ...first!.train, modelKey: `${first!.train.modelKey}-other` } };
  assert.notEqual(runSummaryKey(other), runSummaryKey(first!));
});

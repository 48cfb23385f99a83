import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EvaluateOutput, RunSummary } from '../../core/contracts';
import { buildResults, resultsMarkdown } from '../../core/report/results';
import { planStudy } from '../../core/spec/plan';
import { parseStudySpec } from '../../core/spec/study-spec';
import type { EvalDetails } from '../../core/report/eval-details';

const spec = parseStudySpec({
  version: 1,
  name: 'pairs',
  dataset: { source: 'synthetic', classes: 2, perClass: { train: 4, val: 2 }, size: 16 },
  variants: ['original', 'mixed_same', 'mixed_rand'],
  train: [
    { on: ['original'], epochs: 1, seed: [1, 2] },
    { on: ['original'], epochs: 1, seed: [1, 2], context: { label: 'background', weight: 0.5 } },
    // a context run whose twin (seed 3, no head) is not in the study: no pair
    { on: ['original'], epochs: 1, seed: 3, context: { label: 'background', weight: 0.5 } },
  ],
  evaluate: { pairingRepeats: 1 },
});
const plan = planStudy(spec);
const ids = ['val/a/0', 'val/a/1', 'val/b/2', 'val/b/3'];

/** A run's summary and its per-image results: `scores[column]` is each image's correctness, in `ids` order. */
function run(runId: string, scores: Record<string, number[]>, details: EvalDetails): RunSummary {
  const tests = Object.entries(scores).map(([label, correct]) => {
    const resultKey = `evals/${runId}/${label}`;
    details.images[resultKey] = { ids, correct: Uint8Array.from(correct) };
    const accuracy = correct.reduce((a, b) => a + b, 0) / correct.length;
    const e: EvaluateOutput = {
      variantId: label,
      n: 4,
      accuracy,
      perClassAccuracy: [],
      confusion: [],
      resultKey,
    };
    return { label, accuracy, evaluations: [e] };
  });
  return {
    runId,
    label: runId,
    train: {
      runId,
      modelKey: `m/${runId}`,
      curves: [],
      backend: 'cpu',
      resumedFrom: null,
      batchesTrainedThisAttempt: 0,
      batchesTotal: 0,
      reused: false,
    },
    tests,
    challenge: null,
    saliency: [],
  };
}

test('each run with a context head is paired with its twin: BG-Gap and mixed_rand, intervals, paired difference', () => {
  const [plain1, plain2, head1, head2, head3] = plan.runs;
  assert.deepEqual(
    plan.runs.map((r) => (r.kind === 'trained' ? [r.seed, r.context?.weight ?? null] : null)),
    [
      [1, null],
      [2, null],
      [1, 0.5],
      [2, 0.5],
      [3, 0.5],
    ],
  );
  const details: EvalDetails = { images: {}, saliency: {}, missing: [] };
  // without: gaps per image 0,1,1,0 (0.5); mixed_rand 0.25.  with: gaps 0,0,0,1 (0.25); mixed_rand 0.5
  const runs = [
    run(
      plain1!.runId,
      { original: [1, 1, 1, 1], mixed_same: [1, 1, 1, 0], mixed_rand: [1, 0, 0, 0] },
      details,
    ),
    run(
      plain2!.runId,
      { original: [1, 1, 1, 1], mixed_same: [1, 1, 1, 1], mixed_rand: [0, 0, 0, 0] },
      details,
    ),
    run(
      head1!.runId,
      { original: [1, 1, 1, 1], mixed_same: [1, 1, 0, 1], mixed_rand: [1, 1, 0, 0] },
      details,
    ),
    run(
      head2!.runId,
      { original: [1, 1, 1, 1], mixed_same: [1, 1, 1, 1], mixed_rand: [1, 1, 1, 1] },
      details,
    ),
    run(
      head3!.runId,
      { original: [1, 1, 1, 1], mixed_same: [1, 1, 1, 1], mixed_rand: [1, 1, 1, 1] },
      details,
    ),
  ];
  const results = buildResults({
    plan,
    specKey: 's',
    dataset: null,
    variantKeys: {},
    runs,
    cancelled: false,
    details,
  });
  const pairs = results.contextPairs!;
  assert.equal(pairs.length, 2, 'seed 3 has no twin');
  const [p1, p2] = pairs as [NonNullable<typeof pairs>[0], NonNullable<typeof pairs>[0]];
  assert.deepEqual([p1.withRunId, p1.withoutRunId, p1.seed], [head1!.runId, plain1!.runId, 1]);
  assert.deepEqual([p2.withRunId, p2.withoutRunId, p2.seed], [head2!.runId, plain2!.runId, 2]);
  assert.deepEqual(p1.context, { label: 'background', weight: 0.5 });
  assert.equal(p1.bgGap.with, 0.25);
  assert.equal(p1.bgGap.without, 0.5);
  assert.equal(p1.bgGap.difference, -0.25);
  assert.equal(p1.mixedRand.with, 0.5);
  assert.equal(p1.mixedRand.without, 0.25);
  assert.equal(p1.mixedRand.difference, 0.25);
  // per-image differences of the gap: 0,-1,-1,1; of mixed_rand: 0,1,0,0. A bootstrap mean stays in their range.
  const d = p1.bgGap.differenceInterval!;
  assert.equal(d.n, 4);
  assert.ok(d.lo >= -1 && d.lo < -0.25 && d.hi > -0.25 && d.hi <= 1, JSON.stringify(d));
  const r = p1.mixedRand.differenceInterval!;
  assert.ok(r.lo >= 0 && r.hi <= 1 && r.lo <= 0.25 && r.hi >= 0.25, JSON.stringify(r));
  // each side's interval is the one the results table prints for that run
  const row = (id: string) => results.rows.find((x) => x.runId === id)!;
  assert.deepEqual(
    { lo: p1.bgGap.withInterval!.lo, hi: p1.bgGap.withInterval!.hi },
    { lo: row(head1!.runId).bgGapTest!.lo, hi: row(head1!.runId).bgGapTest!.hi },
  );
  assert.deepEqual(p1.mixedRand.withoutInterval, row(plain1!.runId).accuracyInterval.mixed_rand);
  // seed 2: gap 0 vs 1 (−1 for every image), mixed_rand 1 vs 0
  assert.equal(p2.bgGap.difference, -1);
  assert.deepEqual([p2.bgGap.differenceInterval!.lo, p2.bgGap.differenceInterval!.hi], [-1, -1]);
  // over the two seeds: mean of (−0.25, −1) and of (0.25, 1), with a t interval
  const g = results.contextPairGroups!;
  assert.equal(g.length, 1);
  assert.deepEqual(g[0]!.seeds, [1, 2]);
  assert.equal(g[0]!.bgGapDifference!.value, -0.625);
  assert.equal(g[0]!.mixedRandDifference!.value, 0.625);
  // t(1) 0.975 = 12.706; sd of (0.25, 1) = 0.530: the interval is wide and clipped to [−1, 1]
  assert.equal(g[0]!.mixedRandDifference!.hi, 1);

  // a head and no head are never averaged together over seeds
  const groups = results.seedGroups.map((s) => [s.arch, s.context?.label ?? null, s.seeds.join(' ')]);
  assert.deepEqual(groups, [
    ['small_cnn', null, '1 2'],
    ['small_cnn', 'background', '1 2 3'],
  ]);

  const md = resultsMarkdown(results);
  assert.match(md, /## Context head/);
  assert.match(
    md,
    /\| small_cnn \| original \| background ×0\.5 \| 1 \| 25\.0 \[[^\]]+\] \| 50\.0 \[[^\]]+\] \| -25\.0 \[[^\]]+\] \| 50\.0 \[[^\]]+\] \| 25\.0 \[[^\]]+\] \| \+25\.0 \[/,
  );
  assert.match(md, /\| small_cnn \+ context background ×0\.5 \| original \| 3 \|/);
  assert.match(md, /seeds 1 2: BG-Gap -62\.5 \[/);
  // one engine on both sides here: no engine note
  assert.deepEqual(p1.backends, { with: 'cpu', without: 'cpu' });
  assert.doesNotMatch(md, /Engines differ/);
  const engines = resultsMarkdown({
    ...results,
    contextPairs: pairs.map((p) => ({ ...p, backends: { with: 'tensorflow', without: 'libtorch' } })),
  });
  assert.match(engines, /Engines differ in 2 of 2 pair\(s\) \(with a head: tensorflow; without: libtorch\)/);
});

test('a study without a context head writes no context fields into results.json', () => {
  const plain = planStudy(parseStudySpec({ ...spec, train: [{ on: ['original'], epochs: 1 }] }));
  const details: EvalDetails = { images: {}, saliency: {}, missing: [] };
  const runs = [run(plain.runs[0]!.runId, { mixed_same: [1, 1, 1, 1], mixed_rand: [1, 0, 1, 0] }, details)];
  const results = buildResults({
    plan: plain,
    specKey: 's',
    dataset: null,
    variantKeys: {},
    runs,
    cancelled: false,
    details,
  });
  assert.ok(!('contextPairs' in results) && !('contextPairGroups' in results));
  assert.ok(!('context' in results.rows[0]!) && !('context' in results.seedGroups[0]!));
  assert.doesNotMatch(resultsMarkdown(results), /Context head/);
});

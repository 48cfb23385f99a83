/**
 * buildResults (results.json) from hand-made run summaries and per-image outcomes: BG-Gap averaged over
 * re-pairings, its paired test, accuracy intervals over images, the challenge's Wilson interval, saliency's
 * chance level, and the means over seeds. Every expectation is worked out by hand in the comments.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EvaluateOutput } from '../../core/contracts';
import type { EvalDetails } from '../../core/report/eval-details';
import { renderHtmlReport } from '../../core/report/html-report';
import { buildResults, resultsCsv, resultsMarkdown } from '../../core/report/results';
import { planStudy } from '../../core/spec/plan';
import { parseStudySpec } from '../../core/spec/study-spec';
import type { RunSummary } from '../../workflows/run-workflow';

const near = (got: number | undefined | null, want: number, tol: number, what: string) =>
  assert.ok(
    got !== null && got !== undefined && Math.abs(got - want) <= tol,
    `${what}: got ${got}, want ${want}`,
  );

const spec = parseStudySpec({
  version: 1,
  name: 'results-unit',
  dataset: { source: 'synthetic', classes: 2, perClass: { train: 2, val: 2 }, size: 16 },
  variants: ['mixed_same', 'mixed_rand'],
  train: [{ model: 'small_cnn', on: ['mixed_rand'], epochs: 1, batch: 2, seed: [1, 2] }],
  evaluate: {
    on: ['original', 'mixed_same', 'mixed_rand'],
    pairingRepeats: 2,
    challenge: { backgrounds: 7, foregrounds: 10 },
  },
});
const plan = planStudy(spec);
const IDS = ['a', 'b', 'c', 'd'];

/** One evaluation of 4 images with the given 0/1 outcomes. */
function evaluation(
  runId: string,
  variantId: string,
  correct: number[],
  details: EvalDetails,
): EvaluateOutput {
  const resultKey = `evals/${runId}/${variantId}.json`;
  details.images[resultKey] = { ids: IDS, correct: Uint8Array.from(correct) };
  const accuracy = correct.reduce((a, b) => a + b, 0) / correct.length;
  return { variantId, n: 4, accuracy, perClassAccuracy: [accuracy, accuracy], confusion: [], resultKey };
}

/** `outcomes`: per test column, per pairing, 0/1 per image; a column not given (original) scores 3 of 4. */
function runSummary(i: number, outcomes: Record<string, number[][]>, details: EvalDetails): RunSummary {
  const run = plan.runs[i]!;
  return {
    runId: run.runId,
    label: run.label,
    train: {
      modelKey: `runs/${run.runId}/final/model.json`,
      curves: [],
      backend: 'cpu',
    } as unknown as RunSummary['train'],
    tests: plan.tests.map((t) => {
      const evaluations = t.variantIds.map((v, k) =>
        evaluation(run.runId, v, (outcomes[t.label] ?? [[1, 1, 1, 0]])[k]!, details),
      );
      return { label: t.label, accuracy: 0, evaluations };
    }),
    challenge: {
      foregrounds: 10,
      backgrounds: 7,
      adversarialAccuracy: 0.5,
      cleanAccuracy: 0.9,
      resultKey: 'x',
    },
    saliency: [
      {
        variantId: plan.tests[0]!.variantIds[0]!,
        foregroundShare: 0.4,
        areaShare: 0.2,
        gridKey: 'g.png',
        resultKey: 's.json',
      },
    ],
  };
}

void test('BG-Gap averages each column over its re-pairings and is tested paired over foregrounds', () => {
  const details: EvalDetails = { images: {}, saliency: {}, missing: [] };
  // mixed_same pairings: acc 0.75 and 0.5 -> 0.625; mixed_rand: 0.25 and 0.5 -> 0.375; gap 0.25
  const seed1 = runSummary(
    0,
    {
      mixed_same: [
        [1, 1, 1, 0],
        [1, 0, 1, 0],
      ],
      mixed_rand: [
        [0, 1, 0, 0],
        [1, 0, 0, 1],
      ],
    },
    details,
  );
  // seed 2: same 1.0 and 0.75 -> 0.875; rand 0.5 and 0.5 -> 0.5; gap 0.375
  const seed2 = runSummary(
    1,
    {
      mixed_same: [
        [1, 1, 1, 1],
        [1, 1, 1, 0],
      ],
      mixed_rand: [
        [1, 1, 0, 0],
        [0, 1, 1, 0],
      ],
    },
    details,
  );
  const r = buildResults({
    plan,
    specKey: 's',
    dataset: null,
    variantKeys: {},
    runs: [seed1, seed2],
    cancelled: false,
    details,
  });
  const [row1, row2] = r.rows;
  near(row1!.accuracy.mixed_same, 0.625, 1e-12, 'mixed_same mean over pairings');
  near(row1!.accuracy.mixed_rand, 0.375, 1e-12, 'mixed_rand mean over pairings');
  near(row1!.bgGap, 0.25, 1e-12, 'BG-Gap');
  near(row2!.bgGap, 0.375, 1e-12, 'BG-Gap seed 2');

  // Per image: correct counts same S = [2,1,2,0], rand R = [1,1,0,1]; scores 2S - 2R = [2,0,4,-2].
  // Sign flips of {2,4,2}: positive sums 0,2,2,4,4,6,6,8 (each 1/8); observed 6: P(<6) = 5/8, P(=6) = 2/8, P(>6) = 1/8.
  // mid-p = 2 min(5/8 + 1/8, 1/8 + 1/8) = 0.5; exact p = 2 min(5/8 + 2/8, 1/8 + 2/8) = 0.75.
  const t = row1!.bgGapTest!;
  assert.equal(t.n, 4);
  assert.equal(t.discordant, 3);
  near(t.p, 0.5, 1e-12, 'mid-p');
  near(t.pExact, 0.75, 1e-12, 'exact p');
  assert.deepEqual(t.pairings, { same: 2, rand: 2 });
  // d = [0.5, 0, 1, -0.5]: a resampled mean lies in [-0.5, 1]
  assert.ok(t.lo >= -0.5 && t.lo <= 0.25 && t.hi >= 0.25 && t.hi <= 1, `interval ${t.lo}..${t.hi}`);

  // accuracy interval: 4 images, each scored by its mean over the two pairings
  const ci = row1!.accuracyInterval.mixed_same!;
  assert.equal(ci.n, 4);
  assert.ok(ci.lo >= 0 && ci.lo <= 0.625 && ci.hi >= 0.625 && ci.hi <= 1);

  // Wilson 5/10: textbook (0.2366, 0.7634); the pool size stays beside it
  near(row1!.challenge!.interval.lo, 0.2366, 1e-4, 'Wilson lower');
  near(row1!.challenge!.interval.hi, 0.7634, 1e-4, 'Wilson upper');
  assert.equal(row1!.challenge!.backgrounds, 7);

  // saliency: share 0.4 on masks covering 0.2 of the image -> twice chance
  near(row1!.saliency[0]!.ratio, 2, 1e-12, 'saliency ratio');
  near(row1!.saliency[0]!.areaShare, 0.2, 1e-12, 'mask area share');

  // over the two seeds: gap mean 0.3125, sd = 0.125 / sqrt(2), t(1) = 12.706 -> half width 12.706 * 0.0625
  const g = r.seedGroups[0]!;
  assert.deepEqual(g.seeds, [1, 2]);
  near(g.bgGap!.value, 0.3125, 1e-12, 'mean gap');
  near(
    g.bgGap!.value - g.bgGap!.lo,
    12.706 * 0.0625,
    1e-9,
    'seed interval half width (lower side: the upper is clipped at 1)',
  );
  assert.equal(g.bgGap!.hi, 1);
  // mixed_same 0.625 and 0.875: the t interval 0.75 ± 12.706 * 0.125 is clipped to [0, 1]
  assert.deepEqual([g.accuracy.mixed_same!.lo, g.accuracy.mixed_same!.hi], [0, 1]);

  // every output names the intervals
  const csv = resultsCsv(r).split('\n');
  assert.match(csv[0]!, /accuracy_lo,accuracy_hi,n_images,bg_gap,bg_gap_lo,bg_gap_hi,bg_gap_p/);
  assert.match(resultsMarkdown(r), /25\.0 \[[-\d.]+, [\d.]+\] p=0\.50/);
  assert.match(resultsMarkdown(r), /## Mean over seeds/);
});

void test('the HTML table puts each interval on a second line with its description on hover, and plots models', async () => {
  const details: EvalDetails = { images: {}, saliency: {}, missing: [] };
  const runs = [
    runSummary(
      0,
      {
        mixed_same: [
          [1, 1, 1, 0],
          [1, 0, 1, 0],
        ],
        mixed_rand: [
          [0, 1, 0, 0],
          [1, 0, 0, 1],
        ],
      },
      details,
    ),
    runSummary(
      1,
      {
        mixed_same: [
          [1, 1, 1, 1],
          [1, 1, 1, 0],
        ],
        mixed_rand: [
          [1, 1, 0, 0],
          [0, 1, 1, 0],
        ],
      },
      details,
    ),
  ];
  const r = buildResults({
    plan,
    specKey: 's',
    dataset: null,
    variantKeys: {},
    runs,
    cancelled: false,
    details,
  });
  const html = await renderHtmlReport(r);
  const row = r.rows[0]!;
  const cell = new RegExp(
    `<td class="num" data-run="${row.runId}" data-col="bg_gap" data-value="0.25" data-lo="${row.bgGapTest!.lo}" data-hi="${row.bgGapTest!.hi}"><span class="ours">25.0</span><span class="ci" title="paired over 4 foregrounds[^"]*">\\[[-\\d.]+, [\\d.]+\\] p=0.50</span>`,
  );
  assert.match(html, cell);
  assert.match(
    html,
    /data-col="challenge"[^>]*><span class="ours">50.0<\/span><span class="ci" title="Wilson 95% over 10 foregrounds, each on 7 backgrounds[^"]*">\[23.7, 76.3\] 10×7<\/span>/,
  );
  assert.match(html, /id="seed-table"/);
  assert.match(html, /Accuracy vs BG-Gap across models/);
  assert.match(html, /mask area 20.0%; ratio 2.00/);
});

void test('without per-image results the numbers stay, their intervals are null and the documents are named', () => {
  const details: EvalDetails = { images: {}, saliency: {}, missing: [] };
  const run = runSummary(
    0,
    {
      mixed_same: [
        [1, 0, 1, 0],
        [1, 0, 1, 0],
      ],
      mixed_rand: [
        [0, 0, 1, 0],
        [0, 0, 1, 0],
      ],
    },
    details,
  );
  const r = buildResults({
    plan,
    specKey: 's',
    dataset: null,
    variantKeys: {},
    runs: [run],
    cancelled: false,
    details: { images: {}, saliency: {}, missing: ['evals/old.json'] },
  });
  near(r.rows[0]!.bgGap, 0.25, 1e-12, 'gap');
  assert.equal(r.rows[0]!.bgGapTest, null);
  assert.equal(r.rows[0]!.accuracyInterval.mixed_same, null);
  assert.deepEqual(r.statistics.missingDetails, ['evals/old.json']);
});

void test('a results.json written before intervals still renders (bgstudy report re-renders stored ones)', async () => {
  const details: EvalDetails = { images: {}, saliency: {}, missing: [] };
  const runs = [
    runSummary(
      0,
      {
        mixed_same: [
          [1, 1, 1, 0],
          [1, 0, 1, 0],
        ],
        mixed_rand: [
          [0, 1, 0, 0],
          [1, 0, 0, 1],
        ],
      },
      details,
    ),
  ];
  const r = buildResults({
    plan,
    specKey: 's',
    dataset: null,
    variantKeys: {},
    runs,
    cancelled: false,
    details,
  });
  const old = JSON.parse(JSON.stringify(r)) as Record<string, unknown> & { rows: Record<string, unknown>[] };
  delete old.seedGroups;
  delete old.statistics;
  for (const row of old.rows) {
    delete row.accuracyInterval;
    delete row.bgGapTest;
    delete (row.challenge as Record<string, unknown>).interval;
    row.saliency = [{ label: 'mixed_same', foregroundShare: 0.4, gridKey: 'g.png' }];
  }
  const legacy = old as unknown as typeof r;
  assert.match(resultsMarkdown(legacy), /\| 25\.0 \|/);
  assert.match(resultsCsv(legacy), /,0\.25,,,,/);
  assert.match(await renderHtmlReport(legacy), /predates intervals/);
});

void test('the saliency method is named in results.json and beside the maps; older results name none', async () => {
  const details: EvalDetails = { images: {}, saliency: {}, missing: [] };
  const outcomes = {
    mixed_same: [
      [1, 0, 1, 0],
      [1, 0, 1, 0],
    ],
    mixed_rand: [
      [0, 0, 1, 0],
      [0, 0, 1, 0],
    ],
  };
  const build = (method?: 'gradient' | 'smoothgrad') => {
    const run = runSummary(0, outcomes, details);
    if (method) run.saliency[0]!.method = method;
    return buildResults({
      plan,
      specKey: 's',
      dataset: null,
      variantKeys: {},
      runs: [run],
      cancelled: false,
      details,
    });
  };
  const plain = build('gradient');
  assert.equal(plain.rows[0]!.saliency[0]!.method, 'gradient');
  assert.match(await renderHtmlReport(plain), /<\/code> \(plain gradient\): foreground share 40\.0%/);
  assert.match(await renderHtmlReport(build('smoothgrad')), /<\/code> \(SmoothGrad\): foreground share/);
  const legacy = build();
  assert.equal(legacy.rows[0]!.saliency[0]!.method, null);
  assert.match(await renderHtmlReport(legacy), /<\/code>: foreground share 40\.0%/);
});

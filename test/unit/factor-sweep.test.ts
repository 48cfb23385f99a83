/**
 * The class-factors sweep's report section (core/report/factor-sweep.ts): which study lands on which factor and
 * strength, and every number with its interval and baseline. Input: CONSTRUCTED results.json documents (datasets
 * parsed from presets/class-factors.json like bench/class-factors-specs.ts writes them; rows with made-up
 * accuracies), so the expected cells are recomputed here by hand: Student-t with t(2, 0.975) = 4.303 from a
 * statistics table, percentages to one decimal.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import {
  factorSweep,
  factorSweepHtml,
  factorSweepMarkdown,
  factorSweepPage,
} from '../../core/report/factor-sweep';
import type { ResultRow, StudyResults } from '../../core/report/results';
import { parseStudySpec } from '../../core/spec/study-spec';
import { FsArtifactStore } from '../../store/fs-store';
import { putJson } from '../../store/json';
import { cli } from '../helpers/cli';
import { tempDir } from '../helpers/env';

const preset = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', 'presets', 'class-factors.json'), 'utf8'),
) as { dataset: Record<string, unknown> & { factors: Record<string, number> } };
const CLASSES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];

function row(p: Partial<ResultRow> & Pick<ResultRow, 'trainVariant' | 'seed'>): ResultRow {
  return {
    runId: `${p.trainVariant}-${p.seed}`,
    label: `small_cnn on ${p.trainVariant} (seed ${p.seed})`,
    arch: 'small_cnn',
    inputSize: 32,
    epochs: 10,
    accuracy: {},
    accuracyInterval: {},
    bgGap: null,
    bgGapTest: null,
    challenge: null,
    curves: [],
    perClass: {},
    confusion: {},
    saliency: [],
    backend: 'test',
    modelKey: 'm',
    ...p,
  };
}

/** One study of the sweep: its dataset from the preset with `moves` applied, and the given rows. */
function study(name: string, moves: Record<string, number>, rows: ResultRow[], extra: object = {}) {
  const dataset = structuredClone(preset.dataset);
  for (const [k, v] of Object.entries(moves))
    if (k === 'bgCorrelation') dataset.bgCorrelation = v;
    else dataset.factors[k] = v;
  Object.assign(dataset, extra);
  const spec = parseStudySpec({ ...preset, dataset });
  return {
    schema: 'bgstudy-results/1',
    study: {
      name,
      title: name,
      studyHash: `${name}-hash-0123456789`,
      specKey: 'k',
      cancelled: false,
      plannedRuns: rows.length,
    },
    dataset: {
      manifestKey: 'm',
      datasetHash: 'd',
      classes: CLASSES,
      counts: { train: 3600, val: 900 },
      skippedCount: 0,
      skipped: [],
      leaks: {
        version: 'leaks-1',
        classes: CLASSES,
        train: 3600,
        val: 900,
        chance: 1 / 9,
        chanceSe: 0.0105,
        rows: [
          {
            variant: 'only_bg_t',
            features: 'all',
            learner: 'logistic',
            accuracy: 0.12,
            ci: [0.1, 0.14],
          },
          { variant: 'only_bg_t', features: 'all', learner: 'knn', accuracy: 0.3, ci: [0.27, 0.33] },
          { variant: 'only_bg_b', features: 'all', learner: 'knn', accuracy: 0.5, ci: [0.47, 0.53] },
        ],
      },
    },
    source: spec.dataset,
    columns: ['original', 'only_bg_t', 'mixed_same', 'mixed_rand'],
    rows,
    variants: [],
    compareWithPaper: false,
    seedGroups: [],
    statistics: {} as StudyResults['statistics'],
  } as StudyResults;
}

/** One seed's original-trained and only_bg_t-trained rows. */
const seedRows = (seed: number, bgOnly: number, gap: number, share: number): ResultRow[] => [
  row({
    trainVariant: 'original',
    seed,
    accuracy: { original: 0.9, mixed_same: 0.8, mixed_rand: 0.8 - gap },
    bgGap: gap,
    bgGapTest: { lo: gap - 0.01, hi: gap + 0.01, p: 0.5, n: 900 } as ResultRow['bgGapTest'],
    saliency: [
      {
        label: 'original',
        gridKey: 'g',
        method: 'gradient',
        foregroundShare: share,
        areaShare: 0.3,
        ratio: share / 0.3,
        shareInterval: { lo: share - 0.05, hi: share + 0.05, n: 16 },
        ratioInterval: null,
      },
    ],
  }),
  row({
    trainVariant: 'only_bg_t',
    seed,
    accuracy: { only_bg_t: bgOnly },
    accuracyInterval: { only_bg_t: { lo: bgOnly - 0.02, hi: bgOnly + 0.02, n: 900 } },
  }),
];

const T2 = 4.303; // t(2), 97.5% quantile
const tInterval = (xs: number[]) => {
  const m = (xs[0]! + xs[1]! + xs[2]!) / 3;
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / 2);
  return [m, m - (T2 * sd) / Math.sqrt(3), m + (T2 * sd) / Math.sqrt(3)] as const;
};
const p1 = (x: number) => (100 * x).toFixed(1);

test('each study lands on its factor and strength; the all-off study is strength 0 of every factor', () => {
  const base = study('cf-base', {}, seedRows(1, 0.11, 0.001, 0.6));
  const shadow5 = study('cf-shadow-0.5', { shadow: 0.5 }, seedRows(1, 0.3, 0.01, 0.55));
  const shadow9 = study('cf-shadow-0.9', { shadow: 0.9 }, seedRows(1, 0.5, 0.02, 0.5));
  const p9 = study('cf-p-0.9', { bgCorrelation: 0.9 }, seedRows(1, 0.6, 0.1, 0.4));
  const two = study('cf-two', { shadow: 0.5, distractor: 0.5 }, seedRows(1, 0.6, 0.1, 0.4));
  const other = study('cf-other', { distractor: 0.5 }, seedRows(1, 0.6, 0.1, 0.4), { size: 64 });
  const s = factorSweep([shadow9, base, p9, shadow5, two, other]);
  assert.deepEqual(
    s.factors.map((f) => [f.factor, f.points.map((p) => [p.study, p.strength])]),
    [
      [
        'shadow',
        [
          ['cf-base', 0],
          ['cf-shadow-0.5', 0.5],
          ['cf-shadow-0.9', 0.9],
        ],
      ],
      [
        'bgCorrelation',
        [
          ['cf-base', 0],
          ['cf-p-0.9', 0.9],
        ],
      ],
    ],
  );
  assert.equal(s.excluded.length, 2);
  assert.match(s.excluded[0]!.study, /^cf-two/);
  assert.match(s.excluded[0]!.reason, /shadow, distractor/);
  assert.match(s.excluded[1]!.study, /^cf-other/);
  assert.match(s.excluded[1]!.reason, /differs/);
});

test('one seed: each number carries its run’s own interval and its baseline', () => {
  const s = factorSweep([
    study('cf-base', {}, seedRows(1, 0.11, 0.001, 0.6)),
    study('cf-distractor-0.9', { distractor: 0.9 }, seedRows(1, 0.45, 0.03, 0.5)),
  ]);
  const [p0, p9] = s.factors[0]!.points;
  assert.equal(s.factors[0]!.factor, 'distractor');
  assert.ok(Math.abs(p0!.chance - 1 / 9) < 1e-12);
  assert.deepEqual([p9!.bgOnly!.value, p9!.bgOnly!.lo, p9!.bgOnly!.hi], [0.45, 0.45 - 0.02, 0.45 + 0.02]);
  assert.deepEqual([p9!.bgGap!.lo, p9!.bgGap!.hi], [0.03 - 0.01, 0.03 + 0.01]);
  assert.equal(p9!.saliency!.areaShare, 0.3);
  // the leak check's best reading on each background-only variant, kept apart (k-NN 0.30 on only_bg_t, 0.50 on only_bg_b)
  assert.deepEqual(p9!.leaks, {
    only_bg_t: { accuracy: 0.3, lo: 0.27, hi: 0.33, learner: 'knn', chance: 1 / 9 },
    only_bg_b: { accuracy: 0.5, lo: 0.47, hi: 0.53, learner: 'knn', chance: 1 / 9 },
  });
  const md = factorSweepMarkdown(s);
  // strength 0.9: bg-only 45.0 [43.0, 47.0] above chance 11.1; gap 3.0 [2.0, 4.0] above 0; leak check per variant
  assert.ok(
    md.includes(
      '| 0.9 | cf-distractor-0.9 | 45.0 [43.0, 47.0] (only_bg_t; chance 11.1) | above | 3.0 [2.0, 4.0] | above | 50.0 [45.0, 55.0] | 30.0 | 50.0 [47.0, 53.0] (knn; chance 11.1) | 30.0 [27.0, 33.0] (knn; chance 11.1) |',
    ),
    md,
  );
  // strength 0: bg-only 11.0 [9.0, 13.0] holds chance 11.1; gap 0.1 [-0.9, 1.1] holds 0
  assert.ok(
    md.includes('| 0 | cf-base | 11.0 [9.0, 13.0] (only_bg_t; chance 11.1) | at | 0.1 [-0.9, 1.1] | at |'),
    md,
  );
  assert.match(md, /Intervals: bootstrap over test images; paired bootstrap over foregrounds; /);
});

test('three seeds: Student-t interval over the seeds, computed here from the t table', () => {
  const bg = [0.4, 0.46, 0.52];
  const gaps = [0.02, 0.05, 0.03];
  const rows = [0, 1, 2].flatMap((i) => seedRows(i + 1, bg[i]!, gaps[i]!, 0.5 + i / 100));
  const s = factorSweep([
    study(
      'cf-base',
      {},
      [1, 2, 3].flatMap((i) => seedRows(i, 0.11, 0, 0.6)),
    ),
    study('cf-classSize-0.9', { classSize: 0.9 }, rows),
  ]);
  const p = s.factors[0]!.points[1]!;
  const [m, lo, hi] = tInterval(bg);
  assert.ok(Math.abs(p.bgOnly!.value - m) < 1e-12);
  assert.ok(Math.abs(p.bgOnly!.lo! - lo) < 1e-9 && Math.abs(p.bgOnly!.hi! - hi) < 1e-9);
  assert.match(p.bgOnly!.method, /t interval over 3 seeds/);
  const [gm, glo, ghi] = tInterval(gaps);
  const md = factorSweepMarkdown(s);
  assert.ok(
    md.includes(
      `| ${p1(m)} [${p1(lo)}, ${p1(hi)}] (only_bg_t; chance 11.1) | above | ${p1(gm)} [${p1(glo)}, ${p1(ghi)}] |`,
    ),
    md,
  );
  // the all-zero baseline, three identical seeds: a zero-width interval at 0 gap -> "at"
  assert.equal(s.factors[0]!.points[0]!.bgGap!.lo, 0);
});

test('HTML: one table per factor with machine-readable values; the page is self-contained', () => {
  const s = factorSweep([
    study('cf-base', {}, seedRows(1, 0.11, 0.001, 0.6)),
    study('cf-shadow-0.9', { shadow: 0.9 }, seedRows(1, 0.5, 0.02, 0.5)),
    study('cf-<b>', { bgCorrelation: 0.5, shadow: 0.5 }, []),
  ]);
  const html = factorSweepHtml(s);
  assert.equal((html.match(/<table class="factor-sweep">/g) ?? []).length, 1);
  assert.match(html, /<tr data-factor="shadow" data-strength="0.9" data-bg-only="0.5" data-bg-gap="0.02">/);
  assert.ok(html.includes('cf-&lt;b&gt;'), 'study names are escaped');
  const page = factorSweepPage(s);
  assert.match(page, /^<!doctype html>/);
  assert.doesNotMatch(page, /<script|<link|src="http/);
  assert.match(factorSweepMarkdown(factorSweep([study('cf-base', {}, [])])), /No study of the sweep moves/);
});

test('bgstudy report-factors reads stored results.json by study hash and writes the section', async () => {
  const dir = await tempDir();
  process.env.BGSTUDY_STORE = 'fs';
  process.env.BGSTUDY_STORE_DIR = dir;
  const store = new FsArtifactStore(dir);
  const stored = [
    study('cf-base', {}, seedRows(1, 0.11, 0.001, 0.6)),
    study('cf-shadow-0.9', { shadow: 0.9 }, seedRows(1, 0.5, 0.02, 0.5)),
  ];
  const hashes = ['aaaa1111', 'bbbb2222'];
  for (const [i, r] of stored.entries())
    await putJson(store, `reports/${hashes[i]}/results.json`, {
      ...r,
      study: { ...r.study, studyHash: hashes[i] },
    });
  const out = `${dir}/sweep`;
  const printed = await cli(['report-factors', ...hashes, '--out', out]);
  assert.equal(printed, `${out}/factor-sweep.html`);
  const md = await readFile(`${out}/factor-sweep.md`, 'utf8');
  assert.match(md, /## shadow/);
  assert.ok(md.includes('| 0.9 | cf-shadow-0.9 | 50.0 [48.0, 52.0] (only_bg_t; chance 11.1) | above |'), md);
  assert.match(await readFile(printed, 'utf8'), /data-factor="shadow" data-strength="0.9"/);
});

/**
 * The report's pure parts: table values and formatting, the paper-comparison mapping, experiment-section
 * selection, chart specs rendered to SVG, and the HTML page. Input: CONSTRUCTED run summaries
 * (test/helpers/report-fixture.ts) for plans made from real specs; no store, no services.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { PreparedDataset } from '../../core/data/prepare';
import { accuracyTable, formatPct, tableColumns } from '../../core/report/accuracy-table';
import { confusionChart, experimentChart, shortLabel } from '../../core/report/charts';
import { meanAccuracy, selectExperiments } from '../../core/report/experiments';
import { escapeHtml } from '../../core/report/html-escape';
import { renderHtmlReport } from '../../core/report/html-report';
import { paperRowFor, paperValue, XIAO_2021 } from '../../core/report/paper-reference';
import { pickSamples } from '../../core/report/report-assets';
import { buildResults, resultsMarkdown, type StudyResults } from '../../core/report/results';
import { readStudyResults } from '../../core/report/stored-results';
import { parseVariantLabel } from '../../core/report/variant-label';
import { renderVegaLiteSvg } from '../../core/report/vega-svg';
import { planStudy } from '../../core/spec/plan';
import { parseStudySpec } from '../../core/spec/study-spec';
import { constructRunSummaries, FIXTURE_SPEC } from '../helpers/report-fixture';

const CLASSES = ['disk', 'square', 'triangle', 'plus'];

function resultsFor(rawSpec: unknown, extra: Partial<PreparedDataset> = {}): StudyResults {
  const plan = planStudy(parseStudySpec(rawSpec));
  const dataset: PreparedDataset = {
    manifestKey: 'test-input/datasets/x/manifest.json',
    datasetHash: 'x',
    classes: CLASSES,
    counts: { train: 24, val: 16 },
    skippedCount: 0,
    skipped: [],
    reused: false,
    ...extra,
  };
  return buildResults({
    plan,
    specKey: `studies/${plan.studyHash}/spec.json`,
    dataset,
    variantKeys: {},
    runs: constructRunSummaries(plan, CLASSES.length),
    cancelled: false,
  });
}

const preset = (name: string): unknown =>
  JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'presets', `${name}.json`), 'utf8'));

test('formatPct prints % with one decimal, like the paper; missing values are blank', () => {
  assert.equal(formatPct(0.956), '95.6');
  assert.equal(formatPct(0.073), '7.3');
  assert.equal(formatPct(-0.012), '-1.2');
  assert.equal(formatPct(1), '100.0');
  assert.equal(formatPct(null), '');
  assert.equal(formatPct(undefined), '');
  assert.equal(formatPct(Number.NaN), '');
});

test('variant labels come apart into name and typed params', () => {
  assert.deepEqual(parseVariantLabel('bg_blur(sigma=2.5)'), { name: 'bg_blur', params: { sigma: 2.5 } });
  assert.deepEqual(parseVariantLabel('fg_mask_quality(op=erode,k=1)'), {
    name: 'fg_mask_quality',
    params: { op: 'erode', k: 1 },
  });
  assert.deepEqual(parseVariantLabel('mixed_rand'), { name: 'mixed_rand', params: {} });
  assert.equal(shortLabel('bg_color(color=gray)'), 'color=gray');
  assert.equal(shortLabel('mixed_same'), 'mixed_same');
});

test('the table has one row per run and one cell per test column + BG-Gap + challenge, with results.json values', () => {
  const r = resultsFor(FIXTURE_SPEC);
  const t = accuracyTable(r);
  assert.equal(t.rows.length, r.rows.length);
  assert.deepEqual(t.columns, [...r.columns, 'bg_gap', 'challenge']);
  for (const [i, row] of t.rows.entries()) {
    const src = r.rows[i]!;
    assert.equal(row.runId, src.runId);
    for (const c of row.cells) {
      const v =
        c.column === 'bg_gap'
          ? src.bgGap
          : c.column === 'challenge'
            ? src.challenge!.adversarialAccuracy
            : src.accuracy[c.column]!;
      assert.equal(c.value, v);
      assert.equal(c.text, (100 * v!).toFixed(1));
    }
    const gap = row.cells.find((c) => c.column === 'bg_gap')!.value!;
    assert.ok(Math.abs(gap - (src.accuracy.mixed_same! - src.accuracy.mixed_rand!)) < 1e-12);
  }
  // split for the page: Xiao's variants in the paper's order, then the rest in study order
  const split = tableColumns(r);
  assert.deepEqual(split.xiao, ['original', 'only_bg_t', 'only_fg', 'mixed_same', 'mixed_rand']);
  assert.deepEqual(split.other, [
    'bg_color(color=contrast)',
    'bg_color(color=gray)',
    'bg_blur(sigma=1)',
    'bg_blur(sigma=4)',
    'bg_reduced(r=0.1)',
    'bg_reduced(r=0.3)',
    'fg_mask_quality(op=erode,k=1)',
    'generic_bg',
  ]);
  const small = accuracyTable(r, { testColumns: split.other, extras: false });
  assert.deepEqual(small.columns, split.other);
});

test('paper numbers map to rows of the same architecture and training variant only', () => {
  assert.equal(paperRowFor({ arch: 'resnet50', trainVariant: 'original' })?.model, 'ResNet-50');
  assert.equal(
    paperRowFor({ arch: 'resnet50', trainVariant: 'original' }, 'IN-9L')?.model,
    'ResNet-50 (IN-9L)',
  );
  assert.equal(
    paperRowFor({ arch: 'resnet50', trainVariant: 'mixed_rand' })?.model,
    'ResNet-50 trained on mixed_rand',
  );
  assert.equal(paperRowFor({ arch: 'small_cnn', trainVariant: 'original' }), undefined);
  assert.equal(paperRowFor({ arch: 'resnet50', trainVariant: 'only_fg' }), undefined);
  const p = paperRowFor({ arch: 'resnet50', trainVariant: 'original' })!;
  assert.equal(paperValue(p, 'original'), 0.956);
  assert.equal(paperValue(p, 'bg_gap'), 0.073);
  assert.equal(paperValue(p, 'challenge'), 0.223);
  assert.equal(paperValue(p, 'only_bg_t'), undefined, 'not transcribed');
  // every published BG-Gap is mixed_same - mixed_rand of its row (a check on the transcription)
  for (const row of XIAO_2021.rows)
    assert.ok(Math.abs(row.bgGap - (row.accuracy.mixed_same! - row.accuracy.mixed_rand!)) < 0.051, row.model);
  assert.match(XIAO_2021.provenance.url, /arxiv\.org\/abs\/2006\.09994/);

  const compared = accuracyTable(resultsFor(FIXTURE_SPEC));
  const row = compared.rows.find((x) => x.model === 'resnet50' && x.trainVariant === 'original')!;
  assert.equal(row.cells.find((c) => c.column === 'original')!.paperText, '95.6');
  assert.equal(row.cells.find((c) => c.column === 'only_fg')!.paper, null);
  assert.ok(compared.rows.filter((x) => x.model === 'small_cnn').every((x) => x.paperRow === null));
  const notCompared = accuracyTable(resultsFor({ ...FIXTURE_SPEC, report: { compareWithPaper: false } }));
  assert.ok(notCompared.rows.every((x) => x.paperRow === null && x.cells.every((c) => c.paper === null)));
});

test('results.json written before variants carried their spec reads back as today (specs from the labels)', () => {
  const today = resultsFor(preset('slides'));
  const blur = today.variants.find((v) => v.label === 'bg_blur(sigma=4)')!;
  assert.deepEqual(blur.spec, { name: 'bg_blur', sigma: 4 });
  const before = JSON.parse(JSON.stringify(today)) as StudyResults;
  for (const v of before.variants) delete (v as Partial<typeof v>).spec;
  const read = readStudyResults(before);
  assert.deepEqual(read, JSON.parse(JSON.stringify(today)));
  assert.deepEqual(selectExperiments(read), selectExperiments(today));
  before.variants[0]!.label = 'bg_warp(k=2)';
  assert.throws(
    () => readStudyResults(before, 'reports/x/results.json'),
    /reports\/x\/results.json: variant .*bg_warp\(k=2\)/,
  );
});

test('experiment sections: the quick preset is Xiao only; the slides preset has every slide factor', () => {
  const quick = selectExperiments(resultsFor(preset('quick')));
  // only_fg is tested but nothing is trained on it: no segmented-vs-original section
  assert.deepEqual(
    quick.map((s) => s.factor),
    ['xiao'],
  );
  assert.deepEqual(quick[0]!.variants, [
    'only_bg_b',
    'only_bg_t',
    'no_fg',
    'mixed_same',
    'mixed_rand',
    'mixed_next',
  ]);
  const slidesResults = resultsFor(preset('slides'));
  const slides = selectExperiments(slidesResults);
  assert.deepEqual(
    slides.map((s) => s.factor),
    ['segmented', 'bg_color', 'bg_blur', 'bg_reduced', 'fg_mask_quality', 'generic_bg'],
  );
  const blur = slides.find((s) => s.factor === 'bg_blur')!;
  assert.deepEqual(blur.variants, [
    'bg_blur(sigma=1)',
    'bg_blur(sigma=2)',
    'bg_blur(sigma=4)',
    'bg_blur(sigma=8)',
  ]);
  assert.deepEqual(blur.sweep, { param: 'sigma', axisTitle: 'blur sigma (px)' });
  // each sigma: trained on original and trained on that blur, both tested on that blur
  assert.equal(blur.points.length, 8);
  for (const p of blur.points) {
    const train = p.series === 'trained on original' ? 'original' : p.x;
    assert.equal(p.accuracy, meanAccuracy(slidesResults.rows, 'small_cnn', train, p.x));
    assert.equal(p.xValue, Number(parseVariantLabel(p.x).params.sigma));
  }
  const reduced = slides.find((s) => s.factor === 'bg_reduced')!;
  assert.deepEqual(
    reduced.bounds.map((b) => b.label),
    ['trained & tested on only_fg (upper bound)', 'trained & tested on original (lower bound)'],
  );
  const onlyFg = slidesResults.rows.find((r) => r.trainVariant === 'only_fg')!;
  assert.equal(reduced.bounds[0]!.accuracy, onlyFg.accuracy.only_fg);
  const mask = slides.find((s) => s.factor === 'fg_mask_quality')!;
  assert.deepEqual(mask.variants, [
    'fg_mask_quality(op=erode,k=2)',
    'fg_mask_quality(op=erode,k=1)',
    'fg_mask_quality(op=dilate,k=1)',
    'fg_mask_quality(op=dilate,k=2)',
    'fg_mask_quality(op=bbox,k=0)',
  ]);
  const color = slides.find((s) => s.factor === 'bg_color')!;
  assert.deepEqual(color.variants, [
    'bg_color(color=contrast)',
    'bg_color(color=match)',
    'bg_color(color=gray)',
  ]);
  // curves: the original-trained run first, then the runs trained on this factor's variants
  const original = slidesResults.rows.find((r) => r.trainVariant === 'original')!;
  assert.equal(blur.curveRunIds[0], original.runId);
  assert.equal(blur.curveRunIds.length, 1 + 4);
  const segmented = slides.find((s) => s.factor === 'segmented')!;
  assert.deepEqual(
    [...new Set(segmented.points.map((p) => p.series))],
    ['trained on original', 'trained on only_fg'],
  );
});

test('charts render to SVG with one bar per point and one cell per confusion entry', async () => {
  const r = resultsFor(FIXTURE_SPEC);
  const seg = selectExperiments(r).find((s) => s.factor === 'segmented')!;
  const svg = await renderVegaLiteSvg(experimentChart(seg));
  const group = /<g class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/s.exec(svg)?.[1] ?? '';
  assert.equal((group.match(/<path/g) ?? []).length, seg.points.length);
  const row = r.rows[0]!;
  const conf = await renderVegaLiteSvg(confusionChart(row, 'original', CLASSES));
  const cells = /<g class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/s.exec(conf)?.[1] ?? '';
  assert.equal((cells.match(/<path/g) ?? []).length, CLASSES.length ** 2);
  const texts = /<g class="mark-text role-mark[^"]*"[^>]*>(.*?)<\/g>/s.exec(conf)?.[1] ?? '';
  const numbers = [...texts.matchAll(/>(\d+)<\/text>/g)].map((m) => Number(m[1]));
  assert.deepEqual(numbers.sort(), row.confusion.original!.flat().sort());
});

test('sample picking takes the first items of each class, in class order', () => {
  const items = [3, 0, 0, 1, 3, 2, 1].map((label, i) => ({ id: `v${i}`, label }));
  assert.deepEqual(
    pickSamples(items, 4).map((p) => p.id),
    ['v1', 'v3', 'v5', 'v0'],
  );
  assert.deepEqual(
    pickSamples(items, 4, 2, 3).map((p) => [p.index, p.label]),
    [
      [1, 0],
      [2, 0],
      [3, 1],
    ],
  );
});

test('the HTML page is self-contained, escapes names and lists skipped inputs', async () => {
  const r = resultsFor(
    { ...FIXTURE_SPEC, report: { compareWithPaper: true, title: 'Backgrounds <study> & "more"' } },
    {
      skippedCount: 2,
      skipped: [
        { file: 'val/00_dog/<bad>.JPEG', reason: 'not an image' },
        { file: 'val/01_bird/x.JPEG', reason: 'mask of wrong size' },
      ],
    },
  );
  const html = await renderHtmlReport(r);
  assert.match(html, /<title>Backgrounds &lt;study&gt; &amp; &quot;more&quot;<\/title>/);
  assert.match(html, /val\/00_dog\/&lt;bad&gt;\.JPEG<\/code><\/td><td>not an image/);
  assert.doesNotMatch(html, /<script|<link|src="http/);
  const charts = html.match(/<figure class="chart"/g)?.length ?? 0;
  const svgs = html.match(/<svg /g)?.length ?? 0;
  assert.equal(svgs, charts);
  assert.ok(charts > 20);
  for (const id of ['accuracy', 'experiments', 'samples', 'saliency', 'per-class', 'skipped', 'runs'])
    assert.match(html, new RegExp(`<section id="${id}">`));
  // no assets given: the page says so instead of failing
  assert.match(html, /No sample images/);
  assert.match(html, /grid missing: test-input\/saliency\//);
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('a study with failed runs: results.json, report.md and report.html name each failed run and its error', async () => {
  const ok = resultsFor(FIXTURE_SPEC);
  const plan = planStudy(parseStudySpec(FIXTURE_SPEC));
  const failedRuns = [{ runId: 'r-x', label: 'small_cnn on original (seed 9)', error: 'weights are NaN' }];
  const r = buildResults({
    plan,
    specKey: ok.study.specKey,
    dataset: null,
    variantKeys: {},
    runs: constructRunSummaries(plan, CLASSES.length),
    cancelled: false,
    failedRuns,
  });
  assert.deepEqual(r.study.failedRuns, failedRuns);
  assert.equal('failedRuns' in ok.study, false, 'absent when every run finished');
  const md = resultsMarkdown(r);
  assert.match(md, /1 run\(s\) failed, partial results/);
  assert.match(md, /## Failed runs\n\n- small_cnn on original \(seed 9\) \(r-x\): weights are NaN/);
  const html = await renderHtmlReport(r);
  assert.match(html, /<dt>failed: small_cnn on original \(seed 9\)<\/dt><dd>weights are NaN<\/dd>/);
  assert.match(html, /1 run\(s\) failed: partial results/);
});

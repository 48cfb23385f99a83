import type { TopLevelSpec } from 'vega-lite/build/index';
import { accuracyTable, formatPct, tableColumns, type AccuracyTable } from './accuracy-table';
import {
  bgGapChart,
  bgGapOf,
  challengeChart,
  columnOf,
  confusionChart,
  crossModelChart,
  crossModelPoints,
  curvesChart,
  experimentChart,
  perClassChart,
  runName,
  saliencyShareChart,
} from './charts';
import { selectExperiments, type ExperimentSection } from './experiments';
import { contextHtml } from './context-section';
import { leaksHtml } from './leak-section';
import { masksHtml } from './mask-section';
import { escapeHtml as esc } from './html-escape';
import { XIAO_2021 } from './paper-reference';
import { EMPTY_ASSETS, type ReportAssets } from './report-assets';
import { formatP, modelText, type ResultRow, seedGroups, type SeedGroup, type StudyResults } from './results';
import { REPORT_CSS } from './report-style';
import { renderVegaLiteSvg } from './vega-svg';

/** Bumped when the report's layout or contents change (stored report.html files say which made them). */
export const HTML_REPORT_VERSION = 'html-report/1';

/** Renders charts one by one and numbers them (ids are stable for tests: `chart-<n>`). */
class Charts {
  private n = 0;
  async figure(spec: TopLevelSpec, title: string, caption: string): Promise<string> {
    const id = `chart-${++this.n}`;
    const svg = await renderVegaLiteSvg(spec);
    // titles live in HTML: vega sizes a chart by estimated text widths when there is no canvas
    return `<figure class="chart" id="${id}" data-chart="${id}"><div class="fig-title">${esc(title)}</div>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
  }
  get count(): number {
    return this.n;
  }
}

function shade(value: number | null): string {
  if (value === null) return '';
  // light blue ramp: readable black text at every level
  const a = Math.max(0, Math.min(1, value));
  return ` style="background: rgba(66, 133, 244, ${(0.08 + 0.4 * a).toFixed(3)})"`;
}

function tableHtml(t: AccuracyTable, compare: boolean, id: string): string {
  const head = ['model', 'trained on', 'seed', ...t.headers]
    .map((h) => `<th scope="col">${esc(h).replace('(', '<wbr>(')}</th>`)
    .join('');
  const body = t.rows
    .map((r) => {
      const cells = r.cells
        .map((c) => {
          const paper = compare && c.paper !== null ? `<span class="paper">paper ${c.paperText}</span>` : '';
          const shaded = c.column === 'bg_gap' ? '' : shade(c.value);
          // the interval on a second, smaller line; what it is on hover
          const ci = c.intervalText
            ? `<span class="ci" title="${esc(c.intervalTitle)}">${esc(c.intervalText)}</span>`
            : '';
          const lohi = c.interval ? ` data-lo="${c.interval.lo}" data-hi="${c.interval.hi}"` : '';
          return `<td class="num" data-run="${esc(r.runId)}" data-col="${esc(c.column)}" data-value="${c.value ?? ''}"${lohi}${shaded}><span class="ours">${c.text || '–'}</span>${ci}${paper}</td>`;
        })
        .join('');
      const paperName =
        r.paperRow && r.cells.some((c) => c.paper !== null)
          ? `<span class="paper">vs ${esc(r.paperRow.model)}</span>`
          : '';
      return `<tr data-run="${esc(r.runId)}"><th scope="row">${esc(r.model)}${paperName}</th><td>${esc(r.trainVariant)}</td><td class="num">${r.seed}</td>${cells}</tr>`;
    })
    .join('\n');
  return `<div class="scroll"><table class="acc" id="${id}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

const ciText = (e: { value: number; lo: number; hi: number } | null | undefined) =>
  e
    ? `<span class="ours">${formatPct(e.value)}</span>${e.hi > e.lo ? `<span class="ci">[${formatPct(e.lo)}, ${formatPct(e.hi)}]</span>` : ''}`
    : '–';

/** Mean over seeds of each (model, train variant) with its 95% t interval; only groups with several seeds. */
function seedTableHtml(groups: SeedGroup[], columns: string[]): string {
  const multi = groups.filter((g) => g.seeds.length > 1);
  if (!multi.length) return '';
  const head = ['model', 'trained on', 'seeds', ...columns, 'BG-Gap', 'Challenge (adv.)']
    .map((h) => `<th scope="col">${esc(h)}</th>`)
    .join('');
  const body = multi
    .map(
      (g) =>
        `<tr><th scope="row">${esc(modelText(g))}</th><td>${esc(g.trainVariant)}</td><td class="num">${esc(g.seeds.join(' '))}</td>${columns
          .map((c) => `<td class="num" data-seed-col="${esc(c)}">${ciText(g.accuracy[c])}</td>`)
          .join(
            '',
          )}<td class="num" data-seed-col="bg_gap">${ciText(g.bgGap)}</td><td class="num" data-seed-col="challenge">${ciText(g.challenge)}</td></tr>`,
    )
    .join('\n');
  return `<h3>Mean over seeds</h3><div class="scroll"><table class="acc" id="seed-table"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>
<p class="note">Each cell: mean over the seeds, 95% Student-t interval across seeds below it (seed-to-seed spread, not test-set noise).</p>`;
}

function statisticsNoteHtml(r: StudyResults): string {
  const s = r.statistics;
  if (!s) return '<p class="note">This results.json predates intervals: numbers are point estimates.</p>';
  const missing = s.missingDetails.length
    ? ` ${s.missingDetails.length} evaluation document(s) had no per-image results, so their numbers have no interval.`
    : '';
  return `<p class="note">Second line of each cell: 95% interval (hover for what it covers). Accuracy: ${esc(s.accuracy)}. BG-Gap: ${esc(s.bgGap)}. Challenge: ${esc(s.challenge)}.${esc(missing)}</p>`;
}

function paperTableHtml(columns: string[]): string {
  const cols = ['original', 'mixed_same', 'mixed_rand'];
  const head = ['model (Xiao et al. 2021)', 'trained on', 'train set', ...cols, 'BG-Gap', 'challenge (adv.)']
    .map((h) => `<th>${esc(h)}</th>`)
    .join('');
  const rows = XIAO_2021.rows
    .map(
      (p) =>
        `<tr><th scope="row">${esc(p.model)}</th><td>${esc(p.trainVariant)}</td><td>${esc(p.trainSet)}</td>${cols
          .map((c) => `<td class="num">${p.accuracy[c]?.toFixed(1) ?? ''}</td>`)
          .join(
            '',
          )}<td class="num">${p.bgGap.toFixed(1)}</td><td class="num">${p.challenge?.adversarialAccuracy.toFixed(1) ?? ''}</td></tr>`,
    )
    .join('');
  const pv = XIAO_2021.provenance;
  const missing = cols.filter((c) => !columns.includes(c));
  return `<h3>Published numbers</h3><div class="scroll"><table class="acc paper-table">${`<thead><tr>${head}</tr></thead>`}<tbody>${rows}</tbody></table></div>
<p class="note">Source: ${esc(pv.paper)} <a href="${esc(pv.url)}">${esc(pv.url)}</a>, ${esc(pv.where)}. ${esc(pv.transcribed)} Unit: ${esc(pv.unit)} on ${esc(pv.dataset)}.${
    missing.length ? ` This study did not test ${missing.map(esc).join(', ')}.` : ''
  }</p>`;
}

function studyHeader(r: StudyResults): string {
  const s = r.study;
  const d = r.dataset;
  const backends = [...new Set(r.rows.map((x) => x.backend))];
  const counts = d
    ? Object.entries(d.counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : 'not prepared';
  const items: [string, string][] = [
    ['study', `${s.name} (hash ${s.studyHash})`],
    [
      'status',
      s.cancelled
        ? 'cancelled: partial results'
        : s.failedRuns?.length
          ? `${s.failedRuns.length} run(s) failed: partial results`
          : 'completed',
    ],
    ...(s.failedRuns ?? []).map((f): [string, string] => [`failed: ${f.label}`, f.error]),
    ['runs', `${r.rows.length} finished of ${s.plannedRuns} planned`],
    [
      'dataset',
      `${r.source.source}${d ? `: ${d.classes.length} classes (${d.classes.join(', ')}); ${counts}` : ''}`,
    ],
    ['skipped inputs', d ? String(d.skippedCount) : '–'],
    ['backend', backends.join('; ') || '–'],
    ['spec', s.specKey],
  ];
  return `<dl class="meta">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

async function experimentHtml(s: ExperimentSection, rows: ResultRow[], charts: Charts): Promise<string> {
  const parts = [`<section class="experiment" id="exp-${s.factor}"><h3>${esc(s.title)}</h3>`];
  parts.push(`<p class="claim">${esc(s.claim)}</p>`);
  parts.push(`<p class="note">Variants: ${s.variants.map((v) => `<code>${esc(v)}</code>`).join(', ')}.</p>`);
  const figs: string[] = [];
  if (s.points.length)
    figs.push(
      await charts.figure(
        experimentChart(s),
        s.sweep ? `Accuracy vs ${s.sweep.param}` : 'Accuracy',
        s.sweep
          ? `Accuracy vs ${s.sweep.param}; dashed lines: reference runs.`
          : 'Accuracy per test variant (mean over seeds).',
      ),
    );
  else figs.push('<p class="missing">No run was tested on these variants.</p>');
  const curveRows = s.curveRunIds.map((id) => rows.find((r) => r.runId === id)!).filter(Boolean);
  if (curveRows.length)
    figs.push(
      await charts.figure(
        curvesChart(curveRows),
        'Per-epoch loss and accuracy',
        'Training (solid) and validation (dashed) loss and accuracy per epoch; original-trained vs variant-trained runs on the same axes.',
      ),
    );
  else figs.push('<p class="missing">No training curves for these runs.</p>');
  parts.push(`<div class="figs">${figs.join('')}</div></section>`);
  return parts.join('\n');
}

function samplesHtml(a: ReportAssets): string {
  if (!a.samples || a.samples.rows.length === 0)
    return '<p class="missing">No sample images (no variant manifests in the store).</p>';
  const head = a.samples.ids.map((s) => `<th title="${esc(s.id)}">${esc(s.className)}</th>`).join('');
  const rows = a.samples.rows
    .map(
      (r) =>
        `<tr><th scope="row"><code>${esc(r.variant)}</code></th>${r.images
          .map((src, i) =>
            src
              ? `<td><img class="sample" src="${src}" alt="${esc(`${r.variant}: ${a.samples!.ids[i]!.id}`)}"></td>`
              : '<td class="missing">–</td>',
          )
          .join('')}</tr>`,
    )
    .join('\n');
  return `<div class="scroll"><table class="samples"><thead><tr><th>variant</th>${head}</tr></thead><tbody>${rows}</tbody></table></div>
<p class="note">The same validation images (first of each class) under every variant.</p>`;
}

/** How each saliency method is named beside its maps. */
export const SALIENCY_METHOD_NAMES = {
  smoothgrad: 'SmoothGrad',
  gradient: 'plain gradient',
  occlusion: 'occlusion',
} as const;

async function saliencyHtml(r: StudyResults, a: ReportAssets, charts: Charts): Promise<string> {
  const rows = r.rows.filter((x) => x.saliency.length > 0);
  if (rows.length === 0) return '<p class="missing">No saliency maps were computed.</p>';
  const parts = [
    await charts.figure(
      saliencyShareChart(rows),
      'Share of saliency inside the foreground mask',
      'Mean share of saliency mass inside the foreground mask (bars) against the mask’s share of the image (ticks: a map blind to the object). Bar above tick, ratio > 1: the model looks at the object more than chance.',
    ),
  ];
  for (const row of rows) {
    const cells = row.saliency
      .map((s) => {
        const src = a.saliency[s.gridKey];
        // small grids (16-32 px tiles) are scaled up by a whole factor, pixelated, to about 480 px wide
        const scale = src ? Math.max(1, Math.min(4, Math.floor(480 / src.width))) : 1;
        const img = src
          ? `<img class="saliency" src="${src.src}" width="${src.width * scale}" height="${src.height * scale}" alt="${esc(`saliency ${s.label}`)}">`
          : `<p class="missing">grid missing: ${esc(s.gridKey)}</p>`;
        const ci = (i: { lo: number; hi: number } | null | undefined, f: (x: number) => string) =>
          i ? ` [${f(i.lo)}, ${f(i.hi)}]` : '';
        const area =
          s.areaShare !== null && s.areaShare !== undefined && Number.isFinite(s.areaShare)
            ? `; mask area ${formatPct(s.areaShare)}%; ratio ${s.ratio?.toFixed(2) ?? '–'}${ci(s.ratioInterval, (x) => x.toFixed(2))}`
            : '';
        const method = s.method ? ` (${SALIENCY_METHOD_NAMES[s.method]})` : '';
        return `<figure class="sal">${img}<figcaption><code>${esc(s.label)}</code>${method}: foreground share ${formatPct(s.foregroundShare)}%${ci(s.shareInterval, formatPct)}${area}</figcaption></figure>`;
      })
      .join('');
    parts.push(`<h4>${esc(runName(row))}</h4><div class="figs">${cells}</div>`);
  }
  return parts.join('\n');
}

async function perClassHtml(r: StudyResults, charts: Charts): Promise<string> {
  const classes = r.dataset?.classes ?? [];
  const parts: string[] = [];
  for (const row of r.rows) {
    const figs: string[] = [];
    if (Object.keys(row.perClass).length)
      figs.push(
        await charts.figure(
          perClassChart(row, classes),
          'Per-class accuracy',
          'Accuracy per class on each test variant.',
        ),
      );
    // confusion on original, and on the run's own training variant when that differs
    const cols = [...new Set(['original', row.trainVariant])].filter((c) => row.confusion[c]?.length);
    if (cols.length === 0 && Object.keys(row.confusion)[0]) cols.push(Object.keys(row.confusion)[0]!);
    for (const c of cols)
      figs.push(
        await charts.figure(
          confusionChart(row, c, classes),
          `Confusion on ${c}`,
          'Rows: true class; columns: predicted class; cells: images.',
        ),
      );
    if (figs.length) parts.push(`<h3>${esc(runName(row))}</h3><div class="figs">${figs.join('')}</div>`);
  }
  return parts.join('\n') || '<p class="missing">No per-class results.</p>';
}

function skippedHtml(r: StudyResults, problems: string[]): string {
  const d = r.dataset;
  const parts: string[] = [];
  if (!d) parts.push('<p class="missing">The dataset was not prepared.</p>');
  else if (d.skippedCount === 0) parts.push('<p>No input was skipped.</p>');
  else {
    parts.push(
      `<p>${d.skippedCount} input file(s) were skipped${d.skipped.length < d.skippedCount ? ` (the first ${d.skipped.length} are listed; all are in the dataset manifest <code>${esc(d.manifestKey)}</code>)` : ''}:</p>`,
      `<table class="skipped"><thead><tr><th>file</th><th>reason</th></tr></thead><tbody>${d.skipped
        .map((s) => `<tr><td><code>${esc(s.file)}</code></td><td>${esc(s.reason)}</td></tr>`)
        .join('')}</tbody></table>`,
    );
  }
  if (problems.length)
    parts.push(
      `<p>Report assets that could not be loaded:</p><ul>${problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`,
    );
  return parts.join('\n');
}

function runsHtml(r: StudyResults): string {
  const rows = r.rows
    .map(
      (x) =>
        `<tr><td><code>${esc(x.runId)}</code></td><td>${esc(runName(x))}</td><td class="num">${x.inputSize}</td><td class="num">${x.epochs}</td><td>${esc(x.backend)}</td><td><code>${esc(x.modelKey)}</code></td></tr>`,
    )
    .join('');
  return `<div class="scroll"><table class="runs"><thead><tr><th>run</th><th>model</th><th>input px</th><th>epochs</th><th>backend</th><th>weights</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/**
 * The study report as one self-contained HTML page (inline CSS, inline SVG charts from Vega-Lite, images as
 * data: URIs; nothing is fetched when it is opened), rendered from results.json and images from the store.
 */
export async function renderHtmlReport(
  results: StudyResults,
  assets: ReportAssets = EMPTY_ASSETS,
): Promise<string> {
  const charts = new Charts();
  const compare = results.compareWithPaper;
  const split = tableColumns(results);
  const table = accuracyTable(results, { testColumns: split.xiao });
  const more = split.other.length
    ? `<h3>Accuracy on the other test variants</h3>${tableHtml(accuracyTable(results, { testColumns: split.other, extras: false }), compare, 'accuracy-table-more')}`
    : '';
  const rowsWithGap = results.rows.filter((x) => x.bgGap !== null);
  const rowsWithChallenge = results.rows.filter((x) => x.challenge);
  const summaryFigs: string[] = [];
  if (rowsWithGap.length)
    summaryFigs.push(
      await charts.figure(
        bgGapChart(rowsWithGap),
        'BG-Gap = acc(mixed_same) − acc(mixed_rand)',
        `Larger gap: more reliance on the background. Black lines: paired 95% intervals; p-values (sign-flip mid-p) in the table: ${rowsWithGap
          .map((x) => `${runName(x)} p=${formatP(x.bgGapTest?.p) || '–'}`)
          .join('; ')}.`,
      ),
    );
  const groups = results.seedGroups ?? seedGroups(results.rows, results.columns);
  const gapPoints = crossModelPoints(groups, results.rows, columnOf('original'), bgGapOf);
  if (gapPoints.length)
    summaryFigs.push(
      await charts.figure(
        crossModelChart(gapPoints, { x: 'accuracy on original', y: 'BG-Gap' }),
        'Accuracy vs BG-Gap across models',
        'Each (model, training variant) of the study, mean over seeds with 95% intervals. Xiao et al.: better models rely less on backgrounds (smaller gap at higher accuracy).',
      ),
    );
  const randPoints = crossModelPoints(groups, results.rows, columnOf('original'), columnOf('mixed_rand'));
  if (randPoints.length)
    summaryFigs.push(
      await charts.figure(
        crossModelChart(randPoints, {
          x: 'accuracy on original',
          y: 'accuracy on mixed_rand',
          diagonal: true,
        }),
        'Original vs mixed_rand accuracy across models',
        'Dashed: y = x (no loss when the background is random). Xiao et al.: accuracy on mixed_rand rises with accuracy on original, below the diagonal.',
      ),
    );
  if (rowsWithChallenge.length)
    summaryFigs.push(
      await charts.figure(
        challengeChart(rowsWithChallenge),
        'Backgrounds challenge',
        'Adversarial accuracy: share of foregrounds classified correctly on every background of the pool.',
      ),
    );
  const experiments = selectExperiments(results);
  const expHtml: string[] = [];
  for (const s of experiments) expHtml.push(await experimentHtml(s, results.rows, charts));
  const saliency = await saliencyHtml(results, assets, charts);
  const perClass = await perClassHtml(results, charts);

  const nonIn9 = compare && results.source.source !== 'in9';
  const sections: [string, string, string][] = [
    [
      'accuracy',
      'Accuracy (Xiao et al. Table 2 layout)',
      `<p class="note">Top-1 accuracy in % of each (model, training variant, seed) on each test variant; mixed_* columns are means over their pairings. BG-Gap = mixed_same − mixed_rand (points). Challenge: adversarial accuracy on the backgrounds challenge.${
        compare ? ' Grey: the paper’s number for the same model and training variant.' : ''
      }${nonIn9 ? ` The paper measured IN-9; this study used ${esc(results.source.source)} data, so compare trends, not values.` : ''}</p>
${tableHtml(table, compare, 'accuracy-table')}
${statisticsNoteHtml(results)}
${more}
${seedTableHtml(results.seedGroups ?? seedGroups(results.rows, results.columns), [...split.xiao, ...split.other])}
${compare ? paperTableHtml(results.columns) : ''}
<div class="figs">${summaryFigs.join('')}</div>`,
    ],
    [
      'experiments',
      'Experiments',
      expHtml.join('\n') || '<p class="missing">No experiment variants in this study.</p>',
    ],
    ['samples', 'Sample images per variant', samplesHtml(assets)],
    ['saliency', 'Saliency', saliency],
    ['per-class', 'Per-class accuracy and confusion', perClass],
    ...(results.contextPairs?.length
      ? [
          ['context', 'Context head: highly correlated class', contextHtml(results)] as [
            string,
            string,
            string,
          ],
        ]
      : []),
    ['masks', 'Masks: sources, checks and IoU', masksHtml(results.dataset?.masks)],
    ['leaks', 'Leak check: background-only images, non-CNN learners', leaksHtml(results.dataset?.leaks)],
    ['skipped', 'Skipped inputs', skippedHtml(results, assets.problems)],
    ['runs', 'Runs', runsHtml(results)],
  ];
  const nav = sections.map(([id, title]) => `<a href="#${id}">${esc(title)}</a>`).join('');
  const subnav = experiments.map((s) => `<a href="#exp-${s.factor}">${esc(s.title)}</a>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bgstudy ${HTML_REPORT_VERSION}">
<title>${esc(results.study.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header><h1>${esc(results.study.title)}</h1>${studyHeader(results)}<nav>${nav}</nav>${subnav ? `<nav class="sub">${subnav}</nav>` : ''}</header>
<main>
${sections.map(([id, title, body]) => `<section id="${id}"><h2>${esc(title)}</h2>\n${body}\n</section>`).join('\n')}
</main>
<footer>Generated by bgstudy (${HTML_REPORT_VERSION}) from results.json of study ${esc(results.study.studyHash)}; ${charts.count} charts rendered with Vega-Lite.</footer>
</body>
</html>
`;
}

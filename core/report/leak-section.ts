import type { LeakReport, LeakRow } from '../leaks/leak-check';
import { escapeHtml as esc } from './html-escape';

/**
 * The report's leak-check section (core/leaks): how much of the class simple non-CNN learners read from
 * background-only images. On the synthetic ground truth at p=0 with every class factor off it must read
 * chance; on real data it measures what the box and background alone reveal.
 */
const pct = (x: number) => (100 * x).toFixed(1);
const HEAD = ['variant', 'features', 'learner', 'accuracy %', '95% CI', 'vs chance'];

function cells(r: LeakReport, row: LeakRow): string[] {
  const verdict = row.ci[0] > r.chance ? 'above' : row.ci[1] < r.chance ? 'below' : 'at chance';
  return [
    row.variant,
    row.features,
    row.learner,
    pct(row.accuracy),
    `${pct(row.ci[0])}–${pct(row.ci[1])}`,
    verdict,
  ];
}

function setup(r: LeakReport): string {
  return `Trained on ${r.train} train images, scored on ${r.val} val images; chance (most frequent val class) ${pct(r.chance)}% ± ${pct(r.chanceSe)} (SE). Features: the box's geometry (only_bg_b), row/column intensity and edge profiles, colour and texture statistics`;
}

const NO_FG_NOTE =
  'no_fg keeps the object’s silhouette by design (the mask is blacked out, its shape stays visible): its column measures shape, not background, and is not part of this check.';

export function leaksMarkdown(r: LeakReport | undefined): string[] {
  if (!r) return [];
  return [
    '',
    '## Leak check (background-only images, non-CNN learners)',
    '',
    `${setup(r)}.`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => '---').join('|')}|`,
    ...r.rows.map((row) => `| ${cells(r, row).join(' | ')} |`),
    '',
    NO_FG_NOTE,
  ];
}

export function leaksHtml(r: LeakReport | undefined): string {
  if (!r) return '<p class="missing">No leak check recorded (a dataset prepared by an older version).</p>';
  const head = HEAD.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const body = r.rows
    .map(
      (row) =>
        `<tr data-variant="${row.variant}" data-features="${row.features}" data-learner="${row.learner}" data-accuracy="${row.accuracy}">${cells(
          r,
          row,
        )
          .map((c, j) => (j < 3 ? `<td>${esc(c)}</td>` : `<td class="num">${esc(c)}</td>`))
          .join('')}</tr>`,
    )
    .join('');
  return [
    `<p class="note">${esc(setup(r))}. A row above chance means the class is visible outside the object: in the box itself, or in the background.</p>`,
    `<div class="scroll"><table class="leaks" id="leak-table"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`,
    `<p class="note">${esc(NO_FG_NOTE)}</p>`,
  ].join('\n');
}

import { FLAG_MEANING, MASK_FLAGS } from '../masks/mask-checks';
import type { MaskSummary } from '../masks/mask-summary';
import { escapeHtml as esc } from './html-escape';

const pct = (x: number) => (100 * x).toFixed(1);
const iouText = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(3));

/** One row per mask source: what the report's mask table shows. */
export function maskRows(s: MaskSummary): string[][] {
  return s.perSource.map((p) => [
    `${p.source}${p.source === s.use ? ' (used)' : ''}`,
    String(p.masks),
    String(p.errors),
    pct(p.meanFg),
    MASK_FLAGS.filter((f) => p.flags[f])
      .map((f) => `${f} ${p.flags[f]}`)
      .join(', ') || 'none',
    iouText(p.iou?.mean),
    iouText(p.iou?.median),
    iouText(p.iou?.p10),
    String(p.iou?.n ?? 0),
  ]);
}

export const MASK_HEAD = [
  'mask source',
  'masks',
  'failed',
  'mean fg %',
  'flags',
  'IoU mean',
  'IoU median',
  'IoU p10',
  'IoU n',
];

function setup(s: MaskSummary): string {
  const c = s.checks;
  const parts = [
    `used: ${s.use}`,
    s.boxes ? `boxes from ${s.boxes}` : undefined,
    s.grabcut ? `GrabCut ${s.grabcut.iterations} iterations, margin ${s.grabcut.margin}` : undefined,
    `checks: foreground share in [${c.minFgFraction}, ${c.maxFgFraction}], at most ${c.maxComponents} pieces, policy ${c.policy}`,
  ];
  return parts.filter(Boolean).join('; ');
}

/** The masks section of report.md. */
export function masksMarkdown(s: MaskSummary | undefined): string[] {
  if (!s) return [];
  const lines = [
    '',
    '## Masks',
    '',
    `${setup(s)}. IoU is against the provided masks.`,
    '',
    `| ${MASK_HEAD.join(' | ')} |`,
    `|${MASK_HEAD.map(() => '---').join('|')}|`,
    ...maskRows(s).map((r) => `| ${r.join(' | ')} |`),
  ];
  if (s.flaggedCount)
    lines.push(
      '',
      `Flagged masks: ${s.flaggedCount}${s.flagged.length < s.flaggedCount ? ` (first ${s.flagged.length}; all in the dataset manifest)` : ''}`,
      ...s.flagged.map(
        (f) => `- ${f.id} (${f.source}${f.file ? `, ${f.file}` : ''}): ${f.flags.join(', ')} — ${f.action}`,
      ),
    );
  if (s.notesCount)
    lines.push('', `Box notes: ${s.notesCount}`, ...s.notes.map((n) => `- ${n.id}: ${n.note}`));
  return lines;
}

/** The masks section of report.html. */
export function masksHtml(s: MaskSummary | undefined): string {
  if (!s)
    return '<p class="missing">No mask checks recorded (a synthetic dataset, or one prepared by an older version).</p>';
  const head = MASK_HEAD.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const body = maskRows(s)
    .map(
      (r, i) =>
        `<tr data-source="${esc(s.perSource[i]!.source)}" data-iou="${s.perSource[i]!.iou?.mean ?? ''}">${r
          .map((c, j) =>
            j === 0 ? `<th scope="row">${esc(c)}</th>` : `<td${j === 4 ? '' : ' class="num"'}>${esc(c)}</td>`,
          )
          .join('')}</tr>`,
    )
    .join('');
  const parts = [
    `<p class="note">${esc(setup(s))}. IoU: intersection over union with the provided mask of the same image (mean, median, 10th percentile over the images that have both). A study per mask source (<code>masks.use</code>) tells whether better masks change only_fg accuracy.</p>`,
    `<div class="scroll"><table class="masks" id="mask-table"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`,
    `<p class="note">Flags: ${MASK_FLAGS.map((f) => `<code>${f}</code> ${esc(FLAG_MEANING[f])}`).join('; ')}.</p>`,
  ];
  if (s.flaggedCount)
    parts.push(
      `<p>${s.flaggedCount} flagged mask(s)${s.flagged.length < s.flaggedCount ? ` (the first ${s.flagged.length}; all are in the dataset manifest)` : ''}:</p>`,
      `<table class="skipped" id="mask-flagged"><thead><tr><th>image</th><th>file</th><th>source</th><th>flags</th><th>action</th></tr></thead><tbody>${s.flagged
        .map(
          (f) =>
            `<tr><td><code>${esc(f.id)}</code></td><td><code>${esc(f.file ?? '')}</code></td><td>${esc(f.source)}</td><td>${esc(f.flags.join(', '))}</td><td>${esc(f.action)}</td></tr>`,
        )
        .join('')}</tbody></table>`,
    );
  else parts.push('<p>No mask was flagged.</p>');
  if (s.notesCount)
    parts.push(
      `<p>${s.notesCount} box note(s):</p><ul>${s.notes.map((n) => `<li><code>${esc(n.id)}</code>: ${esc(n.note)}</li>`).join('')}</ul>`,
    );
  return parts.join('\n');
}

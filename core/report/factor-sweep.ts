import { meanInterval } from '../stats/intervals';
import { escapeHtml as esc } from './html-escape';
import { REPORT_CSS } from './report-style';
import type { ResultRow, StudyResults } from './results';

/**
 * The class-factors sweep's report section (issue 17 item 4): a study holds one dataset, so the sweep is a family
 * of studies (bench/class-factors-specs.ts), one per factor and strength. Read together, they give, per factor
 * and strength: background-only accuracy against chance, the original-trained model's BG-Gap against 0, and its
 * saliency share on the object against the mask's area share. The slides' claim, on ground truth: background-only
 * accuracy leaves chance as a class-dependent factor's strength rises.
 */
export const SWEEP_FACTORS = ['shadow', 'distractor', 'classSize', 'bgCorrelation'] as const;
export type SweepFactor = (typeof SWEEP_FACTORS)[number];

const FACTOR_TITLES: Record<SweepFactor, string> = {
  shadow: 'shadow (cast shadow in a class direction)',
  distractor: 'distractor (co-occurring non-target object)',
  classSize: 'classSize (object size from a class band)',
  bgCorrelation: 'p (background family and hue)',
};

/** A number with its 95% interval and how it was made; lo/hi null when there was nothing to make one from. */
export interface Measured {
  value: number;
  lo: number | null;
  hi: number | null;
  method: string;
}

export interface SweepPoint {
  study: string;
  studyHash: string;
  strength: number;
  /** Chance for a balanced K-class val set, 1 / K: the baseline of background-only accuracy. */
  chance: number;
  /** Accuracy of the model trained on `bgOnlyVariant` on that variant (only_bg_t, else only_bg_b). */
  bgOnly: Measured | null;
  bgOnlyVariant: string | null;
  /** BG-Gap of the original-trained model (baseline 0). */
  bgGap: Measured | null;
  /** Saliency share inside the mask of the original-trained model on original, and the mask's area share. */
  saliency: { share: Measured; areaShare: number | null } | null;
  /**
   * The dataset's leak check: its best reading (non-CNN learners) on each background-only variant, with its Wilson
   * interval. Both, because they see different factors: only_bg_t hides the object's box under background tiles,
   * so object size (classSize) shows only through only_bg_b's black box.
   */
  leaks: Record<LeakVariant, LeakReading | null>;
}

const LEAK_VARIANTS = ['only_bg_b', 'only_bg_t'] as const;
type LeakVariant = (typeof LEAK_VARIANTS)[number];
export interface LeakReading {
  accuracy: number;
  lo: number;
  hi: number;
  learner: string;
  chance: number;
}

export interface FactorSweep {
  factors: { factor: SweepFactor; points: SweepPoint[] }[];
  /** Studies left out, and why (not synthetic, more than one factor moved, other settings differ). */
  excluded: { study: string; reason: string }[];
}

type Synthetic = Extract<StudyResults['source'], { source: 'synthetic' }>;

function strengths(s: Synthetic): Record<SweepFactor, number> {
  return { ...s.factors, bgCorrelation: s.bgCorrelation };
}

/** Everything about the dataset but the sweep's knobs: studies of one sweep must agree on it. */
function fixedPart(s: Synthetic): Record<string, unknown> {
  const { factors: _f, bgCorrelation: _p, ...rest } = s;
  return rest;
}

/**
 * One number over a model's seeds: with several seeds, their mean and Student-t interval (core/stats); with one,
 * that run's own interval (bootstrap over test images, paired for BG-Gap), or none.
 */
function overSeeds(
  values: { value: number; lo?: number | null; hi?: number | null }[],
  oneMethod: string,
): Measured | null {
  if (!values.length) return null;
  if (values.length > 1) {
    const e = meanInterval(values.map((v) => v.value));
    return { value: e.value, lo: e.lo, hi: e.hi, method: e.method };
  }
  const v = values[0]!;
  const has = typeof v.lo === 'number' && typeof v.hi === 'number';
  return {
    value: v.value,
    lo: has ? v.lo! : null,
    hi: has ? v.hi! : null,
    method: has ? oneMethod : 'one run without per-image results: no interval',
  };
}

function pointOf(r: StudyResults, strength: number): SweepPoint {
  const rowsOn = (variant: string) => r.rows.filter((x) => x.trainVariant === variant);
  const bgVariant = ['only_bg_t', 'only_bg_b'].find((v) =>
    rowsOn(v).some((x) => x.accuracy[v] !== undefined),
  );
  const bgRows = bgVariant ? rowsOn(bgVariant).filter((x) => x.accuracy[bgVariant] !== undefined) : [];
  const orig = rowsOn('original');
  const gapRows = orig.filter((x): x is ResultRow & { bgGap: number } => x.bgGap !== null);
  const sal = orig.flatMap((x) => x.saliency.filter((s) => s.label === 'original'));
  const leakOn = (variant: LeakVariant): LeakReading | null => {
    const check = r.dataset?.leaks;
    const best = (check?.rows ?? [])
      .filter((x) => x.variant === variant)
      .reduce<NonNullable<typeof check>['rows'][number] | null>(
        (a, x) => (a === null || x.accuracy > a.accuracy ? x : a),
        null,
      );
    return best && check
      ? {
          accuracy: best.accuracy,
          lo: best.ci[0],
          hi: best.ci[1],
          learner: best.learner,
          chance: check.chance,
        }
      : null;
  };
  const areas = sal.map((s) => s.areaShare).filter((a): a is number => typeof a === 'number');
  return {
    study: r.study.name,
    studyHash: r.study.studyHash,
    strength,
    chance: 1 / Math.max(1, r.dataset?.classes.length ?? (r.source as Synthetic).classes),
    bgOnly: overSeeds(
      bgRows.map((x) => ({ value: x.accuracy[bgVariant!]!, ...x.accuracyInterval?.[bgVariant!] })),
      'bootstrap over test images',
    ),
    bgOnlyVariant: bgVariant ?? null,
    bgGap: overSeeds(
      gapRows.map((x) => ({ value: x.bgGap, lo: x.bgGapTest?.lo, hi: x.bgGapTest?.hi })),
      'paired bootstrap over foregrounds',
    ),
    saliency: sal.length
      ? {
          share: overSeeds(
            sal.map((s) => ({ value: s.foregroundShare, ...s.shareInterval })),
            'bootstrap over the grid’s images',
          )!,
          areaShare: areas.length ? areas.reduce((a, b) => a + b, 0) / areas.length : null,
        }
      : null,
    leaks: { only_bg_b: leakOn('only_bg_b'), only_bg_t: leakOn('only_bg_t') },
  };
}

/**
 * Sorts a family of studies into the sweep: a study with every factor at 0 and p = 0 is strength 0 of every
 * factor; one with exactly one factor (or p) above 0 is that factor at that strength. Pure.
 */
export function factorSweep(results: StudyResults[]): FactorSweep {
  const excluded: FactorSweep['excluded'] = [];
  const placed: { factor: SweepFactor | 'baseline'; strength: number; r: StudyResults }[] = [];
  let fixed: { study: string; json: string } | undefined;
  for (const r of results) {
    const name = `${r.study.name} (${r.study.studyHash.slice(0, 12)})`;
    if (r.source.source !== 'synthetic') {
      excluded.push({ study: name, reason: `${r.source.source} data: the factors are synthetic knobs` });
      continue;
    }
    const json = JSON.stringify(fixedPart(r.source));
    if (fixed && json !== fixed.json) {
      excluded.push({
        study: name,
        reason: `its dataset differs from ${fixed.study}'s in more than the factors and p`,
      });
      continue;
    }
    fixed ??= { study: name, json };
    const s = strengths(r.source);
    const moved = SWEEP_FACTORS.filter((f) => s[f] > 0);
    if (moved.length > 1) {
      excluded.push({ study: name, reason: `more than one factor above 0 (${moved.join(', ')})` });
      continue;
    }
    const factor = moved[0] ?? 'baseline';
    placed.push({ factor, strength: moved[0] ? s[moved[0]] : 0, r });
  }
  const factors = SWEEP_FACTORS.map((factor) => ({
    factor,
    points: placed
      .filter((p) => p.factor === factor || p.factor === 'baseline')
      .map((p) => pointOf(p.r, p.strength))
      .sort((a, b) => a.strength - b.strength),
  })).filter((f) => f.points.some((p) => p.strength > 0));
  return { factors, excluded };
}

const pct = (x: number) => (100 * x).toFixed(1);
const pts = (x: number) => (100 * x).toFixed(1);

function withCi(m: Measured | null, fmt = pct): string {
  if (!m) return '';
  return m.lo !== null && m.hi !== null ? `${fmt(m.value)} [${fmt(m.lo)}, ${fmt(m.hi)}]` : fmt(m.value);
}

/** Where an interval lies against its baseline: the reading a scientist wants first. */
function verdict(m: Measured | null, baseline: number): string {
  if (!m || m.lo === null || m.hi === null) return '';
  return m.lo > baseline ? 'above' : m.hi < baseline ? 'below' : 'at';
}

const HEAD = [
  'strength',
  'study',
  'bg-only acc %',
  'vs chance',
  'BG-Gap (points)',
  'vs 0',
  'saliency on object %',
  'mask area %',
  ...LEAK_VARIANTS.map((v) => `leak check, best ${v} %`),
];

function cells(p: SweepPoint): string[] {
  return [
    String(p.strength),
    p.study,
    p.bgOnly ? `${withCi(p.bgOnly)} (${p.bgOnlyVariant}; chance ${pct(p.chance)})` : '',
    verdict(p.bgOnly, p.chance),
    withCi(p.bgGap, pts),
    verdict(p.bgGap, 0),
    p.saliency ? withCi(p.saliency.share) : '',
    p.saliency?.areaShare != null ? pct(p.saliency.areaShare) : '',
    ...LEAK_VARIANTS.map((v) => {
      const l = p.leaks[v];
      return l
        ? `${pct(l.accuracy)} [${pct(l.lo)}, ${pct(l.hi)}] (${l.learner}; chance ${pct(l.chance)})`
        : '';
    }),
  ];
}

export const SWEEP_NOTE =
  'bg-only: the model trained on a background-only variant, scored on it (baseline: chance, 1/K). BG-Gap = acc(mixed_same) − acc(mixed_rand) of the original-trained model (baseline 0). Saliency on object: share of its saliency inside the mask on original images (baseline: the mask’s share of the image). Leak check: the best non-CNN learner on each background-only variant (baseline: chance); only_bg_t fills the object’s box with background tiles and hides its size, so object size (classSize) shows only in only_bg_b’s black box. Intervals are 95%: Student-t over seeds where a study ran several, else that run’s bootstrap (paired over foregrounds for BG-Gap). “vs” says where the interval lies against the baseline.';

function methodsOf(f: FactorSweep['factors'][number]): string {
  const ms = new Set(f.points.flatMap((p) => [p.bgOnly?.method, p.bgGap?.method, p.saliency?.share.method]));
  ms.delete(undefined);
  return [...ms].join('; ');
}

export function factorSweepMarkdown(s: FactorSweep): string {
  const lines = [
    '# Class-dependent factors: background-only accuracy, BG-Gap and saliency against strength',
    '',
    SWEEP_NOTE,
  ];
  for (const f of s.factors) {
    lines.push(
      '',
      `## ${FACTOR_TITLES[f.factor]}`,
      '',
      `| ${HEAD.join(' | ')} |`,
      `|${HEAD.map(() => '---').join('|')}|`,
      ...f.points.map((p) => `| ${cells(p).join(' | ')} |`),
      '',
      `Intervals: ${methodsOf(f)}.`,
    );
  }
  if (!s.factors.length) lines.push('', 'No study of the sweep moves a factor above 0.');
  if (s.excluded.length) lines.push('', 'Left out:', ...s.excluded.map((e) => `- ${e.study}: ${e.reason}`));
  return `${lines.join('\n')}\n`;
}

export function factorSweepHtml(s: FactorSweep): string {
  const head = HEAD.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  const tables = s.factors.map((f) => {
    const body = f.points
      .map(
        (p) =>
          `<tr data-factor="${f.factor}" data-strength="${p.strength}"${p.bgOnly ? ` data-bg-only="${p.bgOnly.value}"` : ''}${p.bgGap ? ` data-bg-gap="${p.bgGap.value}"` : ''}>${cells(
            p,
          )
            .map((c, j) => (j === 1 ? `<td>${esc(c)}</td>` : `<td class="num">${esc(c)}</td>`))
            .join('')}</tr>`,
      )
      .join('');
    return `<section class="factor" id="factor-${f.factor}"><h3>${esc(FACTOR_TITLES[f.factor])}</h3><div class="scroll"><table class="factor-sweep"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div><p class="note">Intervals: ${esc(methodsOf(f))}.</p></section>`;
  });
  const left = s.excluded.length
    ? `<p class="note">Left out:</p><ul>${s.excluded.map((e) => `<li>${esc(e.study)}: ${esc(e.reason)}</li>`).join('')}</ul>`
    : '';
  return [
    `<p class="note">${esc(SWEEP_NOTE)}</p>`,
    ...(tables.length ? tables : ['<p class="missing">No study of the sweep moves a factor above 0.</p>']),
    left,
  ].join('\n');
}

/** The sweep as one self-contained HTML page (the study report's style). */
export function factorSweepPage(s: FactorSweep): string {
  const title = 'Class-dependent factors against strength';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header><h1>${esc(title)}</h1></header>
<main><section id="class-factors">
${factorSweepHtml(s)}
</section></main>
</body>
</html>
`;
}

import type { EpochMetrics, RunSummary } from '../contracts';
import type { PreparedDataset } from '../data/prepare';
import type { StudyPlan } from '../spec/plan';
import { modelNameOf, readPlanRuns, trainedOnOf } from '../spec/planned-run';
import { BOOTSTRAP_RESAMPLES } from '../stats/bootstrap';
import { type Estimate, meanInterval } from '../stats/intervals';
import type { VariantSpec } from '../variants/variant-spec';
import { contextSuffix } from '../spec/context-plan';
import { type ContextPair, type ContextPairGroup, contextPairGroups, contextPairs } from './context-pairs';
import { type EvalDetails, NO_DETAILS } from './eval-details';
import { leaksMarkdown } from './leak-section';
import { masksMarkdown } from './mask-section';
import {
  accuracyInterval,
  bgGapTest,
  type BgGapTest,
  challengeInterval,
  type Interval,
  type SaliencyNumbers,
  saliencyNumbers,
} from './row-statistics';

/** One (model, train variant, seed) row of the Xiao-style table, with everything measured about it. */
export interface ResultRow {
  runId: string;
  label: string;
  arch: string;
  trainVariant: string;
  seed: number;
  inputSize: number;
  epochs: number;
  /** Test column label -> accuracy (mean over its pairings). */
  accuracy: Record<string, number>;
  /** Test column label -> 95% bootstrap interval over its test images; null without per-image results. */
  accuracyInterval: Record<string, Interval | null>;
  /** acc(mixed_same) - acc(mixed_rand), when both were tested. */
  bgGap: number | null;
  /** BG-Gap paired over foregrounds: interval and p-value; null without per-image results. */
  bgGapTest: BgGapTest | null;
  challenge: {
    adversarialAccuracy: number;
    /** Wilson 95% interval over the foregrounds. */
    interval: Interval;
    cleanAccuracy: number;
    foregrounds: number;
    /** Pool size: backgrounds each foreground was tried on (Xiao used every only_bg_t test image). */
    backgrounds: number;
  } | null;
  curves: EpochMetrics[];
  /** Test column -> per-class accuracy and confusion (of its first pairing). */
  perClass: Record<string, number[]>;
  confusion: Record<string, number[][]>;
  saliency: ({
    label: string;
    gridKey: string;
    /** SmoothGrad, one plain gradient, or occlusion (models without gradients); null in older results. */
    method: 'smoothgrad' | 'gradient' | 'occlusion' | null;
  } & SaliencyNumbers)[];
  backend: string;
  modelKey: string;
  /** Trained with a context head beside the class head (absent: without one). */
  context?: { label: string; weight: number };
}

/** Everything a study measured, as one JSON document (results.json): the report is rendered from it alone. */
export interface StudyResults {
  schema: 'bgstudy-results/1';
  study: {
    name: string;
    title: string;
    studyHash: string;
    specKey: string;
    cancelled: boolean;
    plannedRuns: number;
    /** Runs that failed for good (absent when none did): the study failed, this report covers the others. */
    failedRuns?: FailedRun[];
  };
  dataset: Pick<
    PreparedDataset,
    'manifestKey' | 'datasetHash' | 'classes' | 'counts' | 'skippedCount' | 'skipped' | 'masks' | 'leaks'
  > | null;
  source: StudyPlan['dataset'];
  columns: string[];
  rows: ResultRow[];
  /** Every variant instance: its label (the column name), the variant itself (name + typed parameters). */
  variants: StudyVariant[];
  compareWithPaper: boolean;
  /** Rows of the same (model, train variant) over their seeds: mean and t interval. */
  seedGroups: SeedGroup[];
  statistics: StatisticsNote;
  /** Runs with a context head beside their twins without one (absent when the study has no such pair). */
  contextPairs?: ContextPair[];
  /** The pairs over seeds, per (model, train variant, context). */
  contextPairGroups?: ContextPairGroup[];
}

/** A run that failed for good: which, and the innermost error message. */
export interface FailedRun {
  runId: string;
  label: string;
  error: string;
}

/** A variant instance in results.json; `spec` is absent in documents written before it (readStudyResults fills it). */
export interface StudyVariant {
  id: string;
  label: string;
  spec: VariantSpec;
  manifestKey: string | null;
}

/** One (model, train variant) over its seeds: each number's mean and 95% t interval across seeds. */
export interface SeedGroup {
  arch: string;
  trainVariant: string;
  context?: { label: string; weight: number };
  seeds: number[];
  accuracy: Record<string, Estimate>;
  bgGap: Estimate | null;
  challenge: Estimate | null;
}

/** How every interval in the document was made (the report prints it under the tables). */
export interface StatisticsNote {
  level: 0.95;
  accuracy: string;
  bgGap: string;
  challenge: string;
  seeds: string;
  saliency: string;
  /** Evaluation documents without per-image results: their numbers have no interval. */
  missingDetails: string[];
}

export const STATISTICS_NOTE: Omit<StatisticsNote, 'missingDetails'> = {
  level: 0.95,
  accuracy: `95% percentile bootstrap over test images (${BOOTSTRAP_RESAMPLES} resamples, seeded); a mixed_* column scores each image by its mean over the re-pairings`,
  bgGap:
    'paired over foregrounds (the same image on a same-class and a random-class background): 95% paired bootstrap of the mean difference, p = two-sided mid-p of the exact sign-flip test (McNemar with one pairing)',
  challenge: 'Wilson 95% interval over the foregrounds; the pool size (backgrounds per foreground) beside it',
  seeds:
    'mean over seeds with the 95% Student-t interval (t(n-1) · sd / √n), clipped to the range of the quantity',
  saliency:
    'share of saliency inside the mask, the mask’s share of the image (the chance level) and their ratio (> 1: more on the object than chance), 95% bootstrap over the grid’s images',
};

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Builds results.json from the plan and the finished runs (pure). */
export function buildResults(input: {
  plan: StudyPlan;
  specKey: string;
  dataset: PreparedDataset | null;
  variantKeys: Record<string, string>;
  runs: RunSummary[];
  cancelled: boolean;
  /** Runs that failed for good, in plan order; the report lists them. */
  failedRuns?: FailedRun[];
  /** Per-image results read back from the evaluation documents (loadEvalDetails); without them, no intervals. */
  details?: EvalDetails;
}): StudyResults {
  // Plans from before the tagged-union runs (a study in flight, an aggregateResults retried) are read too.
  const plan = readPlanRuns(input.plan);
  const details = input.details ?? NO_DETAILS;
  const columns = plan.tests.map((t) => t.label);
  // Looked up by id, not searched: a study of thousands of runs is built in linear time.
  const plannedById = new Map<string, StudyPlan['runs'][number]>();
  for (const p of [...plan.runs].reverse()) plannedById.set(p.runId, p);
  const labelOf = new Map(plan.variants.map((v) => [v.id, v.label] as const).reverse());
  const rows: ResultRow[] = input.runs.map((r) => {
    const planned = plannedById.get(r.runId);
    const accuracy: Record<string, number> = {};
    const accuracyCi: Record<string, Interval | null> = {};
    const perClass: Record<string, number[]> = {};
    const confusion: Record<string, number[][]> = {};
    for (const t of r.tests) {
      accuracy[t.label] = mean(t.evaluations.map((e) => e.accuracy));
      accuracyCi[t.label] = accuracyInterval(t.evaluations, details, [r.runId, t.label]);
      if (t.evaluations[0]) {
        perClass[t.label] = t.evaluations[0].perClassAccuracy;
        confusion[t.label] = t.evaluations[0].confusion;
      }
    }
    const same = accuracy.mixed_same;
    const rand = accuracy.mixed_rand;
    const evalsOf = (label: string) => r.tests.find((t) => t.label === label)?.evaluations ?? [];
    const gapTest =
      same !== undefined && rand !== undefined
        ? bgGapTest(evalsOf('mixed_same'), evalsOf('mixed_rand'), details, [r.runId])
        : null;
    return {
      runId: r.runId,
      label: r.label,
      arch: planned ? modelNameOf(planned) : '?',
      trainVariant: planned ? trainedOnOf(planned) : '?',
      seed: planned && planned.kind !== 'pretrained' ? planned.seed : 0,
      inputSize: planned?.inputSize ?? 0,
      // What was trained: one curve point per epoch the run's training returned (none for a model as it came).
      epochs: r.train.curves.length,
      accuracy,
      accuracyInterval: accuracyCi,
      bgGap: same !== undefined && rand !== undefined ? same - rand : null,
      bgGapTest: gapTest,
      challenge: r.challenge
        ? {
            adversarialAccuracy: r.challenge.adversarialAccuracy,
            interval: challengeInterval(r.challenge.adversarialAccuracy, r.challenge.foregrounds),
            cleanAccuracy: r.challenge.cleanAccuracy,
            foregrounds: r.challenge.foregrounds,
            backgrounds: r.challenge.backgrounds,
          }
        : null,
      curves: r.train.curves,
      perClass,
      confusion,
      saliency: r.saliency.map((s) => ({
        label: labelOf.get(s.variantId) ?? s.variantId,
        gridKey: s.gridKey,
        method: s.method ?? null,
        ...saliencyNumbers(s, details, [r.runId, s.variantId]),
      })),
      backend: r.train.backend,
      modelKey: r.train.modelKey,
      ...(planned?.kind === 'trained' && planned.context
        ? { context: { label: planned.context.label, weight: planned.context.weight } }
        : {}),
    };
  });
  const pairs = contextPairs(plan.runs, input.runs, details);
  const d = input.dataset;
  return {
    schema: 'bgstudy-results/1',
    study: {
      name: plan.name,
      title: plan.title,
      studyHash: plan.studyHash,
      specKey: input.specKey,
      cancelled: input.cancelled,
      plannedRuns: plan.runs.length,
      ...(input.failedRuns?.length ? { failedRuns: input.failedRuns } : {}),
    },
    dataset: d
      ? {
          manifestKey: d.manifestKey,
          datasetHash: d.datasetHash,
          classes: d.classes,
          counts: d.counts,
          skippedCount: d.skippedCount,
          skipped: d.skipped,
          ...(d.masks ? { masks: d.masks } : {}),
          ...(d.leaks ? { leaks: d.leaks } : {}),
        }
      : null,
    source: plan.dataset,
    columns,
    rows,
    variants: plan.variants.map((v) => ({
      id: v.id,
      label: v.label,
      spec: v.spec,
      manifestKey: input.variantKeys[v.id] ?? null,
    })),
    compareWithPaper: plan.compareWithPaper,
    seedGroups: seedGroups(rows, columns),
    statistics: { ...STATISTICS_NOTE, missingDetails: details.missing },
    ...(pairs.length ? { contextPairs: pairs, contextPairGroups: contextPairGroups(pairs) } : {}),
  };
}

/** Groups rows by (model, train variant) in row order and summarizes every number over the seeds. */
export function seedGroups(rows: ResultRow[], columns: string[]): SeedGroup[] {
  const groups = new Map<string, ResultRow[]>();
  for (const row of rows) {
    // a run with a context head is another model than its twin: never averaged with it
    const k = JSON.stringify([row.arch, row.trainVariant, row.context ?? null]);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  // The t interval can pass a quantity's bounds with few seeds; it is clipped to them (accuracy [0, 1], gap [-1, 1]).
  const over = (xs: (number | null | undefined)[], min = 0, max = 1): Estimate | null => {
    const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    if (!v.length) return null;
    const e = meanInterval(v);
    return { ...e, lo: Math.max(min, e.lo), hi: Math.min(max, e.hi) };
  };
  return [...groups.values()].map((g) => {
    const accuracy: Record<string, Estimate> = {};
    for (const c of columns) {
      const e = over(g.map((x) => x.accuracy[c]));
      if (e) accuracy[c] = e;
    }
    return {
      arch: g[0]!.arch,
      trainVariant: g[0]!.trainVariant,
      ...(g[0]!.context ? { context: g[0]!.context } : {}),
      seeds: g.map((x) => x.seed),
      accuracy,
      bgGap: over(
        g.map((x) => x.bgGap),
        -1,
        1,
      ),
      challenge: over(g.map((x) => x.challenge?.adversarialAccuracy)),
    };
  });
}

const pct = (x: number | undefined | null) => (x === undefined || x === null ? '' : (100 * x).toFixed(1));
const num = (x: number | undefined | null) => (x === undefined || x === null || !Number.isFinite(x) ? '' : x);

/** "95.6 [94.9, 96.2]" (%), or the value alone without an interval. */
export function pctWithInterval(
  x: number | null | undefined,
  ci: { lo: number; hi: number } | null | undefined,
): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '';
  return ci && Number.isFinite(ci.lo) ? `${pct(x)} [${pct(ci.lo)}, ${pct(ci.hi)}]` : pct(x);
}

/** A p-value as people read it: 2 significant digits, "<0.001" below that. */
export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '';
  return p < 0.001 ? '<0.001' : p.toPrecision(2);
}

/** One line per (run, test column): for spreadsheets and pandas. Intervals are 95%; `n_images` is what they cover. */
export function resultsCsv(r: StudyResults): string {
  const lines = [
    [
      'run_id,model,train_variant,seed,test_variant,accuracy,accuracy_lo,accuracy_hi,n_images',
      'bg_gap,bg_gap_lo,bg_gap_hi,bg_gap_p,bg_gap_foregrounds',
      'challenge_adversarial_accuracy,challenge_lo,challenge_hi,challenge_foregrounds,challenge_pool',
    ].join(','),
  ];
  for (const row of r.rows) {
    const ci = row.accuracyInterval ?? {};
    const g = row.bgGapTest ?? null;
    const ch = row.challenge;
    for (const c of r.columns) {
      lines.push(
        [
          row.runId,
          row.arch,
          JSON.stringify(row.trainVariant),
          row.seed,
          JSON.stringify(c),
          num(row.accuracy[c]),
          num(ci[c]?.lo),
          num(ci[c]?.hi),
          num(ci[c]?.n),
          num(row.bgGap),
          num(g?.lo),
          num(g?.hi),
          num(g?.p),
          num(g?.n),
          num(ch?.adversarialAccuracy),
          num(ch?.interval?.lo),
          num(ch?.interval?.hi),
          num(ch?.foregrounds),
          num(ch?.backgrounds),
        ].join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The challenge cell: adversarial accuracy [Wilson interval], with its foregrounds and pool size. */
export function challengeText(ch: ResultRow['challenge']): string {
  if (!ch) return '';
  return `${pctWithInterval(ch.adversarialAccuracy, ch.interval)} (${ch.foregrounds} fg × ${ch.backgrounds} bg)`;
}

/** The BG-Gap cell: points [paired interval], p. */
export function bgGapText(row: Pick<ResultRow, 'bgGap' | 'bgGapTest'>): string {
  if (row.bgGap === null) return '';
  const t = row.bgGapTest ?? null;
  return t ? `${pctWithInterval(row.bgGap, t)} p=${formatP(t.p)}` : pct(row.bgGap);
}

/** The model cell: the architecture, and its context head when it has one. */
export function modelText(row: { arch: string; context?: { label: string; weight: number } }): string {
  return `${row.arch}${contextSuffix(row.context)}`;
}

/** A difference in percentage points with its interval: "+3.1 [+0.4, +5.9]". */
export function pointsWithInterval(x: number | null, ci: { lo: number; hi: number } | null): string {
  if (x === null || !Number.isFinite(x)) return '';
  const pp = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)}`;
  return ci && Number.isFinite(ci.lo) ? `${pp(x)} [${pp(ci.lo)}, ${pp(ci.hi)}]` : pp(x);
}

/** The slides' "highly correlated class" section: each run with a context head beside its twin without one. */
export function contextMarkdown(r: StudyResults): string[] {
  const pairs = r.contextPairs ?? [];
  if (!pairs.length) return [];
  const head = [
    'model',
    'trained on',
    'context head',
    'seed',
    'BG-Gap with',
    'BG-Gap without',
    'BG-Gap difference',
    'mixed_rand with',
    'mixed_rand without',
    'mixed_rand difference',
  ];
  const lines = [
    '',
    '## Context head (the slides\' "highly correlated class")',
    '',
    'Each model trained with a second head that also predicts a context label (loss = CE(class) + weight × CE(context)), beside its twin trained without it (same data, architecture, seed and schedule); both evaluated with the class head only. In %; differences (with − without) in points, 95% paired bootstrap over the same test images. A lower BG-Gap and a higher mixed_rand accuracy mean less reliance on the background.',
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...pairs.map(
      (p) =>
        `| ${[
          p.arch,
          p.trainVariant,
          `${p.context.label} ×${p.context.weight}`,
          p.seed,
          pctWithInterval(p.bgGap.with, p.bgGap.withInterval),
          pctWithInterval(p.bgGap.without, p.bgGap.withoutInterval),
          pointsWithInterval(p.bgGap.difference, p.bgGap.differenceInterval),
          pctWithInterval(p.mixedRand.with, p.mixedRand.withInterval),
          pctWithInterval(p.mixedRand.without, p.mixedRand.withoutInterval),
          pointsWithInterval(p.mixedRand.difference, p.mixedRand.differenceInterval),
        ].join(' | ')} |`,
    ),
  ];
  const groups = (r.contextPairGroups ?? []).filter((g) => g.seeds.length > 1);
  if (groups.length)
    lines.push(
      '',
      'Over seeds (mean difference, 95% t interval):',
      '',
      ...groups.map(
        (g) =>
          `- ${g.arch} on ${g.trainVariant}, context ${g.context.label} ×${g.context.weight}, seeds ${g.seeds.join(' ')}: BG-Gap ${pointsWithInterval(g.bgGapDifference?.value ?? null, g.bgGapDifference)}, mixed_rand ${pointsWithInterval(g.mixedRandDifference?.value ?? null, g.mixedRandDifference)}`,
      ),
    );
  const mixedEngines = pairs.filter((p) => p.backends && p.backends.with !== p.backends.without);
  if (mixedEngines.length)
    lines.push(
      '',
      `Engines differ in ${mixedEngines.length} of ${pairs.length} pair(s) (with a head: ${mixedEngines[0]!.backends.with}; without: ${mixedEngines[0]!.backends.without}): a context head trains on tfjs, so part of such a difference may be the engine's numerics. Set BGSTUDY_BACKEND=tfjs-node on the workers for pairs on one engine.`,
    );
  if (pairs.some((p) => p.bgGap.difference === null))
    lines.push('', 'A pair without BG-Gap: the study tests no mixed_same and mixed_rand.');
  return lines;
}

/** The Xiao-style table as Markdown (% accuracy with 95% intervals), then the means over seeds. */
export function resultsMarkdown(r: StudyResults): string {
  const head = ['model', 'trained on', 'seed', ...r.columns, 'BG-Gap', 'challenge'];
  const lines = [
    `# ${r.study.title}`,
    '',
    `Study \`${r.study.name}\` (${r.study.studyHash})${r.study.cancelled ? ' — cancelled, partial results' : ''}${r.study.failedRuns?.length ? ` — ${r.study.failedRuns.length} run(s) failed, partial results` : ''}. Accuracy in %, with 95% intervals in brackets.`,
    '',
    ...(r.study.failedRuns?.length
      ? ['## Failed runs', '', ...r.study.failedRuns.map((f) => `- ${f.label} (${f.runId}): ${f.error}`), '']
      : []),
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
  ];
  for (const row of r.rows) {
    lines.push(
      `| ${[modelText(row), row.trainVariant, row.seed, ...r.columns.map((c) => pctWithInterval(row.accuracy[c], row.accuracyInterval?.[c])), bgGapText(row), challengeText(row.challenge)].join(' | ')} |`,
    );
  }
  const groups = (r.seedGroups ?? []).filter((g) => g.seeds.length > 1);
  if (groups.length) {
    const gh = ['model', 'trained on', 'seeds', ...r.columns, 'BG-Gap', 'challenge'];
    lines.push(
      '',
      '## Mean over seeds',
      '',
      `| ${gh.join(' | ')} |`,
      `|${gh.map(() => '---').join('|')}|`,
      ...groups.map(
        (g) =>
          `| ${[modelText(g), g.trainVariant, g.seeds.join(' '), ...r.columns.map((c) => pctWithInterval(g.accuracy[c]?.value, g.accuracy[c])), pctWithInterval(g.bgGap?.value, g.bgGap), pctWithInterval(g.challenge?.value, g.challenge)].join(' | ')} |`,
      ),
    );
  }
  if (r.statistics) {
    const s = r.statistics;
    lines.push(
      '',
      'Intervals: accuracy: ' +
        s.accuracy +
        '. BG-Gap: ' +
        s.bgGap +
        '. Challenge: ' +
        s.challenge +
        '. Over seeds: ' +
        s.seeds +
        '.',
    );
    if (s.missingDetails.length)
      lines.push('', `No per-image results (no interval) in: ${s.missingDetails.join(', ')}`);
  }
  lines.push(...contextMarkdown(r));
  lines.push(...masksMarkdown(r.dataset?.masks));
  lines.push(...leaksMarkdown(r.dataset?.leaks));
  if (r.dataset && r.dataset.skippedCount > 0) {
    lines.push(
      '',
      `Skipped inputs: ${r.dataset.skippedCount}`,
      ...r.dataset.skipped.map((s) => `- ${s.file}: ${s.reason}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

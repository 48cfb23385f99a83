import type { RunSummary } from '../contracts';
import { deriveSeed } from '../data/rng';
import type { PlannedRun } from '../spec/planned-run';
import { bootstrapMean } from '../stats/bootstrap';
import { type Estimate, meanInterval } from '../stats/intervals';
import type { EvalDetails } from './eval-details';
import { type Interval, imageScores } from './row-statistics';

type TrainedRun = Extract<PlannedRun, { kind: 'trained' }>;

/** One number of a run with a context head beside its twin's: each with its 95% interval, and the difference. */
export interface PairedNumber {
  with: number | null;
  withInterval: Interval | null;
  without: number | null;
  withoutInterval: Interval | null;
  /** with − without. */
  difference: number | null;
  /** 95% paired bootstrap over the test images both were scored on (the same test variants). */
  differenceInterval: Interval | null;
}

/**
 * The slides' "highly correlated class" comparison: a run trained with a context head and its twin without one
 * (same data, architecture, seed, epochs and schedule), their BG-Gap and mixed_rand accuracy.
 */
export interface ContextPair {
  arch: string;
  trainVariant: string;
  seed: number;
  context: { label: string; weight: number };
  withRunId: string;
  withoutRunId: string;
  /**
   * What trained each (a head trains on tfjs; its twin on the worker's engine, libtorch by default): when they
   * differ the pair differs in its numerics too, which the report says.
   */
  backends: { with: string; without: string };
  bgGap: PairedNumber;
  mixedRand: PairedNumber;
}

/** Over seeds: the mean difference (with − without) and its t interval, per (model, train variant, context). */
export interface ContextPairGroup {
  arch: string;
  trainVariant: string;
  context: { label: string; weight: number };
  seeds: number[];
  bgGapDifference: Estimate | null;
  mixedRandDifference: Estimate | null;
}

/** What a twin must share: everything that changes a run's result except its context head. */
const twinKey = (r: TrainedRun) =>
  JSON.stringify([r.arch, r.inputSize, r.seed, r.trainVariantId, r.epochs, r.batch, r.optimizer, r.augment]);

/** Per test image: the column's score (its mean over the re-pairings); null without per-image results. */
function perImage(run: RunSummary, column: string, details: EvalDetails): Map<string, number> | null {
  const evaluations = run.tests.find((t) => t.label === column)?.evaluations ?? [];
  if (!evaluations.length) return null;
  const s = imageScores(evaluations, details);
  return s ? new Map([...s].map(([id, v]) => [id, v.correct / v.of])) : null;
}

/** Per test image its BG-Gap contribution: mixed_same − mixed_rand. */
function perImageGap(run: RunSummary, details: EvalDetails): Map<string, number> | null {
  const same = perImage(run, 'mixed_same', details);
  const rand = perImage(run, 'mixed_rand', details);
  if (!same || !rand) return null;
  const out = new Map<string, number>();
  for (const [id, v] of same) {
    const r = rand.get(id);
    if (r !== undefined) out.set(id, v - r);
  }
  return out;
}

function meanOf(m: Map<string, number> | null): number | null {
  if (!m || m.size === 0) return null;
  let s = 0;
  for (const v of m.values()) s += v;
  return s / m.size;
}

function interval(values: number[], seedParts: (string | number)[]): Interval | null {
  if (!values.length) return null;
  const b = bootstrapMean(values, { seed: deriveSeed(...seedParts) });
  return { lo: b.lo, hi: b.hi, n: values.length };
}

/**
 * Each side's mean and bootstrap interval over its images (seeded as the results table seeds that run's number,
 * so both print the same interval), and the paired difference over the images both were scored on.
 */
function paired(
  a: Map<string, number> | null,
  b: Map<string, number> | null,
  seeds: { with: (string | number)[]; without: (string | number)[]; difference: (string | number)[] },
): PairedNumber {
  const d: number[] = [];
  if (a && b) for (const [id, v] of a) if (b.has(id)) d.push(v - b.get(id)!);
  const ma = meanOf(a);
  const mb = meanOf(b);
  return {
    with: ma,
    withInterval: a ? interval([...a.values()], seeds.with) : null,
    without: mb,
    withoutInterval: b ? interval([...b.values()], seeds.without) : null,
    difference: ma !== null && mb !== null ? ma - mb : null,
    differenceInterval: interval(d, seeds.difference),
  };
}

/**
 * Pairs every finished run with a context head with its finished twin without one (plan order), and measures
 * both on the per-image results (`details`): BG-Gap paired over foregrounds, mixed_rand accuracy over images.
 */
export function contextPairs(
  runs: readonly PlannedRun[],
  summaries: readonly RunSummary[],
  details: EvalDetails,
): ContextPair[] {
  const finished = new Map(summaries.map((s) => [s.runId, s]));
  const trained = runs.filter((r): r is TrainedRun => r.kind === 'trained' && finished.has(r.runId));
  const out: ContextPair[] = [];
  for (const r of trained) {
    if (!r.context) continue;
    const twin = trained.find((t) => !t.context && twinKey(t) === twinKey(r));
    if (!twin) continue;
    const a = finished.get(r.runId)!;
    const b = finished.get(twin.runId)!;
    out.push({
      arch: r.arch,
      trainVariant: r.trainLabel,
      seed: r.seed,
      context: { label: r.context.label, weight: r.context.weight },
      withRunId: r.runId,
      withoutRunId: twin.runId,
      backends: { with: a.train.backend, without: b.train.backend },
      // the seeds of row-statistics.ts's bgGapTest and accuracyInterval for these runs
      bgGap: paired(perImageGap(a, details), perImageGap(b, details), {
        with: ['bg-gap', r.runId],
        without: ['bg-gap', twin.runId],
        difference: ['context-bg-gap', r.runId, twin.runId],
      }),
      mixedRand: paired(perImage(a, 'mixed_rand', details), perImage(b, 'mixed_rand', details), {
        with: ['accuracy', r.runId, 'mixed_rand'],
        without: ['accuracy', twin.runId, 'mixed_rand'],
        difference: ['context-mixed-rand', r.runId, twin.runId],
      }),
    });
  }
  return out;
}

/** Pairs of the same (model, train variant, context) over their seeds: mean difference and t interval. */
export function contextPairGroups(pairs: readonly ContextPair[]): ContextPairGroup[] {
  const groups = new Map<string, ContextPair[]>();
  for (const p of pairs) {
    const k = JSON.stringify([p.arch, p.trainVariant, p.context.label, p.context.weight]);
    groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  const over = (xs: (number | null)[]): Estimate | null => {
    const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
    if (!v.length) return null;
    const e = meanInterval(v);
    return { value: e.value, lo: Math.max(-1, e.lo), hi: Math.min(1, e.hi), method: e.method };
  };
  return [...groups.values()].map((g) => ({
    arch: g[0]!.arch,
    trainVariant: g[0]!.trainVariant,
    context: g[0]!.context,
    seeds: g.map((p) => p.seed),
    bgGapDifference: over(g.map((p) => p.bgGap.difference)),
    mixedRandDifference: over(g.map((p) => p.mixedRand.difference)),
  }));
}

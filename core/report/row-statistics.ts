import type { EvaluateOutput, SaliencyOutput } from '../contracts';
import { deriveSeed } from '../data/rng';
import { bootstrapMean, bootstrapStatistic } from '../stats/bootstrap';
import { wilsonInterval } from '../stats/intervals';
import { signFlipTest } from '../stats/paired-test';
import type { EvalDetails } from './eval-details';

/** A 95% interval and the number of items it was computed over. */
export interface Interval {
  lo: number;
  hi: number;
  n: number;
}

/** BG-Gap's uncertainty: paired over foregrounds (the same image on a same-class and a random-class background). */
export interface BgGapTest extends Interval {
  /** Two-sided mid-p of the exact sign-flip test (McNemar's test when each variant has one pairing). */
  p: number;
  /** The conservative exact p beside it. */
  pExact: number;
  /** Foregrounds whose outcome differs between the two backgrounds. */
  discordant: number;
  pairings: { same: number; rand: number };
}

/**
 * Per image id: correct pairings and pairings evaluated (a mixed_* column averages its re-pairings per image).
 * null when any pairing's per-image results are missing.
 */
export function imageScores(
  evaluations: Pick<EvaluateOutput, 'resultKey'>[],
  details: EvalDetails,
): Map<string, { correct: number; of: number }> | null {
  const scores = new Map<string, { correct: number; of: number }>();
  for (const e of evaluations) {
    const d = details.images[e.resultKey];
    if (!d) return null;
    d.ids.forEach((id, i) => {
      const s = scores.get(id) ?? { correct: 0, of: 0 };
      s.correct += d.correct[i]!;
      s.of += 1;
      scores.set(id, s);
    });
  }
  return scores.size ? scores : null;
}

/** 95% percentile bootstrap over test images of a column's accuracy (each image: its mean over pairings). */
export function accuracyInterval(
  evaluations: Pick<EvaluateOutput, 'resultKey'>[],
  details: EvalDetails,
  seedParts: (string | number)[],
): Interval | null {
  const scores = imageScores(evaluations, details);
  if (!scores) return null;
  const values = Float64Array.from(scores.values(), (s) => s.correct / s.of);
  const b = bootstrapMean(values, { seed: deriveSeed('accuracy', ...seedParts) });
  return { lo: b.lo, hi: b.hi, n: values.length };
}

/**
 * BG-Gap with a paired analysis over the foregrounds both columns saw: d_i = acc_same(i) − acc_rand(i), each
 * averaged over that column's re-pairings; a 95% paired bootstrap interval of mean(d) and the exact sign-flip
 * p-value of H0 "the background's class does not matter" (on integer scores R_rand·S_i − R_same·R_i).
 */
export function bgGapTest(
  same: Pick<EvaluateOutput, 'resultKey'>[],
  rand: Pick<EvaluateOutput, 'resultKey'>[],
  details: EvalDetails,
  seedParts: (string | number)[],
): BgGapTest | null {
  const s = imageScores(same, details);
  const r = imageScores(rand, details);
  if (!s || !r) return null;
  const d: number[] = [];
  const scores: number[] = [];
  for (const [id, a] of s) {
    const b = r.get(id);
    if (!b) continue;
    d.push(a.correct / a.of - b.correct / b.of);
    scores.push(b.of * a.correct - a.of * b.correct);
  }
  if (d.length === 0) return null;
  const boot = bootstrapMean(d, { seed: deriveSeed('bg-gap', ...seedParts) });
  const t = signFlipTest(scores);
  return {
    lo: boot.lo,
    hi: boot.hi,
    n: d.length,
    p: t.midP,
    pExact: t.exactP,
    discordant: t.discordant,
    pairings: { same: same.length, rand: rand.length },
  };
}

/** Wilson 95% interval of the challenge's adversarial accuracy over its foregrounds. */
export function challengeInterval(adversarialAccuracy: number, foregrounds: number): Interval {
  const k = Math.round(adversarialAccuracy * foregrounds);
  return { ...wilsonInterval(k, foregrounds), n: foregrounds };
}

/** Saliency share, the mask's area share (chance level), their ratio, and bootstrap intervals over the grid. */
export interface SaliencyNumbers {
  foregroundShare: number;
  /** Mean share of the image the masks cover: what a uniform map would put on the foreground. */
  areaShare: number | null;
  /** foregroundShare / areaShare: > 1 means more saliency on the object than chance. */
  ratio: number | null;
  shareInterval: Interval | null;
  ratioInterval: Interval | null;
}

export function saliencyNumbers(
  s: Pick<SaliencyOutput, 'foregroundShare' | 'areaShare' | 'resultKey'>,
  details: EvalDetails,
  seedParts: (string | number)[],
): SaliencyNumbers {
  const items = details.saliency[s.resultKey];
  const area =
    s.areaShare ?? (items?.length ? items.reduce((a, i) => a + i.maskArea, 0) / items.length : null);
  const ratio = area !== null && area > 0 ? s.foregroundShare / area : null;
  if (!items?.length)
    return {
      foregroundShare: s.foregroundShare,
      areaShare: area,
      ratio,
      shareInterval: null,
      ratioInterval: null,
    };
  const seed = deriveSeed('saliency', ...seedParts);
  const share = bootstrapMean(
    items.map((i) => i.share),
    { seed },
  );
  const ratioBoot = bootstrapStatistic(
    items.length,
    (idx) => {
      let num = 0;
      let den = 0;
      for (let j = 0; j < idx.length; j++) {
        num += items[idx[j]!]!.share;
        den += items[idx[j]!]!.maskArea;
      }
      return den > 0 ? num / den : NaN;
    },
    { seed },
  );
  const n = items.length;
  return {
    foregroundShare: s.foregroundShare,
    areaShare: area,
    ratio,
    shareInterval: { lo: share.lo, hi: share.hi, n },
    ratioInterval: Number.isFinite(ratioBoot.lo) ? { lo: ratioBoot.lo, hi: ratioBoot.hi, n } : null,
  };
}

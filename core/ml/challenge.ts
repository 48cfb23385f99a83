import { z } from 'zod';
import type { Sample, SampleSource } from '../data/sample';
import type { Predict } from './evaluate';
import { checkLabel } from './evaluate';
import { argmaxRow } from './metrics';
import { sampleMask, samplePixels } from './pixels';

const count = z.number().int().min(0);

/**
 * Where the backgrounds challenge stands; small JSON, heartbeated after every foreground and read back, validated,
 * by a retry. Foregrounds are visited in the source's stored order; `fgIdx` is the position of the next one
 * (resume skips to it), `classIdx` the class of the last one computed. A foreground is "vulnerable" when the model
 * misses it on at least one background.
 */
export const challengeCursorSchema = z.object({
  classIdx: count,
  fgIdx: count,
  vulnerable: count,
  computed: count,
  /** Computed foregrounds the model classifies correctly on their own original image. */
  cleanCorrect: count,
  /** Foregrounds of each class taken so far (computed or skipped), for a class-balanced `maxForegrounds`. */
  perClassTaken: z.array(count),
  perClassComputed: z.array(count),
  perClassVulnerable: z.array(count),
  /** Ids of foregrounds skipped because their mask is missing, empty or of the wrong size (reported, never silently dropped). */
  skipped: z.array(z.string()),
});
export type ChallengeCursor = z.infer<typeof challengeCursorSchema>;

/** A cursor of a challenge over `numClasses` classes: the per-class counts must have one entry per class. */
export function challengeCursorFor(numClasses: number): z.ZodType<ChallengeCursor> {
  return challengeCursorSchema.superRefine((c, ctx) => {
    for (const key of ['perClassTaken', 'perClassComputed', 'perClassVulnerable'] as const)
      if (c[key].length !== numClasses)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${c[key].length} classes, the model has ${numClasses}`,
        });
  });
}

export interface ChallengeOptions {
  inputSize: number;
  numClasses: number;
  /** Composites per forward pass. */
  batchSize: number;
  /** Columns of a logits row (default numClasses; see EvalOptions.numScores). */
  numScores?: number;
  /** A sample and its mask as the model sees them; default samplePixels / sampleMask at inputSize. */
  view?: (sample: Sample) => Float32Array;
  viewMask?: (sample: Sample) => Float32Array | undefined;
  /** Continue from a heartbeated cursor. */
  cursor?: ChallengeCursor;
  /** Use only this many foregrounds, balanced over the classes (the first of each in stored order); default all. */
  maxForegrounds?: number;
  /** After every foreground. */
  onProgress?: (cursor: ChallengeCursor) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface ChallengeOutcome {
  /** Share of foregrounds classified correctly on every background: 1 - vulnerable / computed. */
  adversarialAccuracy: number;
  /** Share of the foregrounds classified correctly on their own original image (the clean baseline). */
  cleanAccuracy: number;
  foregrounds: number;
  vulnerable: number;
  backgrounds: number;
  perClass: { class: string; foregrounds: number; vulnerable: number; adversarialAccuracy: number | null }[];
  /** Model evaluations made by this call (stopping at the first miss keeps this far below foregrounds x backgrounds). */
  evaluations: number;
  skipped: string[];
}

/**
 * How many of a class a class-balanced subset of `n` takes: n/K each, the remainder to the first classes. Taking
 * the first ones of each class in stored order keeps the subset deterministic whatever the order's pattern.
 */
export function classQuota(n: number, numClasses: number, label: number): number {
  if (!Number.isFinite(n)) return Infinity;
  return Math.floor(n / numClasses) + (label < n % numClasses ? 1 : 0);
}

/**
 * The background pool at the model's input size (float32 in [0, 1], one image after another): all of the
 * source, or `limit` of it balanced over the classes the backgrounds came from.
 */
export async function loadBackgroundPool(
  source: SampleSource,
  size: number,
  limit = Infinity,
  view: (sample: Sample) => Float32Array = (s) => samplePixels(s, size),
): Promise<{ pixels: Float32Array; count: number }> {
  const n = Math.min(source.count(), limit);
  const k = source.classes.length;
  const pixels = new Float32Array(n * size * size * 3);
  const taken = new Array<number>(k).fill(0);
  let count = 0;
  for await (const s of source.iterate()) {
    if (count >= n) break;
    if (!(taken[s.label]! < classQuota(limit, k, s.label))) continue;
    taken[s.label]!++;
    pixels.set(view(s), count++ * size * size * 3);
  }
  return { pixels: pixels.subarray(0, count * size * size * 3), count };
}

/** bg * (1 - mask) + fg * mask, per pixel, into `out` at `offset` (all HWC float32 at the same size). */
export function composite(
  fg: Float32Array,
  mask: Float32Array,
  bg: Float32Array,
  out: Float32Array,
  offset = 0,
): void {
  for (let p = 0; p < mask.length; p++) {
    const m = mask[p]!;
    for (let c = 0; c < 3; c++) {
      const i = p * 3 + c;
      out[offset + i] = bg[i]! * (1 - m) + fg[i]! * m;
    }
  }
}

export function emptyChallengeCursor(numClasses: number): ChallengeCursor {
  return {
    classIdx: 0,
    fgIdx: 0,
    vulnerable: 0,
    computed: 0,
    cleanCorrect: 0,
    perClassTaken: new Array<number>(numClasses).fill(0),
    perClassComputed: new Array<number>(numClasses).fill(0),
    perClassVulnerable: new Array<number>(numClasses).fill(0),
    skipped: [],
  };
}

/**
 * Xiao et al.'s backgrounds challenge: every foreground of `foregrounds` (masked samples, e.g. original val)
 * is pasted on every background of the pool (their only_bg_t val backgrounds), in batches, stopping at the
 * first background that makes the model miss. Resumable from any heartbeated cursor.
 */
export async function backgroundsChallenge(
  predict: Predict,
  foregrounds: SampleSource,
  pool: { pixels: Float32Array; count: number },
  opts: ChallengeOptions,
): Promise<ChallengeOutcome> {
  const { inputSize: s, numClasses: k, batchSize } = opts;
  const m = opts.numScores ?? k;
  const view = opts.view ?? ((sample: Sample) => samplePixels(sample, s));
  const viewMask = opts.viewMask ?? ((sample: Sample) => sampleMask(sample, s));
  if (pool.count === 0) throw new Error('backgrounds challenge: the background pool is empty');
  const px = s * s * 3;
  const cursor: ChallengeCursor = opts.cursor ? structuredClone(opts.cursor) : emptyChallengeCursor(k);
  const x = new Float32Array(batchSize * px);
  let evaluations = 0;

  const fooled = async (sample: Sample, fg: Float32Array, mask: Float32Array): Promise<boolean> => {
    for (let start = 0; start < pool.count; start += batchSize) {
      const n = Math.min(batchSize, pool.count - start);
      for (let j = 0; j < n; j++)
        composite(fg, mask, pool.pixels.subarray((start + j) * px, (start + j + 1) * px), x, j * px);
      const logits = await predict(x.subarray(0, n * px), n);
      evaluations += n;
      for (let j = 0; j < n; j++) if (argmaxRow(logits, m, j) !== sample.label) return true;
    }
    return false;
  };

  const wanted = opts.maxForegrounds ?? Infinity;
  for await (const sample of foregrounds.iterate({ skip: cursor.fgIdx })) {
    opts.signal?.throwIfAborted();
    checkLabel(sample.label, k, sample.id);
    if (!(cursor.perClassTaken[sample.label]! < classQuota(wanted, k, sample.label))) {
      cursor.fgIdx++;
      continue;
    }
    cursor.perClassTaken[sample.label]!++;
    let mask: Float32Array | undefined;
    try {
      mask = viewMask(sample);
    } catch {
      mask = undefined; // a mask of the wrong size: skipped and reported like a missing one
    }
    if (!mask || !mask.some((v) => v > 0)) {
      cursor.skipped.push(sample.id);
    } else {
      const fg = view(sample);
      const own = await predict(fg, 1);
      evaluations++;
      if (argmaxRow(own, m, 0) === sample.label) cursor.cleanCorrect++;
      const vulnerable = await fooled(sample, fg, mask);
      cursor.computed++;
      cursor.perClassComputed[sample.label]!++;
      if (vulnerable) {
        cursor.vulnerable++;
        cursor.perClassVulnerable[sample.label]!++;
      }
    }
    cursor.classIdx = sample.label;
    cursor.fgIdx++;
    await opts.onProgress?.(structuredClone(cursor));
  }

  const acc = (computed: number, vulnerable: number) => (computed ? 1 - vulnerable / computed : null);
  return {
    adversarialAccuracy: acc(cursor.computed, cursor.vulnerable) ?? 0,
    cleanAccuracy: cursor.computed ? cursor.cleanCorrect / cursor.computed : 0,
    foregrounds: cursor.computed,
    vulnerable: cursor.vulnerable,
    backgrounds: pool.count,
    perClass: foregrounds.classes.map((c, i) => ({
      class: c,
      foregrounds: cursor.perClassComputed[i] ?? 0,
      vulnerable: cursor.perClassVulnerable[i] ?? 0,
      adversarialAccuracy: acc(cursor.perClassComputed[i] ?? 0, cursor.perClassVulnerable[i] ?? 0),
    })),
    evaluations,
    skipped: cursor.skipped,
  };
}

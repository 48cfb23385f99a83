import type { ArtifactStore } from '../../store/artifact-store';
import { getJson, getOrCreateJson } from '../../store/json';
import { hashOf } from '../hash';
import type { DataManifest } from '../data/manifest';
import type { Sample } from '../data/sample';
import { openSampleSource } from '../data/sample-source';
import { onlyBgB, onlyBgT, rawImage } from '../variants/ops';
import {
  FEATURE_GROUPS,
  type FeatureGroup,
  type FeatureVector,
  imageFeatures,
  selectFeatures,
} from './features';
import { wilsonInterval } from './interval';
import { fitKnn, fitLogistic, fitStandardizer } from './learners';

/**
 * The leak check: how much of the class can simple, strong non-CNN learners read from background-only images
 * (only_bg_b, only_bg_t)? On leak-free data (the synthetic generator at p=0 with every factor off) they read
 * chance; above it, the box or the background carries class information (on ImageNet-9: how much the box alone
 * reveals). Train on the train split, score on val, report accuracy with a 95% Wilson interval against chance.
 */
export const LEAK_CHECK_VERSION = 'leaks-1';

export const LEAK_VARIANTS = ['only_bg_b', 'only_bg_t'] as const;
export type LeakVariant = (typeof LEAK_VARIANTS)[number];
export const LEARNERS = ['logistic', 'knn'] as const;
export type Learner = (typeof LEARNERS)[number];

export interface LeakCheckOptions {
  /** At most this many images per class from each split (the first ones in stored order). Default 500. */
  maxPerClass?: number;
  /** Neighbours of the k-NN learner. Default 15. */
  k?: number;
}

export interface LeakRow {
  variant: LeakVariant;
  features: FeatureGroup;
  learner: Learner;
  accuracy: number;
  /** 95% Wilson interval of the accuracy. */
  ci: [number, number];
}

export interface LeakReport {
  version: string;
  classes: string[];
  train: number;
  val: number;
  /** Accuracy of always answering the most frequent val class: the baseline to beat. */
  chance: number;
  /** Standard error of an accuracy at chance on this val set: sqrt(c (1 - c) / n). */
  chanceSe: number;
  rows: LeakRow[];
}

/**
 * Feature groups per variant: the box's geometry is plain to see in only_bg_b; in only_bg_t it shows only
 * through what the pixels give away (seams), so there the learners get pixels' features alone.
 */
function groupsOf(variant: LeakVariant): FeatureGroup[] {
  return variant === 'only_bg_b' ? [...FEATURE_GROUPS, 'all'] : ['profiles', 'stats', 'all'];
}

interface Featurized {
  label: number;
  byVariant: Record<LeakVariant, FeatureVector>;
}

function featurize(s: Sample): Featurized | undefined {
  if (!s.mask || s.label < 0) return undefined;
  const raw = rawImage(s.width, s.height, s.rgb, s.mask);
  return {
    label: s.label,
    byVariant: {
      only_bg_b: imageFeatures(onlyBgB(raw), s.width, s.height, raw.bbox),
      only_bg_t: imageFeatures(onlyBgT(raw), s.width, s.height),
    },
  };
}

async function collect(
  samples: AsyncIterable<Sample> | Iterable<Sample>,
  maxPerClass: number,
  numClasses: number,
): Promise<Featurized[]> {
  const out: Featurized[] = [];
  const taken = new Map<number, number>();
  let full = 0;
  for await (const s of samples) {
    const n = taken.get(s.label) ?? 0;
    if (n >= maxPerClass) continue;
    const f = featurize(s);
    if (!f) continue;
    taken.set(s.label, n + 1);
    out.push(f);
    // every class has its share: the rest of the split would only be skipped (a large one is not read at all)
    if (n + 1 === maxPerClass && ++full === numClasses) break;
  }
  return out;
}

/** The check on two sets of samples (with masks); pure apart from reading the iterables. */
export async function leakCheck(
  train: AsyncIterable<Sample> | Iterable<Sample>,
  val: AsyncIterable<Sample> | Iterable<Sample>,
  classes: string[],
  options: LeakCheckOptions = {},
): Promise<LeakReport> {
  const max = options.maxPerClass ?? 500;
  const K = classes.length;
  const tr = await collect(train, max, K);
  const va = await collect(val, max, K);
  if (tr.length === 0 || va.length === 0)
    throw new Error(`leak check needs masked images in train and val (got ${tr.length} and ${va.length})`);
  const counts = new Array<number>(K).fill(0);
  for (const f of va) counts[f.label]!++;
  const chance = Math.max(...counts) / va.length;
  const rows: LeakRow[] = [];
  for (const variant of LEAK_VARIANTS)
    for (const features of groupsOf(variant)) {
      const xs = tr.map((f) => selectFeatures(f.byVariant[variant], features));
      const std = fitStandardizer(xs);
      const x = xs.map((r) => std.apply(r));
      const y = tr.map((f) => f.label);
      const xv = va.map((f) => std.apply(selectFeatures(f.byVariant[variant], features)));
      const learners: Record<Learner, () => (q: Float64Array) => number> = {
        logistic: () => fitLogistic(x, y, K),
        knn: () => fitKnn(x, y, K, options.k ?? 15),
      };
      for (const learner of LEARNERS) {
        // let the event loop breathe between fits: an activity's heartbeats go out meanwhile
        await new Promise((resolve) => setImmediate(resolve));
        const predict = learners[learner]();
        const correct = xv.reduce((n, q, i) => n + (predict(q) === va[i]!.label ? 1 : 0), 0);
        rows.push({
          variant,
          features,
          learner,
          accuracy: correct / va.length,
          ci: wilsonInterval(correct, va.length),
        });
      }
    }
  return {
    version: LEAK_CHECK_VERSION,
    classes,
    train: tr.length,
    val: va.length,
    chance,
    chanceSe: Math.sqrt((chance * (1 - chance)) / va.length),
    rows,
  };
}

/** Where a dataset's leak check is stored: content-addressed by dataset, code version and options. */
export function leakReportKey(datasetHash: string, options: LeakCheckOptions = {}): string {
  const o = { maxPerClass: options.maxPerClass ?? 500, k: options.k ?? 15 };
  return `leaks/${datasetHash}/${hashOf({ code: LEAK_CHECK_VERSION, options: o })}.json`;
}

/** The check on a dataset manifest in the store (train -> val), computed once and stored next to it. */
export async function checkLeaks(
  store: ArtifactStore,
  manifestKey: string,
  options: LeakCheckOptions = {},
): Promise<{ key: string; report: LeakReport; reused: boolean }> {
  const manifest = await getJson<DataManifest>(store, manifestKey);
  if (!manifest.splits.train || !manifest.splits.val)
    throw new Error(`${manifestKey}: the leak check needs a train and a val split`);
  const key = leakReportKey(manifest.hash, options);
  const { value, reused } = await getOrCreateJson(store, key, async () => {
    // read once in stored order: streamed sample by sample (a cache of 0 bytes), so memory is one sample
    const train = await openSampleSource(store, manifestKey, 'train', { cacheBytes: 0 });
    const val = await openSampleSource(store, manifestKey, 'val', { cacheBytes: 0 });
    return leakCheck(train.iterate(), val.iterate(), manifest.classes, options);
  });
  return { key, report: value, reused };
}

/** One line per row: `only_bg_b all logistic 0.112 [0.092, 0.134] (chance 0.111 ± 0.010 SE)`. */
export function formatLeakReport(r: LeakReport): string[] {
  const f = (v: number) => v.toFixed(3);
  return [
    `leak check (${r.version}): train ${r.train}, val ${r.val}, chance ${f(r.chance)} (SE ${f(r.chanceSe)})`,
    ...r.rows.map(
      (row) =>
        `  ${row.variant.padEnd(9)} ${row.features.padEnd(8)} ${row.learner.padEnd(8)} ${f(row.accuracy)} [${f(row.ci[0])}, ${f(row.ci[1])}]${row.ci[0] > r.chance ? '  above chance' : ''}`,
    ),
  ];
}

import { findVariant, type VariantName, VARIANTS, type VariantSection } from '../variants/registry';
import { type VariantSpec, XIAO_VARIANTS as XIAO } from '../variants/variant-spec';
import type { ResultRow, StudyResults } from './results';

/** A report section; `trainedOnly`: it shows its variants only where a run was trained on them. */
type Section = VariantSection & { trainedOnly?: boolean };

export type ExperimentFactor = keyof typeof GROUPS | VariantName;

/** Sections shared by several variants, before the sections of single variants (core/variants/registry.ts). */
const GROUPS = {
  xiao: {
    title: 'Background correlation (Xiao et al. variants)',
    claim:
      'Xiao et al.: models trained on Original lose accuracy when the background is swapped (BG-Gap = mixed_same − mixed_rand: 5.8–14.2 points on IN-9); a model trained on mixed_rand has almost none (0.2).',
    crossTrained: true,
  },
  // segmented vs original is about training: it needs a run trained on only_fg
  segmented: {
    title: 'Segmented (only_fg) vs original training',
    claim: 'Slides: training on segmented images (only_fg) beat training on originals (+3% on 11 classes).',
    crossTrained: true,
    trainedOnly: true,
  },
} satisfies Record<string, Section>;

const SECTIONS = new Map<ExperimentFactor, Section>([
  ['xiao', GROUPS.xiao],
  ['segmented', GROUPS.segmented],
  ...VARIANTS.flatMap((v) => (typeof v.report === 'object' ? [[v.name, v.report] as const] : [])),
]);

/** The slides' factors (and Xiao's background-correlation variants), each a section of the report. */
export const EXPERIMENT_FACTORS = [...SECTIONS.keys()];

/** The section a variant's instances appear in, if any. */
function sectionOf(name: string): ExperimentFactor | undefined {
  const v = findVariant(name);
  if (!v || v.report === 'baseline') return undefined;
  return typeof v.report === 'object' ? v.name : v.report;
}

/** One bar or line point: a series' accuracy on one test column (mean over seeds). */
export interface AccuracyPoint {
  series: string;
  /** Test column label. */
  x: string;
  /** The swept parameter's value, for sweeps. */
  xValue: number | null;
  accuracy: number;
}

export interface ExperimentSection {
  factor: ExperimentFactor;
  title: string;
  /** What the paper or the slides reported, to read our numbers against. */
  claim: string;
  /** This factor's variant labels, in axis order. */
  variants: string[];
  /** Set for numeric sweeps (x axis is the parameter). */
  sweep: { param: string; axisTitle: string } | null;
  points: AccuracyPoint[];
  /** Horizontal reference lines (e.g. only_fg and original around the bg_reduced sweep). */
  bounds: { label: string; accuracy: number }[];
  /** Runs whose training curves are compared (original-trained first; the first seed of each). */
  curveRunIds: string[];
}

/** The upstream backgrounds_challenge variants (Xiao et al. Table 2's columns), in the paper's order. */
export const XIAO_VARIANTS: readonly string[] = XIAO;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Mean accuracy over seeds of (arch trained on trainVariant) on a test column; undefined when not measured. */
export function meanAccuracy(
  rows: ResultRow[],
  arch: string,
  trainVariant: string,
  column: string,
): number | undefined {
  const xs = rows
    .filter((r) => r.arch === arch && r.trainVariant === trainVariant)
    .map((r) => r.accuracy[column])
    .filter((x): x is number => x !== undefined && Number.isFinite(x));
  return xs.length ? mean(xs) : undefined;
}

/** A variant's position on its section's axis: the variant's own order, else the upstream folders'. */
function orderOf(spec: VariantSpec, label: string): number {
  const order = findVariant(spec.name)?.order;
  return order ? order(spec) : XIAO_VARIANTS.indexOf(label);
}

/** Every variant the study touched (generated, tested or trained on: all are in `variants`), by label. */
function studyVariants(r: StudyResults): Map<string, VariantSpec> {
  return new Map(r.variants.map((v) => [v.label, v.spec]));
}

function labelsOf(r: StudyResults, factor: ExperimentFactor): string[] {
  const hits = [...studyVariants(r)].filter(
    ([l, spec]) =>
      sectionOf(spec.name) === factor &&
      (!SECTIONS.get(factor)?.trainedOnly || r.rows.some((x) => x.trainVariant === l)),
  );
  return hits.sort(([a, x], [b, y]) => orderOf(x, a) - orderOf(y, b)).map(([l]) => l);
}

/**
 * The report's experiment sections: one per factor the study has variants of, with the accuracy points to plot
 * (for each architecture: trained on original and trained on the variant itself, each tested on the variant),
 * reference lines and the runs whose curves to compare. Pure; the order is EXPERIMENT_FACTORS'.
 */
export function selectExperiments(r: StudyResults): ExperimentSection[] {
  const archs = [...new Set(r.rows.map((x) => x.arch))];
  const named = (arch: string, what: string) => (archs.length > 1 ? `${arch} ${what}` : what);
  const sections: ExperimentSection[] = [];
  const specs = studyVariants(r);
  for (const factor of EXPERIMENT_FACTORS) {
    const variants = labelsOf(r, factor);
    if (variants.length === 0) continue;
    const section = SECTIONS.get(factor)!;
    const points: AccuracyPoint[] = [];
    const bounds: ExperimentSection['bounds'] = [];
    const sweep = findVariant(factor)?.sweep;
    for (const arch of archs) {
      if (section.crossTrained) {
        const xs = ['original', ...variants].filter((c) => r.columns.includes(c));
        const trainedOn = ['original', ...variants].filter((t) =>
          r.rows.some((x) => x.arch === arch && x.trainVariant === t),
        );
        for (const t of trainedOn)
          for (const x of xs) {
            const a = meanAccuracy(r.rows, arch, t, x);
            if (a !== undefined)
              points.push({ series: named(arch, `trained on ${t}`), x, xValue: null, accuracy: a });
          }
      } else {
        for (const x of variants) {
          const xValue = sweep ? Number((specs.get(x) as Record<string, unknown>)[sweep.param]) : null;
          const onOriginal = meanAccuracy(r.rows, arch, 'original', x);
          if (onOriginal !== undefined)
            points.push({ series: named(arch, 'trained on original'), x, xValue, accuracy: onOriginal });
          const matched = meanAccuracy(r.rows, arch, x, x);
          if (matched !== undefined)
            points.push({ series: named(arch, 'trained on the variant'), x, xValue, accuracy: matched });
        }
        const bound = (label: string, train: string) => {
          const a = meanAccuracy(r.rows, arch, train, train);
          if (a !== undefined) bounds.push({ label: named(arch, label), accuracy: a });
        };
        for (const b of section.bounds ?? [{ label: 'trained & tested on original', train: 'original' }])
          bound(b.label, b.train);
      }
    }
    const trained = new Set(['original', ...variants]);
    // one seed per (model, train variant): the first in study order (more would only overlay near-copies)
    const firstSeed = (x: ResultRow) =>
      r.rows.find((y) => y.arch === x.arch && y.trainVariant === x.trainVariant && y.curves.length > 0) === x;
    const curveRunIds = [
      ...r.rows.filter((x) => x.trainVariant === 'original'),
      ...r.rows.filter((x) => x.trainVariant !== 'original' && trained.has(x.trainVariant)),
    ]
      .filter((x) => x.curves.length > 0 && firstSeed(x))
      .map((x) => x.runId);
    sections.push({
      factor,
      title: section.title,
      claim: section.claim,
      variants,
      sweep: sweep ?? null,
      points,
      bounds,
      curveRunIds,
    });
  }
  return sections;
}

import { PALETTE, XIAO_VARIANTS as XIAO } from '../variants/variant-spec';
import type { ResultRow, StudyResults } from './results';
import { parseVariantLabel } from './variant-label';

/** The slides' factors (and Xiao's background-correlation variants), each a section of the report. */
export const EXPERIMENT_FACTORS = [
  'xiao',
  'segmented',
  'bg_color',
  'bg_blur',
  'bg_reduced',
  'fg_mask_quality',
  'generic_bg',
] as const;
export type ExperimentFactor = (typeof EXPERIMENT_FACTORS)[number];

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

const INFO: Record<ExperimentFactor, { title: string; claim: string; sweep?: [string, string] }> = {
  xiao: {
    title: 'Background correlation (Xiao et al. variants)',
    claim:
      'Xiao et al.: models trained on Original lose accuracy when the background is swapped (BG-Gap = mixed_same − mixed_rand: 5.8–14.2 points on IN-9); a model trained on mixed_rand has almost none (0.2).',
  },
  segmented: {
    title: 'Segmented (only_fg) vs original training',
    claim: 'Slides: training on segmented images (only_fg) beat training on originals (+3% on 11 classes).',
  },
  bg_color: {
    title: 'Solid background colour',
    claim: 'Slides: solid-colour backgrounds help when they raise the contrast at the object edge.',
  },
  bg_blur: {
    title: 'Background blur sweep',
    claim: 'Slides: blurred backgrounds help when blurring raises the object’s edge contrast.',
    sweep: ['sigma', 'blur sigma (px)'],
  },
  bg_reduced: {
    title: 'Reduced background sweep',
    claim:
      'Slides: accuracy with a reduced background lies between only_fg (upper bound) and original (lower bound).',
    sweep: ['r', 'kept background radius r (fraction of side, or px)'],
  },
  fg_mask_quality: {
    title: 'Foreground mask quality',
    claim:
      'Does better segmentation give better accuracy? only_fg with eroded, dilated, GrabCut or box masks (mask IoU: the Masks section).',
  },
  generic_bg: {
    title: 'Generic backgrounds',
    claim:
      'Slides: pasting objects onto class-independent scenes (non-target context removed) cost 20–25% accuracy (EfficientNet-B0, 4 classes).',
  },
};

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

const paletteOrder = Object.keys(PALETTE);

function orderOf(factor: ExperimentFactor, label: string): number {
  const { params } = parseVariantLabel(label);
  if (factor === 'bg_blur') return Number(params.sigma);
  if (factor === 'bg_reduced') return Number(params.r);
  if (factor === 'bg_color') {
    const c = String(params.color);
    return c === 'contrast' ? -2 : c === 'match' ? -1 : paletteOrder.indexOf(c);
  }
  if (factor === 'fg_mask_quality') {
    // from the tightest mask to the loosest: erode k (large first), dilate k, then the bounding box
    const k = Number(params.k ?? 0);
    return params.op === 'erode' ? -k : params.op === 'dilate' ? k : params.op === 'grabcut' ? 1e5 : 1e6;
  }
  return XIAO_VARIANTS.indexOf(label);
}

/** Every variant label a study touched (generated, tested or trained on). */
function studyLabels(r: StudyResults): string[] {
  const all = [...r.variants.map((v) => v.label), ...r.columns, ...r.rows.map((x) => x.trainVariant)];
  return [...new Set(all)];
}

function labelsOf(r: StudyResults, factor: ExperimentFactor): string[] {
  const labels = studyLabels(r);
  let hits: string[];
  if (factor === 'xiao')
    hits = labels.filter((l) => XIAO_VARIANTS.includes(l) && l !== 'original' && l !== 'only_fg');
  // segmented vs original is about training: it needs a run trained on only_fg
  else if (factor === 'segmented') hits = r.rows.some((x) => x.trainVariant === 'only_fg') ? ['only_fg'] : [];
  else hits = labels.filter((l) => parseVariantLabel(l).name === factor);
  return hits.sort((a, b) => orderOf(factor, a) - orderOf(factor, b));
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
  for (const factor of EXPERIMENT_FACTORS) {
    const variants = labelsOf(r, factor);
    if (variants.length === 0) continue;
    // xiao, segmented and generic_bg compare training variants on the original column and theirs
    const crossTrained = factor === 'xiao' || factor === 'segmented' || factor === 'generic_bg';
    const points: AccuracyPoint[] = [];
    const bounds: ExperimentSection['bounds'] = [];
    const sweep = INFO[factor].sweep;
    for (const arch of archs) {
      if (crossTrained) {
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
          const xValue = sweep ? Number(parseVariantLabel(x).params[sweep[0]]) : null;
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
        if (factor === 'bg_reduced') {
          bound('trained & tested on only_fg (upper bound)', 'only_fg');
          bound('trained & tested on original (lower bound)', 'original');
        } else if (factor === 'fg_mask_quality') bound('trained & tested on only_fg (exact mask)', 'only_fg');
        else bound('trained & tested on original', 'original');
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
      title: INFO[factor].title,
      claim: INFO[factor].claim,
      variants,
      sweep: sweep ? { param: sweep[0], axisTitle: sweep[1] } : null,
      points,
      bounds,
      curveRunIds,
    });
  }
  return sections;
}

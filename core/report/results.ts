import type { EpochMetrics, RunSummary } from '../../common/contracts';
import type { PreparedDataset } from '../data/prepare';
import type { StudyPlan } from '../spec/plan';
import { masksMarkdown } from './mask-section';

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
  /** acc(mixed_same) - acc(mixed_rand), when both were tested. */
  bgGap: number | null;
  challenge: {
    adversarialAccuracy: number;
    cleanAccuracy: number;
    foregrounds: number;
    backgrounds: number;
  } | null;
  curves: EpochMetrics[];
  /** Test column -> per-class accuracy and confusion (of its first pairing). */
  perClass: Record<string, number[]>;
  confusion: Record<string, number[][]>;
  saliency: { label: string; foregroundShare: number; gridKey: string }[];
  backend: string;
  modelKey: string;
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
  };
  dataset: Pick<
    PreparedDataset,
    'manifestKey' | 'datasetHash' | 'classes' | 'counts' | 'skippedCount' | 'skipped' | 'masks'
  > | null;
  source: StudyPlan['dataset'];
  columns: string[];
  rows: ResultRow[];
  variants: { id: string; label: string; manifestKey: string | null }[];
  compareWithPaper: boolean;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Builds results.json from the plan and the finished runs (pure). */
export function buildResults(input: {
  plan: StudyPlan;
  specKey: string;
  dataset: PreparedDataset | null;
  variantKeys: Record<string, string>;
  runs: RunSummary[];
  cancelled: boolean;
}): StudyResults {
  const { plan } = input;
  const columns = plan.tests.map((t) => t.label);
  const rows: ResultRow[] = input.runs.map((r) => {
    const planned = plan.runs.find((p) => p.runId === r.runId);
    const accuracy: Record<string, number> = {};
    const perClass: Record<string, number[]> = {};
    const confusion: Record<string, number[][]> = {};
    for (const t of r.tests) {
      accuracy[t.label] = mean(t.evaluations.map((e) => e.accuracy));
      if (t.evaluations[0]) {
        perClass[t.label] = t.evaluations[0].perClassAccuracy;
        confusion[t.label] = t.evaluations[0].confusion;
      }
    }
    const same = accuracy.mixed_same;
    const rand = accuracy.mixed_rand;
    return {
      runId: r.runId,
      label: r.label,
      arch: planned?.arch ?? '?',
      trainVariant: planned?.trainLabel ?? '?',
      seed: planned?.seed ?? 0,
      inputSize: planned?.inputSize ?? 0,
      epochs: planned?.epochs ?? 0,
      accuracy,
      bgGap: same !== undefined && rand !== undefined ? same - rand : null,
      challenge: r.challenge
        ? {
            adversarialAccuracy: r.challenge.adversarialAccuracy,
            cleanAccuracy: r.challenge.cleanAccuracy,
            foregrounds: r.challenge.foregrounds,
            backgrounds: r.challenge.backgrounds,
          }
        : null,
      curves: r.train.curves,
      perClass,
      confusion,
      saliency: r.saliency.map((s) => ({
        label: plan.variants.find((v) => v.id === s.variantId)?.label ?? s.variantId,
        foregroundShare: s.foregroundShare,
        gridKey: s.gridKey,
      })),
      backend: r.train.backend,
      modelKey: r.train.modelKey,
    };
  });
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
        }
      : null,
    source: plan.dataset,
    columns,
    rows,
    variants: plan.variants.map((v) => ({
      id: v.id,
      label: v.label,
      manifestKey: input.variantKeys[v.id] ?? null,
    })),
    compareWithPaper: plan.compareWithPaper,
  };
}

const pct = (x: number | undefined | null) => (x === undefined || x === null ? '' : (100 * x).toFixed(1));

/** One line per (run, test column): for spreadsheets and pandas. */
export function resultsCsv(r: StudyResults): string {
  const lines = [
    'run_id,model,train_variant,seed,test_variant,accuracy,bg_gap,challenge_adversarial_accuracy',
  ];
  for (const row of r.rows) {
    for (const c of r.columns) {
      lines.push(
        [
          row.runId,
          row.arch,
          JSON.stringify(row.trainVariant),
          row.seed,
          JSON.stringify(c),
          row.accuracy[c] ?? '',
          row.bgGap ?? '',
          row.challenge?.adversarialAccuracy ?? '',
        ].join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The Xiao-style table as Markdown (% accuracy). */
export function resultsMarkdown(r: StudyResults): string {
  const head = ['model', 'trained on', 'seed', ...r.columns, 'BG-Gap', 'challenge'];
  const lines = [
    `# ${r.study.title}`,
    '',
    `Study \`${r.study.name}\` (${r.study.studyHash})${r.study.cancelled ? ' — cancelled, partial results' : ''}. Accuracy in %.`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
  ];
  for (const row of r.rows) {
    lines.push(
      `| ${[row.arch, row.trainVariant, row.seed, ...r.columns.map((c) => pct(row.accuracy[c])), pct(row.bgGap), pct(row.challenge?.adversarialAccuracy)].join(' | ')} |`,
    );
  }
  lines.push(...masksMarkdown(r.dataset?.masks));
  if (r.dataset && r.dataset.skippedCount > 0) {
    lines.push(
      '',
      `Skipped inputs: ${r.dataset.skippedCount}`,
      ...r.dataset.skipped.map((s) => `- ${s.file}: ${s.reason}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

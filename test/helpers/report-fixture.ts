/**
 * TEST INPUT for report tests: a small study whose dataset and variants are real (prepared and materialized into
 * the given store, so sample images are read back through openSampleSource), but whose training and evaluation
 * outputs are CONSTRUCTED RunSummary objects with plausible made-up numbers (no model is trained). The numbers
 * follow a fixed recipe so tests can recompute what the report must show from results.json.
 */
import sharp from 'sharp';
import type { EpochMetrics } from '../../core/contracts';
import { prepareDataset, type PreparedDataset } from '../../core/data/prepare';
import { buildResults, type StudyResults } from '../../core/report/results';
import { planStudy, type StudyPlan } from '../../core/spec/plan';
import { modelNameOf, trainedOnOf } from '../../core/spec/planned-run';
import { parseStudySpec } from '../../core/spec/study-spec';
import { materializeVariant } from '../../core/variants/materialize';
import type { ArtifactStore } from '../../store/artifact-store';
import type { RunSummary } from '../../workflows/run-workflow';

export const FIXTURE_SPEC = {
  version: 1,
  name: 'report-fixture',
  description: 'Report test input: real tiny synthetic data, constructed run results',
  dataset: {
    source: 'synthetic',
    classes: 4,
    perClass: { train: 6, val: 4 },
    size: 24,
    bgCorrelation: 0.9,
    seed: 5,
    genericCount: 6,
  },
  variants: [
    'original',
    'only_bg_t',
    'only_fg',
    'mixed_same',
    'mixed_rand',
    { name: 'bg_color', color: ['contrast', 'gray'] },
    { name: 'bg_blur', sigma: [1, 4] },
    { name: 'bg_reduced', r: [0.1, 0.3] },
    { name: 'fg_mask_quality', op: 'erode', k: 1 },
    'generic_bg',
  ],
  train: [
    { model: 'resnet50', on: ['original', 'mixed_rand'], epochs: 3, batch: 8, seed: 1 },
    {
      model: 'small_cnn',
      on: ['original', 'only_fg', 'bg_blur', 'bg_reduced', 'generic_bg'],
      epochs: 3,
      batch: 8,
      seed: 1,
    },
  ],
  evaluate: {
    on: 'all',
    pairingRepeats: 1,
    challenge: { backgrounds: 4, foregrounds: 4 },
    saliency: { samples: 4 },
  },
  report: { compareWithPaper: true },
};

/** Deterministic pseudo-random in [0, 1) from a string (made-up numbers must be reproducible). */
function noise(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return ((h >>> 0) % 10_000) / 10_000;
}

/** The made-up accuracy of a model trained on `train`, tested on `test`. */
function fakeAccuracy(arch: string, train: string, test: string): number {
  const base = arch === 'resnet50' ? 0.93 : 0.85;
  const drop: Record<string, number> = {
    original: 0,
    only_fg: 0.05,
    mixed_same: 0.08,
    mixed_rand: 0.18,
    only_bg_t: 0.5,
    generic_bg: 0.2,
  };
  const d = train === 'mixed_rand' && test.startsWith('mixed') ? 0.02 : (drop[test] ?? 0.1);
  return Math.max(0.05, Math.min(0.99, base - d + 0.06 * (noise(`${arch}${train}${test}`) - 0.5)));
}

function fakeCurves(runId: string, epochs: number): EpochMetrics[] {
  return Array.from({ length: epochs }, (_, e) => {
    const t = (e + 1) / epochs;
    const j = 0.03 * noise(`${runId}${e}`);
    return {
      epoch: e + 1,
      trainLoss: 1.4 - 1.0 * t + j,
      trainAcc: 0.35 + 0.55 * t - j,
      valLoss: 1.5 - 0.8 * t + j,
      valAcc: 0.3 + 0.5 * t - j,
    };
  });
}

/** A confusion matrix with `n` images per class whose diagonal gives (about) the accuracy. */
function fakeConfusion(k: number, n: number, acc: number): number[][] {
  return Array.from({ length: k }, (_, t) => {
    const right = Math.round(n * acc);
    const row = Array.from({ length: k }, () => 0);
    row[t] = right;
    row[(t + 1) % k]! += n - right;
    return row;
  });
}

async function fakeSaliencyPng(store: ArtifactStore, key: string, seed: number): Promise<void> {
  const w = 96;
  const h = 48;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = Math.round(255 * Math.exp(-(((x % 48) - 24 - seed) ** 2) / 80 - (y - 24) ** 2 / 80));
      px.set([v, v >> 1, 255 - v], 3 * (y * w + x));
    }
  await store.put(
    key,
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

/** CONSTRUCTED run results for every planned run (made-up numbers by a fixed recipe; no training). */
export function constructRunSummaries(plan: StudyPlan, k: number): RunSummary[] {
  const runs: RunSummary[] = [];
  for (const run of plan.runs) {
    const tests = plan.tests.map((t) => {
      const evaluations = t.variantIds.map((variantId) => {
        const accuracy = fakeAccuracy(modelNameOf(run), trainedOnOf(run), t.label);
        const confusion = fakeConfusion(k, 4, accuracy);
        return {
          variantId,
          n: 4 * k,
          accuracy,
          perClassAccuracy: confusion.map((row, c) => row[c]! / 4),
          confusion,
          resultKey: `test-input/evals/${run.runId}/${variantId}.json`,
        };
      });
      return { label: t.label, accuracy: evaluations[0]!.accuracy, evaluations };
    });
    const saliency = [];
    for (const [j, t] of plan.tests.slice(0, 3).entries()) {
      const gridKey = `test-input/saliency/${run.runId}/${j}.png`;
      saliency.push({
        variantId: t.variantIds[0]!,
        foregroundShare: 0.3 + 0.5 * noise(gridKey),
        gridKey,
        resultKey: `${gridKey}.json`,
      });
    }
    // foregrounds misclassified on some background, of the 4
    const vulnerable = 2 + Math.round(2 * noise(`${run.runId}c`));
    runs.push({
      runId: run.runId,
      label: run.label,
      train: {
        runId: run.runId,
        modelKey: `test-input/models/${run.runId}`,
        curves: fakeCurves(run.runId, run.kind === 'pretrained' ? 0 : run.epochs),
        backend: 'test input (no training)',
        resumedFrom: null,
        batchesTrainedThisAttempt: 0,
        batchesTotal: 0,
        reused: false,
      },
      tests,
      challenge: {
        foregrounds: 4,
        backgrounds: 4,
        adversarialAccuracy: (4 - vulnerable) / 4,
        cleanAccuracy: fakeAccuracy(modelNameOf(run), trainedOnOf(run), 'original'),
        resultKey: `test-input/challenge/${run.runId}.json`,
      },
      saliency,
    });
  }
  return runs;
}

export interface ReportFixture {
  plan: StudyPlan;
  dataset: PreparedDataset;
  variantKeys: Record<string, string>;
  runs: RunSummary[];
  results: StudyResults;
}

/** Prepares the fixture's real data in `store` and builds results.json from constructed run summaries. */
export async function buildReportFixture(store: ArtifactStore): Promise<ReportFixture> {
  const spec = parseStudySpec(FIXTURE_SPEC);
  const plan = planStudy(spec);
  const dataset = await prepareDataset(store, spec.dataset);
  const variantKeys: Record<string, string> = {};
  for (const v of plan.variants) {
    const made = await materializeVariant(store, {
      datasetManifestKey: dataset.manifestKey,
      variant: v.spec,
      seed: v.seed,
    });
    variantKeys[v.id] = made.manifestKey;
  }
  const runs = constructRunSummaries(plan, dataset.classes.length);
  for (const [i, run] of runs.entries())
    for (const [j, sal] of run.saliency.entries()) await fakeSaliencyPng(store, sal.gridKey, (i + j) % 8);
  const results = buildResults({
    plan,
    specKey: `studies/${plan.studyHash}/spec.json`,
    dataset,
    variantKeys,
    runs,
    cancelled: false,
  });
  return { plan, dataset, variantKeys, runs, results };
}

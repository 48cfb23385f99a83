import { SpecValidationError } from '../../common/errors';
import type { SourceSpec } from '../data/source-spec';
import { hashOf } from '../hash';
import { toPretrainedInput } from '../ml/pretrained-spec';
import type { FinetuneSettings } from '../ml/finetune-spec';
import { usesPairing, variantLabel, variantSpecSchema, type VariantSpec } from '../variants/variant-spec';
import { MAX_STUDY_HISTORY_EVENTS, studyHistoryEvents } from './history-limits';
import type { PlannedRun } from './planned-run';
import { contextProblems, contextSuffix } from './context-plan';
import { formatIssues, type StudySpec } from './study-spec';

export type { PlannedRun } from './planned-run';

/** One variant to generate: a concrete spec and, for paired variants, the pairing seed. */
export interface PlannedVariant {
  /** Unique in the plan: the label, plus `#seed` for paired variants. */
  id: string;
  /** e.g. `bg_blur(sigma=2)`; the column name in reports. */
  label: string;
  spec: VariantSpec;
  seed: number;
}

/** A report column: a test variant, evaluated on each of its pairings and averaged. */
export interface PlannedTest {
  label: string;
  variantIds: string[];
}

export interface StudyPlan {
  studyHash: string;
  name: string;
  title: string;
  dataset: SourceSpec;
  variants: PlannedVariant[];
  runs: PlannedRun[];
  tests: PlannedTest[];
  challenge: false | { backgrounds: number; foregrounds: number; backgroundVariantId: string };
  saliency: false | { samples: number; method?: 'smoothgrad' | 'gradient' };
  compareWithPaper: boolean;
  execution: StudySpec['execution'];
}

/** Expands `{ name, p: [a, b], q: c }` into one object per combination of list values. */
function expandSweep(entry: StudySpec['variants'][number]): unknown[] {
  if (typeof entry === 'string') return [entry];
  let combos: Record<string, unknown>[] = [{}];
  for (const [k, v] of Object.entries(entry)) {
    const values = Array.isArray(v) ? v : [v];
    combos = combos.flatMap((c) => values.map((x) => ({ ...c, [k]: x })));
  }
  return combos;
}

function datasetSize(dataset: SourceSpec): number {
  return 'size' in dataset && typeof dataset.size === 'number' ? dataset.size : 224;
}

/**
 * Turns a validated spec into the concrete work of a study: every variant instance, every training run and
 * every test column. Pure and deterministic; the workflow receives it from the registerStudy activity.
 */
export function planStudy(spec: StudySpec, studyHash = hashOf(spec)): StudyPlan {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const byLabel = new Map<string, VariantSpec>();
  spec.variants.forEach((entry, i) => {
    for (const raw of expandSweep(entry)) {
      const parsed = variantSpecSchema.safeParse(raw);
      if (!parsed.success) {
        for (const issue of parsed.error.issues)
          problems.push({ path: ['variants', i, ...issue.path.map(String)], message: issue.message });
        continue;
      }
      byLabel.set(variantLabel(parsed.data), parsed.data);
    }
  });
  // The challenge needs masked foregrounds (original) and a background pool (only_bg_t): a study that asks for it
  // gets both rather than silently no challenge.
  if (spec.evaluate.challenge)
    for (const name of ['original', 'only_bg_t'] as const)
      if (![...byLabel.values()].some((v) => v.name === name)) byLabel.set(name, { name });

  const labels = [...byLabel.keys()];
  const select = (names: string[], path: (string | number)[]): string[] => {
    const out: string[] = [];
    names.forEach((n, j) => {
      const hits = labels.filter((l) => l === n || byLabel.get(l)!.name === n);
      if (hits.length === 0)
        problems.push({
          path: [...path, j],
          message: `"${n}" is not among the variants (${labels.join(', ')})`,
        });
      for (const h of hits) if (!out.includes(h)) out.push(h);
    });
    return out;
  };

  const variants: PlannedVariant[] = [];
  const addVariant = (label: string, seed: number): string => {
    const spec1 = byLabel.get(label)!;
    const paired = usesPairing(spec1.name);
    const id = paired ? `${label}#${seed}` : label;
    if (!variants.some((v) => v.id === id))
      variants.push({ id, label, spec: spec1, seed: paired ? seed : 0 });
    return id;
  };

  const runs: PlannedRun[] = [];
  // A set beside the list: a study of thousands of runs is planned in linear time.
  const runIds = new Set<string>();
  spec.train.forEach((t, i) => {
    for (const trainLabel of select(t.on, ['train', i, 'on'])) {
      if (t.context) {
        const found = contextProblems(t.context, spec.dataset, {
          label: trainLabel,
          name: byLabel.get(trainLabel)!.name,
        });
        for (const p of found) problems.push({ path: ['train', i, ...p.path], message: p.message });
      }
      for (const seed of Array.isArray(t.seed) ? t.seed : [t.seed]) {
        const trainVariantId = addVariant(trainLabel, spec.pairingSeed);
        const body = {
          arch: t.model,
          inputSize: t.inputSize ?? datasetSize(spec.dataset),
          seed,
          trainVariantId,
          trainLabel,
          epochs: t.epochs,
          batch: t.batch,
          optimizer: t.optimizer,
          augment: t.augment,
          checkpointEveryBatches: t.checkpointEveryBatches,
          // only when set: a run without a context head keeps the id (and stored results) it had
          ...(t.context ? { context: t.context } : {}),
        };
        const runId = hashOf({ dataset: spec.dataset, run: body, variant: byLabel.get(trainLabel) });
        if (runIds.has(runId)) continue;
        runIds.add(runId);
        runs.push({
          kind: 'trained',
          runId,
          label: `${t.model} on ${trainLabel}${contextSuffix(t.context)} (seed ${seed})`,
          ...body,
        });
      }
    }
  });

  const names = new Set<string>();
  spec.models.forEach((m, i) => {
    if (names.has(m.name))
      problems.push({ path: ['models', i, 'name'], message: `"${m.name}" names two models` });
    names.add(m.name);
    const pretrained = toPretrainedInput(m);
    const pretrainedRunId = hashOf({ pretrained });
    runIds.add(pretrainedRunId);
    runs.push({
      kind: 'pretrained',
      runId: pretrainedRunId,
      label: `${m.name} (pretrained ${m.source})`,
      inputSize: pretrained.preprocess.inputSize,
      pretrained,
    });
    // Each fine-tune is a run of its own, reported beside the model as it came.
    const ft = m.finetune;
    if (!ft) return;
    for (const trainLabel of select(ft.on, ['models', i, 'finetune', 'on'])) {
      for (const seed of Array.isArray(ft.seed) ? ft.seed : [ft.seed]) {
        const trainVariantId = addVariant(trainLabel, spec.pairingSeed);
        const body = {
          arch: `${m.name}-ft`,
          inputSize: pretrained.preprocess.inputSize,
          seed,
          trainVariantId,
          trainLabel,
          epochs: ft.epochs,
          batch: ft.batch,
          optimizer: ft.optimizer,
          augment: ft.augment,
          checkpointEveryBatches: ft.checkpointEveryBatches,
        };
        const finetune: FinetuneSettings = { head: ft.head, trainable: ft.trainable };
        const runId = hashOf({
          dataset: spec.dataset,
          pretrained,
          finetune,
          run: body,
          variant: byLabel.get(trainLabel),
        });
        if (runIds.has(runId)) continue;
        runIds.add(runId);
        // `arch` is in the run id's inputs only (ids of earlier plans stay); the run names its base model.
        const { arch: _arch, ...loop } = body;
        runs.push({
          kind: 'finetuned',
          runId,
          label: `${m.name}-ft-${trainLabel} (seed ${seed})`,
          ...loop,
          pretrained,
          finetune,
        });
      }
    }
  });

  const testLabels = spec.evaluate.on === 'all' ? labels : select(spec.evaluate.on, ['evaluate', 'on']);
  const tests: PlannedTest[] = testLabels.map((label) => {
    const repeats = usesPairing(byLabel.get(label)!.name) ? spec.evaluate.pairingRepeats : 1;
    const variantIds = Array.from({ length: repeats }, (_, r) =>
      addVariant(label, spec.pairingSeed + 1000 * (r + 1)),
    );
    return { label, variantIds };
  });
  // Listed but neither trained on nor tested: still generated (e.g. for sample grids).
  for (const label of labels)
    if (!variants.some((v) => v.label === label)) addVariant(label, spec.pairingSeed);

  const events = studyHistoryEvents(runs.length, variants.length);
  if (events > MAX_STUDY_HISTORY_EVENTS)
    problems.push({
      path: [spec.train.length ? 'train' : 'models'],
      message: `the study plans ${runs.length} runs and ${variants.length} variant instances: up to ${events} events in its workflow history, over the ${MAX_STUDY_HISTORY_EVENTS} one study may have (Temporal fails a history at 50,000); split it into several studies (fewer seeds, models or train variants each)`,
    });
  if (problems.length) throw new SpecValidationError(`invalid study spec:\n${formatIssues(problems)}`);
  return {
    studyHash,
    name: spec.name,
    title: spec.report.title ?? spec.description ?? spec.name,
    dataset: spec.dataset,
    variants,
    runs,
    tests,
    challenge: spec.evaluate.challenge
      ? { ...spec.evaluate.challenge, backgroundVariantId: addVariant('only_bg_t', spec.pairingSeed) }
      : false,
    saliency: spec.evaluate.saliency,
    compareWithPaper: spec.report.compareWithPaper,
    execution: spec.execution,
  };
}

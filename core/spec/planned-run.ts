import { z } from 'zod';
import { ARCHITECTURES } from '../ml/model-spec';
import type { ClassMap } from '../ml/class-map';
import type { Preprocess } from '../ml/preprocess';

const optimizerSchema = z.object({
  name: z.enum(['adam', 'sgd']),
  learningRate: z.number(),
  momentum: z.number().optional(),
});

/** The resolved pretrained model (toPretrainedInput); its preprocess and class map were validated with the spec. */
const pretrainedInputSchema = z.object({
  name: z.string(),
  source: z.enum(['onnx', 'tfjs']),
  uri: z.string(),
  preprocess: z.custom<Preprocess>((v) => typeof v === 'object' && v !== null),
  classMap: z.custom<ClassMap>((v) => v !== undefined),
});

const runFields = { runId: z.string(), label: z.string(), inputSize: z.number().int().positive() };

/** What a trained or fine-tuned run goes through: its training data and the loop's schedule. */
const loopFields = {
  seed: z.number().int(),
  trainVariantId: z.string(),
  /** The train variant's label, e.g. `mixed_rand`. */
  trainLabel: z.string(),
  epochs: z.number().int().min(1),
  batch: z.number().int().min(1),
  optimizer: optimizerSchema,
  augment: z.boolean(),
  checkpointEveryBatches: z.number().int().min(0),
  /** A second head learning a context label (core/spec/study-spec.ts contextHeadSchema); absent: none. */
  context: z
    .object({
      label: z.enum(['background', 'cooccurring', 'file']),
      file: z.string().optional(),
      weight: z.number(),
    })
    .optional(),
};

/**
 * One run of a study: a model trained here (`trained`), a pretrained model imported and evaluated as it came
 * (`pretrained`: nothing trained, so no schedule), or that model fine-tuned on a train variant (`finetuned`).
 */
export const plannedRunSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('trained'), ...runFields, arch: z.enum(ARCHITECTURES), ...loopFields }),
  z.object({ kind: z.literal('pretrained'), ...runFields, pretrained: pretrainedInputSchema }),
  z.object({
    kind: z.literal('finetuned'),
    ...runFields,
    pretrained: pretrainedInputSchema,
    finetune: z.object({ head: z.enum(['replace', 'keep']), trainable: z.enum(['all', 'head']) }),
    ...loopFields,
  }),
]);
export type PlannedRun = z.output<typeof plannedRunSchema>;
export type TrainedRun = Extract<PlannedRun, { kind: 'trained' }>;
export type FinetunedRun = Extract<PlannedRun, { kind: 'finetuned' }>;

/**
 * The flat shape plans had before the union (histories recorded then, studies in flight): a pretrained run
 * carried `arch` = the model's name, trainLabel "pretrained" and a zero schedule; a fine-tune `arch` `<name>-ft`.
 */
const legacyPlannedRunSchema = z
  .object({
    ...runFields,
    arch: z.string(),
    seed: z.number().int(),
    trainVariantId: z.string(),
    trainLabel: z.string(),
    epochs: z.number().int(),
    batch: z.number().int(),
    optimizer: optimizerSchema,
    augment: z.boolean(),
    checkpointEveryBatches: z.number().int(),
    pretrained: pretrainedInputSchema.optional(),
    finetune: z.object({ head: z.enum(['replace', 'keep']), trainable: z.enum(['all', 'head']) }).optional(),
  })
  .transform(({ arch, pretrained, finetune, ...r }): unknown => {
    const base = { runId: r.runId, label: r.label, inputSize: r.inputSize };
    if (!pretrained) return { kind: 'trained', arch, ...r };
    if (!finetune) return { kind: 'pretrained', ...base, pretrained };
    return { kind: 'finetuned', ...r, pretrained, finetune };
  })
  .pipe(plannedRunSchema);

/** A planned run in either shape, as the union. */
const anyPlannedRunSchema = z.union([plannedRunSchema, legacyPlannedRunSchema]);

/** Reads one run of a plan received over the wire (a workflow history, an activity input), old shape or new. */
export function parsePlannedRun(raw: unknown): PlannedRun {
  const parsed = anyPlannedRunSchema.safeParse(raw);
  if (!parsed.success) {
    const id = (raw as { runId?: unknown } | null)?.runId;
    throw new Error(`planned run ${String(id)}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** The model's name in reports: the architecture trained, the pretrained model's name, or `<name>-ft`. */
export function modelNameOf(run: PlannedRun): string {
  if (run.kind === 'trained') return run.arch;
  return run.kind === 'pretrained' ? run.pretrained.name : `${run.pretrained.name}-ft`;
}

/** The train variant's label; `pretrained` for a model evaluated as it came (the report's column text). */
export function trainedOnOf(run: PlannedRun): string {
  return run.kind === 'pretrained' ? 'pretrained' : run.trainLabel;
}

/** A plan received over the wire (registerStudy's result in a history, aggregateResults' input): runs in either shape. */
export function readPlanRuns<P extends { runs: readonly unknown[] }>(
  plan: P,
): Omit<P, 'runs'> & { runs: PlannedRun[] } {
  return { ...plan, runs: plan.runs.map(parsePlannedRun) };
}

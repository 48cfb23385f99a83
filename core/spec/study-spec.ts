import { z } from 'zod';
import { SpecValidationError } from '../../common/errors';
import { sourceSpecSchema } from '../data/source-spec';
import { batchSchema } from '../ml/batch';
import { ARCHITECTURES } from '../ml/model-spec';
import { pretrainedModelSchema } from '../ml/pretrained-spec';
import { ALL_VARIANT_NAMES } from '../variants/variant-spec';

/**
 * A variant entry as a user writes it: a name, or an object whose parameters may be lists (a sweep), e.g.
 * `{ "name": "bg_blur", "sigma": [1, 2, 4, 8] }`. core/spec/plan.ts expands sweeps and validates each
 * concrete variant with core/variants/variant-spec.ts.
 */
const variantEntrySchema = z.union([
  z.enum(ALL_VARIANT_NAMES),
  z
    .object({ name: z.enum(ALL_VARIANT_NAMES) })
    .catchall(z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()])).min(1)])),
]);

const seedSchema = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

/**
 * The slides' "highly correlated class" (an extra label "sea" on every whale image): a second head on the shared
 * features learns a context label beside the class, loss = CE(class) + weight × CE(context). Synthetic data:
 * `background` (the background family drawn) or `cooccurring` (the co-occurring object's class, or none);
 * real data: `file`, a per-image label file (CSV `id,label` lines or a JSON object id -> label). Evaluation,
 * BG-Gap, the challenge and saliency use the class head only (core/ml/context-head.ts).
 */
export const contextHeadSchema = z
  .object({
    label: z.enum(['background', 'cooccurring', 'file']),
    /** With label "file": the label file, a path the training worker can read (absolute is safest). */
    file: z.string().min(1).optional(),
    weight: z.number().positive().max(100).default(1),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.label === 'file' && !c.file)
      ctx.addIssue({ code: 'custom', path: ['file'], message: 'label "file" needs the label file' });
    if (c.label !== 'file' && c.file)
      ctx.addIssue({
        code: 'custom',
        path: ['file'],
        message: `a file is read only with label "file", not "${c.label}"`,
      });
  });
export type ContextHead = z.output<typeof contextHeadSchema>;

const trainEntrySchema = z
  .object({
    model: z.enum(ARCHITECTURES).default('small_cnn'),
    /** Input side in pixels; default: the dataset's image size (224 for real datasets without `size`). */
    inputSize: z.number().int().min(8).max(512).optional(),
    /** Variant labels or names to train on, one run each (a bare name selects every instance of it). */
    on: z.array(z.string().min(1)).min(1),
    epochs: z.number().int().min(1).max(1000).default(5),
    batch: batchSchema.default(32),
    /** One run per seed: spread over seeds is how a study shows its error bars. */
    seed: z.union([seedSchema, z.array(seedSchema).min(1)]).default(1),
    optimizer: z
      .object({
        name: z.enum(['adam', 'sgd']).default('adam'),
        learningRate: z.number().positive().max(10).default(0.001),
        momentum: z.number().min(0).max(1).optional(),
      })
      .strict()
      .default({ name: 'adam', learningRate: 0.001 }),
    /** Random crop (pad 1/8, crop back) and horizontal flip, seeded. */
    augment: z.boolean().default(true),
    /** Also checkpoint every N batches inside an epoch (0 = only at epoch ends). */
    checkpointEveryBatches: z.number().int().min(0).default(0),
    /** An auxiliary context label learnt by a second head (absent: none; specs without it keep their hash). */
    context: contextHeadSchema.optional(),
  })
  .strict();

/** Version 1 of the study spec. New optional fields may be added; `version` changes only on a breaking change. */
export const studySpecSchema = z
  .object({
    version: z.literal(1),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", at most 64'),
    description: z.string().optional(),
    dataset: sourceSpecSchema,
    variants: z.array(variantEntrySchema).min(1),
    /** Seed of the mixed_* / generic_bg pairings used for training. */
    pairingSeed: seedSchema.default(1),
    train: z.array(trainEntrySchema).default([]),
    /** Pretrained models (ONNX or tfjs files) evaluated like the trained ones, without training. */
    models: z.array(pretrainedModelSchema).default([]),
    evaluate: z
      .object({
        /** Test variants: 'all' generated ones, or labels/names. */
        on: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]).default('all'),
        /** Test mixed_* and generic_bg with this many independent pairings and average (stabilizes BG-Gap). */
        pairingRepeats: z.number().int().min(1).max(20).default(3),
        challenge: z
          .union([
            z.literal(false),
            z
              .object({
                /** Backgrounds in the pool (only_bg_t of the test split); 0 = all. */
                backgrounds: z.number().int().min(0).default(200),
                /** Foregrounds tried (the first ones of each class, in order); 0 = all. */
                foregrounds: z.number().int().min(0).default(0),
              })
              .strict(),
          ])
          .default(false),
        saliency: z
          .union([
            z.literal(false),
            z
              .object({
                samples: z.number().int().min(1).max(256).default(16),
                /**
                 * Models with input gradients: "smoothgrad" (16 noisy copies, ~10-15x the cost of one gradient)
                 * when absent, or "gradient" (one plain gradient). Models without gradients get occlusion.
                 * Optional rather than defaulted, so existing specs keep their hash.
                 */
                method: z.enum(['smoothgrad', 'gradient']).optional(),
              })
              .strict(),
          ])
          .default(false),
      })
      .strict()
      .default({ on: 'all', pairingRepeats: 3, challenge: false, saliency: false }),
    report: z
      .object({
        title: z.string().optional(),
        /** Print Xiao et al.'s published numbers beside ours (meaningful for the in9 dataset). */
        compareWithPaper: z.boolean().default(false),
      })
      .strict()
      .default({ compareWithPaper: false }),
    execution: z
      .object({
        /** Variants generated at once (CPU queue). */
        variantConcurrency: z.number().int().min(1).max(64).default(4),
        /** (model, train variant) runs trained at once (GPU queue). */
        runConcurrency: z.number().int().min(1).max(64).default(2),
      })
      .strict()
      .default({ variantConcurrency: 4, runConcurrency: 2 }),
  })
  .strict();

export type StudySpec = z.output<typeof studySpecSchema>;
export type StudySpecInput = z.input<typeof studySpecSchema>;
export type TrainEntry = StudySpec['train'][number];

interface Issue {
  path: readonly PropertyKey[];
  message: string;
  /** zod's invalid_union: each alternative's own issues, with paths below the union's. */
  errors?: readonly (readonly Issue[])[];
}

/**
 * A union's "Invalid input" replaced by the issues of the alternative the value got furthest into (all its
 * issues below the root), so `saliency: { method: "x" }` names `evaluate.saliency.method`, not `evaluate.saliency`.
 */
function expandUnions(issues: readonly Issue[]): Issue[] {
  return issues.flatMap((i) => {
    const inner = i.errors?.find((branch) => branch.length > 0 && branch.every((e) => e.path.length > 0));
    if (!inner) return [i];
    return expandUnions(inner).map((e) => ({ ...e, path: [...i.path, ...e.path] }));
  });
}

/** Readable, one line per problem, each naming the field by its path (e.g. `train.0.epochs`). */
export function formatIssues(issues: readonly Issue[]): string {
  return expandUnions(issues)
    .map((i) => `  - ${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('\n');
}

/** Parses a spec, throwing SpecValidationError whose message names every bad field by its path. */
export function parseStudySpec(raw: unknown): StudySpec {
  const result = studySpecSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new SpecValidationError(`invalid study spec:\n${formatIssues(result.error.issues)}`);
}

import { z } from 'zod';
import { batchSchema } from './batch';

const seedSchema = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

/**
 * `models[i].finetune`: train a pretrained tfjs LayersModel further on one or more variants, one run per
 * (variant, seed), each evaluated and reported next to the model as it came.
 */
export const finetuneSchema = z
  .object({
    /** Variant labels or names to fine-tune on (a bare name selects every instance of it). */
    on: z.array(z.string().min(1)).min(1),
    epochs: z.number().int().min(1).max(1000).default(3),
    batch: batchSchema.default(32),
    /** Seeds the new head's initializer, the data order and the augmentation; a list: one run per seed. */
    seed: z.union([seedSchema, z.array(seedSchema).min(1)]).default(1),
    optimizer: z
      .object({
        name: z.enum(['adam', 'sgd']).default('adam'),
        learningRate: z.number().positive().max(10).default(0.0001),
        momentum: z.number().min(0).max(1).optional(),
      })
      .strict()
      .default({ name: 'adam', learningRate: 0.0001 }),
    /** 'replace': a new last Dense layer with one output per dataset class (the class map becomes identity). */
    head: z.enum(['replace', 'keep']).default('replace'),
    /** 'all': fine-tune every weight; 'head': only the last Dense layer, the rest frozen (a linear probe). */
    trainable: z.enum(['all', 'head']).default('all'),
    /** Random crop (pad 1/8, crop back) and horizontal flip of the model's views, seeded. */
    augment: z.boolean().default(false),
    checkpointEveryBatches: z.number().int().min(0).default(0),
  })
  .strict();
export type FinetuneEntry = z.output<typeof finetuneSchema>;

/** What changes in the model, as the fine-tune activity receives it. */
export interface FinetuneSettings {
  head: 'replace' | 'keep';
  trainable: 'all' | 'head';
}

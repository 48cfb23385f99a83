import { z } from 'zod';
import { hasUrlCredentials, URL_CREDENTIALS_MESSAGE } from '../data/url-credentials';
import { classMapSchema, type ClassMap } from './class-map';
import { finetuneSchema } from './finetune-spec';
import { preprocessEntrySchema, type Preprocess } from './preprocess';

/**
 * A pretrained model in a study spec: where its file is and how to feed and read it. `uri`: a local path
 * (relative to the worker's working directory) or `file://` inside the folders BGSTUDY_MODEL_DIRS allows
 * (default `./models`), `http(s)://` without credentials, or `store:<key>` (an artifact already in the store). For tfjs it names the model.json; weight files are read from beside it.
 */
export const pretrainedModelSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", at most 64'),
    source: z.enum(['onnx', 'tfjs']),
    uri: z
      .string()
      .min(1)
      .refine((u) => !hasUrlCredentials(u), `uri ${URL_CREDENTIALS_MESSAGE}`),
    /** A preset ('torchvision', 'in9') or `{ inputSize, resizeShorter?, mean, std, range, layout }`. */
    preprocess: preprocessEntrySchema,
    /** 'identity', 'imagenet-in9' (the reference's 1000 -> 9 table), or `{ "<output index>": "<class>" }`. */
    classMap: classMapSchema,
    /** Also fine-tune it (tfjs LayersModels only): one more run per variant and seed (core/ml/finetune-spec.ts). */
    finetune: finetuneSchema.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (!m.finetune) return;
    if (m.source !== 'tfjs')
      ctx.addIssue({
        code: 'custom',
        path: ['finetune'],
        message: `${m.source} models cannot be fine-tuned (inference only here); use a tfjs LayersModel or drop finetune`,
      });
    else if (m.finetune.head === 'keep' && m.classMap !== 'identity')
      ctx.addIssue({
        code: 'custom',
        path: ['finetune', 'head'],
        message:
          "'keep' trains the model's own outputs as the dataset's classes, so it needs classMap 'identity'; use 'replace' (a new last layer, one output per class)",
      });
  });
export type PretrainedModelEntry = z.output<typeof pretrainedModelSchema>;

/** The resolved entry the workflow passes to importModel. */
export interface PretrainedModelInput {
  name: string;
  source: 'onnx' | 'tfjs';
  uri: string;
  preprocess: Preprocess;
  classMap: ClassMap;
}

/** The model alone (its fine-tunes are runs of their own), so its run id does not depend on them. */
export function toPretrainedInput(e: PretrainedModelEntry): PretrainedModelInput {
  const { finetune: _finetune, ...model } = e;
  return model;
}

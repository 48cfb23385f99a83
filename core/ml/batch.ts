import { z } from 'zod';

/**
 * The one bound on training batch sizes, for the study spec, fine-tune entries, the training activities and the
 * loop itself: BatchNorm cannot train on a batch of one image, so a spec with `batch: 1` is refused when it is
 * written, not after its datasets and variants were built.
 */
export const MIN_BATCH = 2;
export const MAX_BATCH = 4096;

export const batchSchema = z.number().int().min(MIN_BATCH).max(MAX_BATCH);

import { log } from '@temporalio/activity';
import { ZodError } from 'zod';
import { ArtifactNotFoundError, SpecValidationError } from '../common/errors';
import { ShardCache } from '../core/data/shard-cache';
import {
  materializeVariant,
  type MaterializedVariant,
  VARIANT_CACHE_BYTES,
} from '../core/variants/materialize';
import { variantSpecSchema, type VariantSpecInput } from '../core/variants/variant-spec';
import type { ArtifactStore } from '../store';
import { keepingAlive, shardHeartbeat } from './progress-heartbeat';

export interface MaterializeVariantInput {
  datasetManifestKey: string;
  variant: VariantSpecInput;
  /** Pairing seed of mixed_* and generic_bg. */
  seed?: number;
}

/** Activities that generate background variants of a prepared dataset. */
export function createVariantActivities(deps: {
  store: ArtifactStore;
  /** Worker threads per materialization (byte-identical output for any value). Default 1. */
  variantThreads?: number;
}) {
  // one budget of decoded dataset shards for every variant this worker makes at once (the study makes several
  // in parallel from the same shards), emptied when none is being made: memory does not grow with the dataset
  const cache = new ShardCache(deps.store, VARIANT_CACHE_BYTES);
  let making = 0;
  return {
    /** Generates (or finds) one variant of every split; returns its manifest key and counts. */
    async materializeVariant(input: MaterializeVariantInput): Promise<MaterializedVariant> {
      let variant;
      try {
        variant = variantSpecSchema.parse(input.variant);
      } catch (err) {
        if (err instanceof ZodError) throw new SpecValidationError(`invalid variant spec: ${err.message}`);
        throw err;
      }
      if ((await deps.store.stat(input.datasetManifestKey)) === undefined)
        throw new ArtifactNotFoundError(input.datasetManifestKey);
      making++;
      let result: MaterializedVariant;
      try {
        result = await keepingAlive((beat) =>
          materializeVariant(
            deps.store,
            { ...input, variant },
            {
              onProgress: shardHeartbeat(`materializeVariant ${variant.name}`, beat),
              threads: deps.variantThreads,
              cache,
            },
          ),
        );
      } finally {
        if (--making === 0) cache.clear();
      }
      log.info('variant ready', {
        manifestKey: result.manifestKey,
        label: result.label,
        counts: result.counts,
        reused: result.reused,
      });
      return result;
    },
  };
}

import { log } from '@temporalio/activity';
import { ZodError } from 'zod';
import { SpecValidationError } from '../common/errors';
import { prepareDataset, type PreparedDataset } from '../core/data/prepare';
import { checkLeaks } from '../core/leaks/leak-check';
import { sourceSpecSchema } from '../core/data/source-spec';
import type { S3PrefixOpener } from '../core/data/fetch-s3-prefix';
import type { ArtifactStore } from '../store';
import { keepingAlive, shardHeartbeat } from './progress-heartbeat';

/** Images per class and split the stage's leak check reads (`bgstudy data check-leaks` reads more). */
const STAGE_LEAK_PER_CLASS = 200;

/** Activities that turn a dataset source into the normalized sharded form in the store. */
export function createDatasetActivities(deps: {
  store: ArtifactStore;
  /** Where URL sources are downloaded and extracted (default <tmpdir>/bgstudy-cache). */
  cacheDir?: string;
  /** Opens s3:// sources (store/s3-prefix-opener.ts); without it they are refused. */
  openS3?: S3PrefixOpener;
}) {
  return {
    /**
     * Prepares (or finds) a dataset: returns its manifest key, hash, classes, counts and skipped files.
     * Idempotent: an existing dataset returns at once; a retried one keeps its finished shards.
     */
    async prepareDataset(sourceSpec: unknown): Promise<PreparedDataset> {
      let spec;
      try {
        spec = sourceSpecSchema.parse(sourceSpec);
      } catch (err) {
        if (err instanceof ZodError) throw new SpecValidationError(`invalid dataset source: ${err.message}`);
        throw err;
      }
      const result = await keepingAlive((beat) =>
        prepareDataset(deps.store, spec, {
          onProgress: shardHeartbeat('prepareDataset', beat),
          // a long download, extraction or S3 mirror heartbeats too (the SDK throttles these), so only a stalled
          // one times out; a retry resumes the download where it stopped
          onFetchProgress: (p) => beat({ fetch: p.phase, bytes: p.bytes }),
          cacheDir: deps.cacheDir,
          openS3: deps.openS3,
        }),
      );
      // the leak check (core/leaks): on a subsample, so the stage stays cheap on large datasets; stored once
      // (a dataset it cannot check, e.g. one without masks, is logged and passes on without it)
      const leaks = await keepingAlive(async () => {
        if (!result.counts.train || !result.counts.val) return undefined;
        try {
          return (await checkLeaks(deps.store, result.manifestKey, { maxPerClass: STAGE_LEAK_PER_CLASS }))
            .report;
        } catch (err) {
          log.warn('leak check skipped', { manifestKey: result.manifestKey, error: String(err) });
          return undefined;
        }
      });
      log.info('dataset ready', {
        manifestKey: result.manifestKey,
        counts: result.counts,
        skipped: result.skippedCount,
        flaggedMasks: result.masks?.flaggedCount,
        reused: result.reused,
        leakRows: leaks?.rows.filter((r) => r.ci[0] > leaks.chance).length,
      });
      return leaks ? { ...result, leaks } : result;
    },
  };
}

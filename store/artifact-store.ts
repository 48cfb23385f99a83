import type { Readable } from 'node:stream';

export interface ArtifactInfo {
  size: number;
  modified: Date;
}

export type ArtifactBody = Buffer | Uint8Array | string | Readable;

/**
 * Where every artifact of a study lives (dataset shards, variants, checkpoints, results, reports).
 *
 * Contract, kept by every implementation and checked by test/integration/store-contract.test.ts:
 * - keys are relative, '/'-separated, validated by `assertValidKey` (no '..', no absolute paths);
 * - `put` is atomic: readers see either no object or the whole object, never a partial one; concurrent
 *   writers of one key leave one of the written bodies whole;
 * - artifacts are content-addressed by their callers (see keys.ts), so an existing key never needs rewriting.
 */
export interface ArtifactStore {
  /** Human-readable location, e.g. `file:///data/store` or `s3://bucket/prefix`. Never contains secrets. */
  readonly location: string;
  put(key: string, body: ArtifactBody, options?: { contentType?: string }): Promise<void>;
  /** Throws ArtifactNotFoundError when the key does not exist. */
  get(key: string): Promise<Buffer>;
  /** Throws ArtifactNotFoundError when the key does not exist. */
  getStream(key: string): Promise<Readable>;
  /** undefined when the key does not exist. */
  stat(key: string): Promise<ArtifactInfo | undefined>;
  /** Every key under a prefix ('' for all), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Removes a key (only for tests and explicit garbage collection; stages never overwrite in place). */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

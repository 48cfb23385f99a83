import type { ArtifactStore } from './artifact-store';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { ArtifactNotFoundError } from '../common/errors';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/**
 * A key ending in `.json.gz` holds compact gzipped JSON (files that grow with the data, e.g. a shard's index of
 * items, which shrinks ~5x); any other key indented JSON for people to read.
 */
const gzipped = (key: string) => key.endsWith('.json.gz');

export async function putJson(store: ArtifactStore, key: string, value: unknown): Promise<void> {
  if (gzipped(key))
    await store.put(key, await gzip(JSON.stringify(value)), { contentType: 'application/gzip' });
  else await store.put(key, JSON.stringify(value, null, 1), { contentType: 'application/json' });
}

export async function getJson<T>(store: ArtifactStore, key: string): Promise<T> {
  const bytes = await store.get(key);
  return JSON.parse((gzipped(key) ? await gunzip(bytes) : bytes).toString('utf8')) as T;
}

export async function tryGetJson<T>(store: ArtifactStore, key: string): Promise<T | undefined> {
  try {
    return await getJson<T>(store, key);
  } catch (err) {
    if (err instanceof ArtifactNotFoundError) return undefined;
    throw err;
  }
}

/**
 * The idempotency rule of every stage: if the content-addressed result exists, return it; otherwise make it
 * and write it once. A retried or rerun activity therefore returns at once.
 */
export async function getOrCreateJson<T>(
  store: ArtifactStore,
  key: string,
  make: () => Promise<T>,
  /** A stopped activity attempt writes nothing (checked between making the value and storing it). */
  signal?: AbortSignal,
): Promise<{ value: T; reused: boolean }> {
  const existing = await tryGetJson<T>(store, key);
  if (existing !== undefined) return { value: existing, reused: true };
  const value = await make();
  signal?.throwIfAborted();
  await putJson(store, key, value);
  return { value, reused: false };
}

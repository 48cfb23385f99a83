import type { ArtifactStore } from './artifact-store';

/**
 * Writes `body` under `key` unless the key already holds exactly these bytes, so a rerun that changes nothing
 * writes nothing (for outputs that are not content-addressed, such as the report files). Returns whether it wrote.
 */
export async function putIfChanged(
  store: ArtifactStore,
  key: string,
  body: string | Buffer,
  options?: { contentType?: string },
): Promise<boolean> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const info = await store.stat(key);
  if (info?.size === bytes.length && (await store.get(key)).equals(bytes)) return false;
  await store.put(key, bytes, options);
  return true;
}

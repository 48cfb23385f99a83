import type { ArtifactStore } from './artifact-store';
import { FsArtifactStore } from './fs-store';
import { S3ArtifactStore, type S3StoreConfig } from './s3-store';

/** Which store to open: a local folder, or an S3 bucket and prefix (config/config.ts fills it from the environment). */
export type StoreConfig = { kind: 'fs'; dir: string } | ({ kind: 's3' } & S3StoreConfig);

export type { ArtifactStore, ArtifactInfo, ArtifactBody } from './artifact-store';
export { contentKey, assertValidKey } from './keys';
export { putJson, getJson, tryGetJson, getOrCreateJson } from './json';

export function createStore(config: StoreConfig): ArtifactStore {
  if (config.kind === 'fs') return new FsArtifactStore(config.dir);
  const { kind: _kind, ...s3 } = config;
  return new S3ArtifactStore(s3);
}

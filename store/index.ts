import type { BgConfig } from '../config/config';
import type { ArtifactStore } from './artifact-store';
import { FsArtifactStore } from './fs-store';
import { S3ArtifactStore } from './s3-store';

export type { ArtifactStore, ArtifactInfo, ArtifactBody } from './artifact-store';
export { contentKey, assertValidKey } from './keys';
export { putJson, getJson, tryGetJson, getOrCreateJson } from './json';

export function createStore(config: BgConfig['store']): ArtifactStore {
  if (config.kind === 'fs') return new FsArtifactStore(config.dir);
  const { kind: _kind, ...s3 } = config;
  return new S3ArtifactStore(s3);
}

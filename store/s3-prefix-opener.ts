import { assertObjectName } from '../core/data/safe-names';
import type { ArtifactStore } from './artifact-store';
import type { StoreConfig } from './index';
import { S3ArtifactStore } from './s3-store';

/**
 * Opens `s3://bucket/prefix` dataset sources as read-only stores: with the artifact store's endpoint, addressing
 * and credentials when it is S3, else with BGSTUDY_S3_ENDPOINT (if set) and the AWS SDK's default credentials.
 * Object names follow the dataset-name rule (spaces and any script allowed), not the artifact-key rule.
 */
export function s3PrefixOpener(
  storeConfig: StoreConfig,
  env: NodeJS.ProcessEnv = process.env,
): (bucket: string, prefix: string) => ArtifactStore {
  const base =
    storeConfig.kind === 's3'
      ? {
          endpoint: storeConfig.endpoint,
          region: storeConfig.region,
          forcePathStyle: storeConfig.forcePathStyle,
          credentials: storeConfig.credentials,
        }
      : {
          endpoint: env.BGSTUDY_S3_ENDPOINT || undefined,
          region: env.BGSTUDY_S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
        };
  return (bucket, prefix) => new S3ArtifactStore({ ...base, bucket, prefix, checkKey: assertObjectName });
}

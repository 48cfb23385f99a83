import path from 'node:path';
import type { StoreConfig } from '../store';

/**
 * Runtime configuration, from the environment (12-factor) with defaults for the embedded single-machine mode.
 * Secrets are never read into this object for S3: the AWS SDK's default provider chain finds them
 * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, instance roles), so they cannot leak through config dumps.
 */
export interface BgConfig {
  /** Project-local state: store folder, Temporal SQLite file, service logs, cached binaries. */
  homeDir: string;
  store: StoreConfig;
  temporal: TemporalConfig;
}

/**
 * How to reach Temporal. Variable names follow the Temporal CLI's, so one environment serves both. The API key
 * is kept out of this object (read from the environment when connecting) so that printing a config leaks nothing.
 */
export interface TemporalConfig {
  address: string;
  namespace: string;
  /** TLS on (implied by any TLS file or an API key, as Temporal Cloud needs). */
  tls: boolean;
  serverCaCertPath?: string;
  clientCertPath?: string;
  clientKeyPath?: string;
  serverName?: string;
  /** Name of the environment variable holding the API key, when one is set. */
  apiKeyEnv?: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): BgConfig {
  const homeDir = path.resolve(cwd, env.BGSTUDY_HOME ?? '.bgstudy');
  const kind = env.BGSTUDY_STORE ?? 'fs';
  let store: BgConfig['store'];
  if (kind === 'fs') {
    store = { kind: 'fs', dir: path.resolve(cwd, env.BGSTUDY_STORE_DIR ?? path.join(homeDir, 'store')) };
  } else if (kind === 's3') {
    const bucket = env.BGSTUDY_S3_BUCKET;
    if (!bucket)
      throw new Error('BGSTUDY_STORE=s3 needs BGSTUDY_S3_BUCKET (and usually BGSTUDY_S3_ENDPOINT)');
    store = {
      kind: 's3',
      bucket,
      prefix: env.BGSTUDY_S3_PREFIX ?? '',
      endpoint: env.BGSTUDY_S3_ENDPOINT || undefined,
      region: env.BGSTUDY_S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
      forcePathStyle: env.BGSTUDY_S3_PATH_STYLE !== 'false',
      createBucket: env.BGSTUDY_S3_CREATE_BUCKET === 'true',
    };
  } else {
    throw new Error(`BGSTUDY_STORE must be "fs" or "s3", got "${kind}"`);
  }
  return {
    homeDir,
    store,
    temporal: {
      address: env.TEMPORAL_ADDRESS ?? 'localhost:7233',
      namespace: env.TEMPORAL_NAMESPACE ?? 'default',
      tls:
        env.TEMPORAL_TLS === 'true' ||
        Boolean(
          env.TEMPORAL_TLS_CLIENT_CERT_PATH || env.TEMPORAL_TLS_SERVER_CA_CERT_PATH || env.TEMPORAL_API_KEY,
        ),
      serverCaCertPath: env.TEMPORAL_TLS_SERVER_CA_CERT_PATH || undefined,
      clientCertPath: env.TEMPORAL_TLS_CLIENT_CERT_PATH || undefined,
      clientKeyPath: env.TEMPORAL_TLS_CLIENT_KEY_PATH || undefined,
      serverName: env.TEMPORAL_TLS_SERVER_NAME || undefined,
      apiKeyEnv: env.TEMPORAL_API_KEY ? 'TEMPORAL_API_KEY' : undefined,
    },
  };
}

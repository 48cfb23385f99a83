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
      ...temporalTls(env),
      apiKeyEnv: env.TEMPORAL_API_KEY ? 'TEMPORAL_API_KEY' : undefined,
    },
  };
}

/** TEMPORAL_TLS values read as on or off; anything else is refused rather than guessed. */
const TLS_ON = ['true', '1', 'yes', 'on'];
const TLS_OFF = ['false', '0', 'no', 'off'];

/**
 * The TLS part of TemporalConfig. TLS is on with TEMPORAL_TLS=true (or 1, yes, on: server-only TLS with the
 * system CAs) and whenever a CA, a client certificate or an API key is set. A setting that only makes sense
 * with TLS never quietly leaves the connection in plaintext: half a client pair, a server name with TLS off,
 * TEMPORAL_TLS=false beside certificates or an API key, or an unreadable TEMPORAL_TLS value are refused here,
 * naming the variables.
 */
function temporalTls(
  env: NodeJS.ProcessEnv,
): Pick<TemporalConfig, 'tls' | 'serverCaCertPath' | 'clientCertPath' | 'clientKeyPath' | 'serverName'> {
  const flag = (env.TEMPORAL_TLS ?? '').trim().toLowerCase();
  if (flag !== '' && !TLS_ON.includes(flag) && !TLS_OFF.includes(flag))
    throw new Error(`TEMPORAL_TLS must be true or false (or 1/0), got "${env.TEMPORAL_TLS}"`);
  const serverCaCertPath = env.TEMPORAL_TLS_SERVER_CA_CERT_PATH || undefined;
  const clientCertPath = env.TEMPORAL_TLS_CLIENT_CERT_PATH || undefined;
  const clientKeyPath = env.TEMPORAL_TLS_CLIENT_KEY_PATH || undefined;
  const serverName = env.TEMPORAL_TLS_SERVER_NAME || undefined;
  if (Boolean(clientCertPath) !== Boolean(clientKeyPath))
    throw new Error(
      `mTLS needs both TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH; only ${clientCertPath ? 'the certificate' : 'the key'} is set`,
    );
  const implied = [
    serverCaCertPath && 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    clientCertPath && 'TEMPORAL_TLS_CLIENT_CERT_PATH',
    env.TEMPORAL_API_KEY && 'TEMPORAL_API_KEY',
  ].filter(Boolean);
  if (TLS_OFF.includes(flag) && implied.length > 0)
    throw new Error(
      `TEMPORAL_TLS=${env.TEMPORAL_TLS} turns TLS off, but ${implied.join(', ')} need TLS (an API key is never sent in plaintext); unset one or the other`,
    );
  const tls = TLS_ON.includes(flag) || implied.length > 0;
  if (serverName && !tls)
    throw new Error(
      'TEMPORAL_TLS_SERVER_NAME is set but TLS is off: set TEMPORAL_TLS=true (or a CA or client certificate) to connect with TLS, or unset it',
    );
  return { tls, serverCaCertPath, clientCertPath, clientKeyPath, serverName };
}

/**
 * Folders local model files (a pretrained model's `uri` as a path or file://) may be read from:
 * BGSTUDY_MODEL_DIRS (separated by the platform's path delimiter, ":" on Linux), default `./models` of the
 * worker's working directory. A spec cannot make a worker copy any file it can read (/etc/..., keys) into the
 * shared store by naming it as a model.
 */
export function modelDirs(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string[] {
  const list = (env.BGSTUDY_MODEL_DIRS ?? '').split(path.delimiter).filter(Boolean);
  return (list.length ? list : ['models']).map((d) => path.resolve(cwd, d));
}

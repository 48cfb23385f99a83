import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { S3ArtifactStore } from '../store/s3-store';
import { ensureBinary, VERSITYGW } from './binaries';
import { freePort } from './ports';
import { startService, type ServiceProcess } from './service-process';

export interface LocalS3Server {
  endpoint: string;
  port: number;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  dataDir: string;
  process: ServiceProcess;
  stop(): Promise<void>;
  /** Starts the same server again on the same port and data folder (after stop() or a kill). */
  restart(): Promise<void>;
}

/** Answers any HTTP request (versitygw replies 403 to an unsigned one: that still means "up"). */
async function httpAnswers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}

/**
 * versitygw with its posix backend: each bucket is a folder under `dataDir`. The bucket is created on start.
 * Credentials are the gateway's root user, for local use and tests only.
 */
export async function startLocalS3(options: {
  dataDir: string;
  logDir: string;
  port?: number;
  bucket?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  detached?: boolean;
}): Promise<LocalS3Server> {
  const bin = await ensureBinary(VERSITYGW);
  const port = options.port ?? (await freePort());
  const bucket = options.bucket ?? 'bgstudy';
  const credentials = options.credentials ?? {
    accessKeyId: 'bgstudy-local',
    secretAccessKey: 'bgstudy-local-secret',
  };
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const endpoint = `http://127.0.0.1:${port}`;
  const launch = () =>
    startService({
      name: `versitygw-${port}`,
      command: bin,
      args: ['--port', `127.0.0.1:${port}`, '--quiet', 'posix', dataDir],
      // Root credentials go through the environment, never the command line (visible in `ps`).
      env: {
        ROOT_ACCESS_KEY_ID: credentials.accessKeyId,
        ROOT_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      },
      logDir: options.logDir,
      healthy: () => httpAnswers(endpoint),
      timeoutMs: 30_000,
      detached: options.detached,
    });
  const server: LocalS3Server = {
    endpoint,
    port,
    bucket,
    credentials,
    dataDir,
    process: await launch(),
    stop: () => server.process.stop(),
    restart: async () => {
      server.process = await launch();
    },
  };
  const store = new S3ArtifactStore({ bucket, endpoint, credentials, createBucket: true });
  await store.list('');
  await store.close();
  return server;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { testOutputDir } from './env';

export interface WorkerProcess {
  child: ChildProcess;
  logFile: string;
  /** SIGKILL: the crash case, no cleanup at all. */
  kill(): Promise<void>;
  /** SIGTERM: graceful shutdown. */
  stop(): Promise<void>;
}

/**
 * A real `bgstudy worker` in its own process, configured only through the environment (as a user would on
 * another machine), so a test can SIGKILL it mid-activity.
 */
export function spawnWorker(options: {
  queue: 'cpu' | 'gpu';
  taskQueue: string;
  temporalAddress: string;
  s3: {
    endpoint: string;
    bucket: string;
    prefix: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  name: string;
  env?: NodeJS.ProcessEnv;
  /** Working directory (default: the repository); the command is found by absolute path either way. */
  cwd?: string;
}): WorkerProcess {
  const root = path.resolve(__dirname, '..', '..');
  const logFile = path.join(testOutputDir(), 'logs', `${options.name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(
    process.execPath,
    [
      path.join(root, 'bin', 'bgstudy.cjs'),
      'worker',
      '--queue',
      options.queue,
      '--task-queue',
      options.taskQueue,
    ],
    {
      cwd: options.cwd ?? root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: options.temporalAddress,
        BGSTUDY_STORE: 's3',
        BGSTUDY_S3_ENDPOINT: options.s3.endpoint,
        BGSTUDY_S3_BUCKET: options.s3.bucket,
        BGSTUDY_S3_PREFIX: options.s3.prefix,
        AWS_ACCESS_KEY_ID: options.s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: options.s3.credentials.secretAccessKey,
        BGSTUDY_LOG_LEVEL: 'INFO',
        ...options.env,
      },
    },
  );
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return { child, logFile, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

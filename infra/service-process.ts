import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceStartError } from '../common/errors';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (fault tests). */
  kill(): Promise<void>;
}

/**
 * What a child service inherits from this process: the few variables a program needs to run (where binaries
 * and temp files are, locale and time zone). Nothing else, so TEMPORAL_API_KEY, AWS_SECRET_ACCESS_KEY or any
 * other secret of the user's shell never reaches the Temporal dev server or versitygw.
 */
export const SERVICE_ENV_KEYS = ['PATH', 'HOME', 'TMPDIR', 'TMP', 'TEMP', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ'];

export function serviceEnv(parent: NodeJS.ProcessEnv, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of SERVICE_ENV_KEYS) if (parent[k] !== undefined) env[k] = parent[k];
  return { ...env, ...extra };
}

/**
 * Starts a long-running service with its output in a log file, then polls `healthy` until it answers or
 * `timeoutMs` passes. On failure the process is stopped and the error quotes the log's tail.
 */
export async function startService(options: {
  name: string;
  command: string;
  args: string[];
  logDir: string;
  /** Variables the service needs beyond SERVICE_ENV_KEYS (e.g. its own root credentials). */
  env?: NodeJS.ProcessEnv;
  healthy: () => Promise<boolean>;
  timeoutMs?: number;
  /** Start in its own process group so it outlives the parent (e.g. `bgstudy services up`). */
  detached?: boolean;
}): Promise<ServiceProcess> {
  await mkdir(options.logDir, { recursive: true });
  const logFile = path.join(options.logDir, `${options.name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  log.write(`\n--- ${new Date().toISOString()} ${options.command} ${options.args.join(' ')}\n`);
  // A detached service writes straight to the log file, so that no pipe ties it to this process.
  const fd = options.detached ? openSync(logFile, 'a') : undefined;
  const child = spawn(options.command, options.args, {
    env: serviceEnv(process.env, options.env),
    stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    detached: options.detached ?? false,
  });
  if (fd !== undefined) closeSync(fd);
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exitInfo: string | undefined;
  child.once('exit', (code, signal) => (exitInfo = `exited with ${signal ?? code}`));
  child.once('error', (err) => (exitInfo = `failed to start: ${err.message}`));

  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  };
  const service: ServiceProcess = { name: options.name, child, logFile, stop, kill };

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (exitInfo) break;
    if (await options.healthy().catch(() => false)) {
      if (options.detached) {
        child.unref();
        log.end();
      }
      return service;
    }
    await sleep(200);
  }
  await stop(2_000);
  const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
  throw new ServiceStartError(
    `${options.name} did not become healthy (${exitInfo ?? `no answer within ${options.timeoutMs ?? 60_000} ms`}); ` +
      `log ${logFile}:\n${tail}`,
  );
}

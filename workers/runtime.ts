import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

let installed = false;

/**
 * Installs the worker runtime once per process. BGSTUDY_LOG_LEVEL (TRACE..ERROR) wins over the caller's
 * default: WARN for the interactive `bgstudy run`, INFO for long-running `bgstudy worker` processes.
 */
export function installRuntime(defaultLevel: LogLevel = 'WARN'): void {
  if (installed) return;
  installed = true;
  const level = (process.env.BGSTUDY_LOG_LEVEL?.toUpperCase() as LogLevel | undefined) ?? defaultLevel;
  Runtime.install({ logger: new DefaultLogger(level) });
}

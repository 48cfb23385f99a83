import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';

let installed = false;

const LEVELS: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Said by every activity-only (GPU queue) worker, which is how this project means them: not a warning here. */
const EXPECTED = /^No workflows registered, not polling for workflow tasks/;

/**
 * Installs the worker runtime once per process. BGSTUDY_LOG_LEVEL (TRACE..ERROR) wins over the caller's
 * default: WARN for the interactive `bgstudy run`, INFO for long-running `bgstudy worker` processes.
 */
export function installRuntime(defaultLevel: LogLevel = 'WARN'): void {
  if (installed) return;
  installed = true;
  const asked = process.env.BGSTUDY_LOG_LEVEL?.toUpperCase();
  if (asked && !(LEVELS as string[]).includes(asked))
    throw new Error(`BGSTUDY_LOG_LEVEL must be one of ${LEVELS.join(', ')}, not "${asked}"`);
  const level = (asked as LogLevel | undefined) ?? defaultLevel;
  const print = new DefaultLogger(level);
  Runtime.install({
    logger: new DefaultLogger(level, (entry: LogEntry) => {
      if (entry.level === 'WARN' && EXPECTED.test(entry.message) && level !== 'DEBUG' && level !== 'TRACE')
        return;
      print.log(entry.level, entry.message, entry.meta);
    }),
  });
}

import { Context } from '@temporalio/activity';
import { stopSignal } from './attempt-guard';

/**
 * The Temporal activity context when running inside one, else nothing: the training and evaluation
 * activities stay callable from tests and scripts (no heartbeat, no cancellation, no retry details).
 */
export interface ActivityHooks {
  heartbeat(details: unknown): void;
  /** Details of the last heartbeat of a previous attempt (the resume cursor), if any. */
  previousDetails: unknown;
  /** Aborts when Temporal cancels the attempt or the worker has been cut off from it too long (attempt-guard). */
  signal: AbortSignal | undefined;
  attempt: number;
  /** The activity logger inside Temporal; silent outside. */
  info(message: string, meta?: Record<string, unknown>): void;
}

export function activityHooks(): ActivityHooks {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined;
  }
  if (!ctx)
    return { heartbeat: () => {}, previousDetails: undefined, signal: undefined, attempt: 1, info: () => {} };
  const c = ctx;
  return {
    heartbeat: (d) => {
      c.heartbeat(d);
    },
    previousDetails: c.info.heartbeatDetails as unknown,
    signal: stopSignal(),
    attempt: c.info.attempt,
    info: (message, meta) => {
      c.log.info(message, meta);
    },
  };
}

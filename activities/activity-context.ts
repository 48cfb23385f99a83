import { Context } from '@temporalio/activity';

/**
 * The Temporal activity context when running inside one, else nothing: the training and evaluation
 * activities stay callable from tests and scripts (no heartbeat, no cancellation, no retry details).
 */
export interface ActivityHooks {
  heartbeat(details: unknown): void;
  /** Details of the last heartbeat of a previous attempt (the resume cursor), if any. */
  previousDetails: unknown;
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
    signal: c.cancellationSignal,
    attempt: c.info.attempt,
    info: (message, meta) => {
      c.log.info(message, meta);
    },
  };
}

import { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { type ContactGuard, probeInterval, startContactGuard } from './contact-guard';

/**
 * The contact guard (./contact-guard.ts) bound to Temporal: a worker interceptor starts one for every attempt
 * that has a heartbeat timeout, probing with GetSystemInfo through the worker's own connection, and closes it when
 * the attempt ends. Activities read `stopSignal()` (Temporal's cancellation or the guard) where they read
 * cancellation, and `stopReason()` in words.
 */
const guards = new WeakMap<Context, ContactGuard>();

export const attemptGuardInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const timeoutMs = ctx.info.heartbeatTimeoutMs;
      if (!timeoutMs || ctx.info.isLocal) return next(input);
      let client: Context['client'];
      try {
        client = ctx.client;
      } catch {
        return next(input); // no connection (a test environment): nothing to guard
      }
      const probeTimeoutMs = probeInterval(timeoutMs);
      const guard = startContactGuard({
        timeoutMs,
        probeTimeoutMs,
        probe: () =>
          client.connection.withDeadline(Date.now() + probeTimeoutMs, () =>
            client.workflowService.getSystemInfo({}),
          ),
        onStop: (reason) => {
          ctx.log.info(`${ctx.info.activityType} attempt stopping`, { attempt: ctx.info.attempt, reason });
        },
      });
      guards.set(ctx, guard);
      try {
        return await next(input);
      } finally {
        guard.close();
        guards.delete(ctx);
      }
    },
  },
});

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Aborts when Temporal cancels the running attempt or the guard finds it cut off; undefined outside an activity. */
export function stopSignal(): AbortSignal | undefined {
  const ctx = currentContext();
  if (!ctx) return undefined;
  const guard = guards.get(ctx);
  return guard ? AbortSignal.any([ctx.cancellationSignal, guard.signal]) : ctx.cancellationSignal;
}

/**
 * Why the running attempt stopped, in words for the log. The guard's reason starts with "superseded". `timedOut`
 * or `notFound` without a cancel request is also an attempt Temporal has given up on (the SDK learns it from the
 * server's answer to a heartbeat), and the retry runs elsewhere.
 */
export function stopReason(): string {
  const ctx = currentContext();
  if (!ctx) return 'not in an activity';
  const guarded = guards.get(ctx)?.signal;
  if (guarded?.aborted) return (guarded.reason as Error).message;
  const d = ctx.cancellationDetails;
  const why = [
    d?.cancelRequested && 'cancel requested',
    d?.timedOut && !d.cancelRequested && 'superseded: heartbeat timed out, the retry runs elsewhere',
    d?.notFound && !d.timedOut && 'superseded: Temporal no longer has this attempt',
    d?.workerShutdown && 'worker shutting down',
    d?.paused && 'paused',
    d?.reset && 'reset',
  ].filter(Boolean);
  return why.length ? why.join(', ') : String(ctx.cancellationSignal.reason);
}

/**
 * Stops an activity attempt that has been cut off from Temporal for longer than its heartbeat timeout.
 *
 * The SDK cannot tell an activity that its heartbeats are not getting through: while the server is unreachable
 * they fail quietly and the attempt runs on, although the server has timed it out and handed the retry to another
 * worker. Nor is the fate of a heartbeat observable, so the guard asks the question directly: it sends a cheap
 * request through the worker's own connection (`probe`) every `everyMs`. If no probe has been answered for
 * longer than the heartbeat timeout, no heartbeat can have been delivered either, the server has given the attempt
 * up, and the guard aborts `signal` with a reason that starts with "superseded".
 *
 * Margin (why a healthy but busy worker is never stopped): the guard fires only on evidence from the network.
 * A probe is failing when it was refused or has gone unanswered for `probeTimeoutMs`; the guard fires when the
 * latest probe is failing AND none has been answered for more than the heartbeat timeout. A blocked event loop
 * (a long synchronous op, a GC pause) is detected by the tick arriving more than `everyMs` late, and the clock
 * restarts from its end: the answers that queued up during the stall are read before anything is judged. So it
 * fires between `timeoutMs` and `timeoutMs + everyMs + probeTimeoutMs` after the last answer, by which time the
 * server has timed the attempt out (its last delivered heartbeat is no later than the last answered probe).
 */
export interface ContactGuardOptions {
  /** The attempt's heartbeat timeout. */
  timeoutMs: number;
  /** Resolves when Temporal answered through the worker's connection; rejects (or hangs) when it cannot. */
  probe: () => Promise<unknown>;
  everyMs?: number;
  probeTimeoutMs?: number;
  /** Called once, when the guard fires, with the reason the signal carries. */
  onStop?: (reason: string) => void;
}

export interface ContactGuard {
  /** Aborted (with an Error whose message is the reason) when the attempt has been cut off too long. */
  signal: AbortSignal;
  /** Stops probing (the attempt finished). */
  close(): void;
}

/** A probe every quarter of the timeout, between 0.25 s and 10 s. */
export function probeInterval(timeoutMs: number): number {
  return Math.min(10_000, Math.max(250, Math.floor(timeoutMs / 4)));
}

export function startContactGuard(o: ContactGuardOptions): ContactGuard {
  const everyMs = o.everyMs ?? probeInterval(o.timeoutMs);
  const probeTimeoutMs = o.probeTimeoutMs ?? everyMs;
  const abort = new AbortController();
  let lastAnswer = Date.now();
  let lastTick = lastAnswer;
  // The probe in flight (at most one), and since when it counts.
  let pending: { since: number } | undefined;
  let lastFailed = false;
  let closed = false;

  const send = () => {
    const p = { since: Date.now() };
    pending = p;
    o.probe().then(
      () => {
        if (pending === p) pending = undefined;
        lastAnswer = Math.max(lastAnswer, Date.now());
        lastFailed = false;
      },
      () => {
        if (pending === p) pending = undefined;
        lastFailed = true;
      },
    );
  };

  const tick = () => {
    if (closed || abort.signal.aborted) return;
    const now = Date.now();
    if (now - lastTick > 2 * everyMs) {
      // The event loop stalled: nothing measured across the stall counts against the network.
      lastAnswer = Math.max(lastAnswer, now);
      if (pending) pending.since = now;
      lastTick = now;
      return;
    }
    lastTick = now;
    const failing = lastFailed || (pending !== undefined && now - pending.since > probeTimeoutMs);
    const silentMs = now - lastAnswer;
    if (failing && silentMs > o.timeoutMs) {
      // to the millisecond: rounded to 0.1 s, 4,030 ms silent read "4.0 s", not over a 4.0 s timeout
      const reason =
        `superseded: no contact with Temporal for ${(silentMs / 1000).toFixed(3)} s ` +
        `(heartbeat timeout ${(o.timeoutMs / 1000).toFixed(1)} s), the retry runs elsewhere`;
      close();
      abort.abort(new Error(reason));
      o.onStop?.(reason);
      return;
    }
    if (!pending) send();
    else if (now - pending.since > probeTimeoutMs) send(); // a hung probe is superseded by a fresh one
  };

  const timer = setInterval(tick, everyMs);
  timer.unref();
  const close = () => {
    closed = true;
    clearInterval(timer);
  };
  send();
  return { signal: abort.signal, close };
}

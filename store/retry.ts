import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Called before each wait, e.g. to log "S3 unreachable, retrying in 2s". */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 8, baseDelayMs: 250, maxDelayMs: 8_000 };

/** Errors worth retrying: the network or the server failed, not the request (auth, missing key, bad input). */
export function isTransient(err: unknown): boolean {
  const e = err as {
    code?: string;
    name?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (status === 429) return true;
  if (e?.$retryable) return true;
  const code = e?.code ?? '';
  if (
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(
      code,
    )
  )
    return true;
  const name = e?.name ?? '';
  return ['TimeoutError', 'RequestTimeout', 'SlowDown', 'ServiceUnavailable', 'InternalError'].includes(name);
}

/** Runs `op` until it succeeds, a non-transient error occurs, or attempts run out; exponential backoff with jitter. */
export async function withRetry<T>(op: () => Promise<T>, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt >= options.attempts || !isTransient(err)) throw err;
      const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      const delay = cap / 2 + Math.random() * (cap / 2);
      options.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}

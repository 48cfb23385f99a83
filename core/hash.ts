import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every depth, so that equal values always serialize (and hash) the same.
 * `undefined` members are dropped, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Short, stable hash of any JSON value: the content address of whatever those inputs produce. */
export function hashOf(value: unknown, length = 16): string {
  return sha256Hex(canonicalJson(value)).slice(0, length);
}

import { InvalidArtifactKeyError } from '../common/errors';
import { hashOf } from '../core/hash';

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._=+-]*$/;

/** Rejects keys that could escape a prefix or a folder: '..', absolute paths, empty or odd segments. */
export function assertValidKey(key: string): void {
  if (key.length === 0 || key.length > 900)
    throw new InvalidArtifactKeyError(`invalid artifact key (length ${key.length}): ${key.slice(0, 80)}`);
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment) || segment === '..' || segment.includes('..')) {
      throw new InvalidArtifactKeyError(
        `invalid artifact key "${key}": segment "${segment}" must match ${SEGMENT.source}`,
      );
    }
  }
}

/** Prefix check for list(): '' or a valid key, optionally ending in '/'. */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  assertValidKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

/**
 * Content address of a stage's output: `<kind>/<hash of every input that changes the output>`.
 * Include the stage's code version in `inputs` so that a changed algorithm never reuses stale results.
 */
export function contentKey(kind: string, inputs: unknown): string {
  const key = `${kind}/${hashOf(inputs)}`;
  assertValidKey(key);
  return key;
}

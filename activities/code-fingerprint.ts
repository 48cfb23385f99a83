import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';

const ROOT = path.resolve(__dirname, '..');
/** The code results and reports are computed with: the pure core, the shared contracts, the locked dependencies. */
const SOURCES = ['core', 'common'];
const LOCKFILE = 'package-lock.json';

let cached: string | undefined;

/**
 * A hash of every source file under core/ and common/ and of the lockfile, as this worker has them on disk: a
 * report rendered by other code is rendered again, with nobody having to remember to bump a version. Where the
 * sources cannot be read, a value no stored stamp can hold, so nothing is ever reused by mistake.
 */
export function codeFingerprint(): string {
  if (cached !== undefined) return cached;
  try {
    const hash = createHash('sha256');
    const files = SOURCES.flatMap((dir) =>
      readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => /\.(ts|cjs|json)$/.test(f))
        .map((f) => path.join(dir, f)),
    )
      .concat(LOCKFILE)
      .sort();
    for (const f of files)
      hash
        .update(`${f}\0`)
        .update(readFileSync(path.join(ROOT, f)))
        .update('\0');
    cached = hash.digest('hex');
  } catch (err) {
    cached = `unreadable-${process.pid}-${Date.now()}: ${String(err)}`;
  }
  return cached;
}

/**
 * What the bench scripts share: activities called outside a worker (as a plain loop would call them), and the
 * files a run left in a local store folder.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** Runs one activity function with a mock activity context: heartbeats go nowhere, cancellation never comes. */
export async function callActivity<R>(fn: () => Promise<R>): Promise<R> {
  return new MockActivityEnvironment().run(fn);
}

/** Every file under `dir`, as paths, sorted (a stable order for hashing). */
export async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** Bytes of every file under `dir`. */
export async function folderBytes(dir: string): Promise<number> {
  let n = 0;
  for (const file of await filesUnder(dir)) n += (await stat(file)).size;
  return n;
}

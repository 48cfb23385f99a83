import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import type { S3StoreConfig } from '../../store/s3-store';

/** The services test/run-tests.ts started, read from the environment; throws with a hint when absent. */
export function testServices(): {
  temporalAddress: string;
  s3: Required<Pick<S3StoreConfig, 'bucket' | 'endpoint' | 'credentials'>>;
} {
  const e = process.env;
  if (!e.BGSTUDY_TEST_TEMPORAL_ADDRESS || !e.BGSTUDY_TEST_S3_ENDPOINT) {
    throw new Error('integration tests need the services started by `npm test` (test/run-tests.ts)');
  }
  return {
    temporalAddress: e.BGSTUDY_TEST_TEMPORAL_ADDRESS,
    s3: {
      bucket: e.BGSTUDY_TEST_S3_BUCKET ?? 'bgstudy',
      endpoint: e.BGSTUDY_TEST_S3_ENDPOINT,
      credentials: {
        accessKeyId: e.BGSTUDY_TEST_S3_ACCESS_KEY ?? '',
        secretAccessKey: e.BGSTUDY_TEST_S3_SECRET_KEY ?? '',
      },
    },
  };
}

/** A fresh temporary folder for one test. */
export async function tempDir(prefix = 'bgstudy-'): Promise<string> {
  return mkdtemp(path.join(process.env.BGSTUDY_TEST_WORK ?? os.tmpdir(), prefix));
}

/** Where a test may leave files for people to look at (screenshots, reports). */
export function testOutputDir(): string {
  return process.env.BGSTUDY_TEST_OUTPUT ?? path.resolve(__dirname, '..', '..', 'test-output');
}

/** A unique id per test run, for task queues, prefixes and workflow ids. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}

/** Runs fn with these environment variables set (undefined: unset), then puts the old values back. */
export async function withEnv<T>(
  vars: Record<string, string | undefined>,
  fn: () => T | Promise<T>,
): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

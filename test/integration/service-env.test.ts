import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { startLocalS3 } from '../../infra/s3-server';
import { startTemporalDevServer } from '../../infra/temporal-server';
import { tempDir } from '../helpers/env';

/** The environment a running process was started with, from /proc (Linux). */
async function environOf(pid: number): Promise<Map<string, string>> {
  const raw = await readFile(`/proc/${pid}/environ`, 'utf8');
  return new Map(
    raw
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

test(
  'the Temporal dev server and versitygw get only the environment they need: no secret of the caller',
  { timeout: 120_000 },
  async () => {
    const planted = {
      TEMPORAL_API_KEY: 'planted-temporal-api-key',
      AWS_SECRET_ACCESS_KEY: 'planted-aws-secret',
      BGSTUDY_SOMETHING_SECRET: 'planted-other-secret',
    };
    const saved = Object.fromEntries(Object.keys(planted).map((k) => [k, process.env[k]]));
    Object.assign(process.env, planted);
    const work = await tempDir();
    try {
      const s3 = await startLocalS3({ dataDir: path.join(work, 's3'), logDir: work });
      // a dev server that fails to start must not leave versitygw running (it would hold this test open)
      const temporal = await startTemporalDevServer({
        dbFile: path.join(work, 'temporal.db'),
        logDir: work,
        headless: true,
      }).catch(async (err: unknown) => {
        await s3.stop();
        throw err;
      });
      try {
        for (const [name, pid] of [
          ['versitygw', s3.process.child.pid!],
          ['temporal', temporal.process.child.pid!],
        ] as const) {
          const env = await environOf(pid);
          const text = [...env].join('\n');
          for (const [k, v] of Object.entries(planted)) {
            assert.ok(!env.has(k), `${name} has no ${k}`);
            assert.ok(!text.includes(v), `${name}'s environment holds no planted secret`);
          }
          assert.equal(env.get('PATH'), process.env.PATH, `${name} still finds programs`);
        }
        // versitygw gets its own root credentials, which it needs
        assert.ok((await environOf(s3.process.child.pid!)).has('ROOT_SECRET_ACCESS_KEY'));
      } finally {
        await temporal.stop();
        await s3.stop();
      }
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  },
);

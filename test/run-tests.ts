/**
 * `npm test`: starts the real services once (a Temporal dev server and versitygw, on free ports, with fresh
 * data folders), hands their addresses to the tests through the environment, runs every test file with
 * Node's test runner, then stops the services. `npm test -- --unit` runs only test/unit (no services);
 * `npm test -- path/to/a.test.ts ...` runs the named files.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startLocalS3 } from '../infra/s3-server';
import { startTemporalDevServer } from '../infra/temporal-server';

// The pinned AWS SDK warns that its future versions need Node 22; that is noise in test logs.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function findTests(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await findTests(p)));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const unitOnly = args.includes('--unit');
  const named = args.filter((a) => !a.startsWith('--'));
  const root = path.resolve(__dirname, '..');
  const files = named.length
    ? named.map((f) => path.resolve(f))
    : [
        ...(await findTests(path.join(root, 'test/unit'))),
        ...(unitOnly ? [] : await findTests(path.join(root, 'test/integration'))),
      ];
  const needsServices = files.some((f) => f.includes(`${path.sep}integration${path.sep}`));

  const outputDir = path.join(root, 'test-output');
  await mkdir(outputDir, { recursive: true });
  const work = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-test-'));
  const logDir = path.join(outputDir, 'logs');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BGSTUDY_TEST_OUTPUT: outputDir,
    BGSTUDY_TEST_WORK: work,
    // tests write their model files to temp folders; the fixtures are in the repository
    BGSTUDY_MODEL_DIRS: [path.join(root, 'test', 'fixtures', 'models'), os.tmpdir()].join(path.delimiter),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const stops: (() => Promise<void>)[] = [];
  try {
    if (needsServices) {
      const t0 = Date.now();
      const [temporal, s3] = await Promise.all([
        startTemporalDevServer({ dbFile: path.join(work, 'temporal.db'), logDir, headless: true }),
        startLocalS3({ dataDir: path.join(work, 's3'), logDir }),
      ]);
      stops.push(
        () => temporal.stop(),
        () => s3.stop(),
      );
      Object.assign(env, {
        BGSTUDY_TEST_TEMPORAL_ADDRESS: temporal.address,
        BGSTUDY_TEST_S3_ENDPOINT: s3.endpoint,
        BGSTUDY_TEST_S3_BUCKET: s3.bucket,
        BGSTUDY_TEST_S3_ACCESS_KEY: s3.credentials.accessKeyId,
        BGSTUDY_TEST_S3_SECRET_KEY: s3.credentials.secretAccessKey,
      });
      console.log(
        `services up in ${Date.now() - t0} ms: temporal ${temporal.address}, s3 ${s3.endpoint} (logs: ${logDir})`,
      );
    }
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
      { env, stdio: 'inherit', cwd: root },
    );
    const onSignal = () => child.kill('SIGTERM');
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    return await new Promise<number>((resolve) =>
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))),
    );
  } finally {
    for (const stop of stops) await stop().catch((err: unknown) => console.error(err));
    await rm(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

import type { Command } from 'commander';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/config';
import { startLocalS3 } from '../../infra/s3-server';
import { temporalHealthy } from '../../infra/temporal-server';
import { ensureLocalTemporal } from '../../infra/local-temporal';

interface ServicesFile {
  temporal?: { pid: number; address: string; uiUrl?: string };
  s3?: { pid: number; endpoint: string; bucket: string };
}

/** `bgstudy services up|down|status`: the local Temporal dev server (and optionally versitygw) in the background. */
export function registerServices(program: Command): void {
  const services = program
    .command('services')
    .description('start or stop the local Temporal dev server (UI on :8233) and versitygw in the background');
  const stateFile = () => path.join(loadConfig().homeDir, 'services.json');

  services
    .command('up')
    .description(
      'start the Temporal dev server on localhost:7233 (state in .bgstudy/temporal.db) and, with --s3, versitygw',
    )
    .option('--s3', 'also start versitygw (S3 on 127.0.0.1:7070, data in .bgstudy/s3)')
    .action(async (opts: { s3?: boolean }) => {
      const config = loadConfig();
      const state: ServicesFile = JSON.parse(
        await readFile(stateFile(), 'utf8').catch(() => '{}'),
      ) as ServicesFile;
      const temporal = await ensureLocalTemporal({ homeDir: config.homeDir, detached: true });
      if (temporal.started)
        state.temporal = { pid: temporal.pid ?? 0, address: temporal.address, uiUrl: temporal.uiUrl };
      console.log(`Temporal: ${temporal.address}  UI: ${temporal.uiUrl ?? 'http://localhost:8233'}`);
      if (opts.s3) {
        const s3 = await startLocalS3({
          dataDir: path.join(config.homeDir, 's3'),
          logDir: path.join(config.homeDir, 'logs'),
          port: 7070,
          detached: true,
          credentials: {
            accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'bgstudy-local',
            secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'bgstudy-local-secret',
          },
        });
        state.s3 = { pid: s3.process.child.pid ?? 0, endpoint: s3.endpoint, bucket: s3.bucket };
        console.log(
          `S3: ${s3.endpoint} bucket ${s3.bucket}; use BGSTUDY_STORE=s3 BGSTUDY_S3_ENDPOINT=${s3.endpoint} ` +
            `BGSTUDY_S3_BUCKET=${s3.bucket} ` +
            (process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY
              ? 'with the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY set here'
              : // None set: the server uses the built-in local pair (not a secret: it is in this file).
                'AWS_ACCESS_KEY_ID=bgstudy-local AWS_SECRET_ACCESS_KEY=bgstudy-local-secret (built-in local ' +
                'credentials; set both before `services up` to choose your own)'),
        );
      }
      await writeFile(stateFile(), JSON.stringify(state, null, 1));
    });

  services
    .command('down')
    .description('stop what `services up` started')
    .action(async () => {
      const state = JSON.parse(await readFile(stateFile(), 'utf8').catch(() => '{}')) as ServicesFile;
      for (const [name, s] of Object.entries(state) as [string, { pid: number } | undefined][]) {
        if (!s?.pid) continue;
        try {
          process.kill(s.pid, 'SIGTERM');
          console.log(`stopped ${name} (pid ${s.pid})`);
        } catch {
          console.log(`${name} (pid ${s.pid}) was not running`);
        }
      }
      await rm(stateFile(), { force: true });
    });

  services
    .command('status')
    .description('is the local Temporal server answering?')
    .action(async () => {
      const address = loadConfig().temporal.address;
      console.log(`Temporal at ${address}: ${(await temporalHealthy(address)) ? 'up' : 'down'}`);
    });
}

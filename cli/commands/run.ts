import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Command } from 'commander';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runStatuses } from '../../client/progress-details';
import { startStudy } from '../../client/start-study';
import { loadConfig } from '../../config/config';
import { validateStudySpec } from '../../core/spec/validate';
import { ensureLocalTemporal } from '../../infra/local-temporal';
import { tfjsNodeInstalled } from '../../infra/tfjs-node-native';
import { createStore } from '../../store';
import { s3PrefixOpener } from '../../store/s3-prefix-opener';
import { startInProcessWorkers } from '../../workers/in-process';
import { installRuntime } from '../../workers/runtime';
import { progressQuery } from '../../workflows';
import { ProgressView } from '../progress-view';
import { presetOption, readSpecFile } from '../spec-file';
import { addTrainingOptions, applyTrainingOptions } from '../training-options';

export function registerRun(program: Command): void {
  addTrainingOptions(program.command('run'))
    .description(
      'run a study on this machine: a local Temporal dev server (started if none answers), workers in this ' +
        'process, artifacts in the configured store; Ctrl-C leaves the study resumable',
    )
    .option('--preset <name>', 'a preset from presets/', 'quick')
    .option('--spec <file>', 'a study spec JSON file (instead of --preset)')
    .action(async (opts: { preset: string; spec?: string; backend?: string; workers?: string }) => {
      applyTrainingOptions(opts);
      await runEmbedded(opts);
    });
}

async function runEmbedded(opts: { preset: string; spec?: string }): Promise<void> {
  installRuntime();
  const config = loadConfig();
  const spec = validateStudySpec(await readSpecFile(opts));
  const temporal = await ensureLocalTemporal({
    homeDir: config.homeDir,
    address: process.env.TEMPORAL_ADDRESS,
  });
  const store = createStore(config.store);
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  if (!process.env.BGSTUDY_BACKEND && !tfjsNodeInstalled())
    console.error(
      'training on wasm: `npm run setup` builds tfjs-node from PyPI (2-6x faster training on CPU; once, ~210 MB)',
    );
  const reportRoot = path.join(config.homeDir, 'reports');
  const workers = await startInProcessWorkers({
    connection: nativeConnection,
    store,
    reportRoot,
    cacheDir: path.join(config.homeDir, 'cache'),
    openS3: s3PrefixOpener(config.store),
  });
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    console.error(
      '\ninterrupted: stopping workers; the study stays in Temporal and resumes when you run this again',
    );
    void workers.stop();
  };
  process.once('SIGINT', onSigint);
  const view = new ProgressView();
  try {
    const handle = await startStudy(client, spec, { workflowOptions: presetOption(opts) });
    console.error(`study ${spec.name}: workflow ${handle.workflowId}`);
    if (temporal.uiUrl) {
      console.error(
        `Temporal UI: ${temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${handle.workflowId}`,
      );
    }
    console.error(`artifacts: ${store.location}`);
    const result = handle.result();
    let finished = false;
    void result.finally(() => (finished = true)).catch(() => undefined);
    while (!finished && !interrupted) {
      const progress = await handle.query(progressQuery).catch(() => undefined);
      if (progress) view.update(progress, await runStatuses(client, progress));
      await Promise.race([result.catch(() => undefined), sleep(1000)]);
    }
    if (interrupted) return;
    view.update(await handle.query(progressQuery), []);
    view.stop();
    const out = await result;
    console.log(`study ${spec.name} ${out.status}: ${out.runs} run(s)`);
    console.log(`results: ${store.location}/${out.resultsKey ?? ''}`);
    console.log(`report: ${out.htmlPath ?? `${store.location}/${out.htmlKey ?? ''}`}`);
  } finally {
    view.stop();
    process.removeListener('SIGINT', onSigint);
    await workers.stop().catch((err: unknown) => console.error(err));
    await connection.close();
    await nativeConnection.close();
    await store.close();
    if (temporal.started) await temporal.stop();
  }
}

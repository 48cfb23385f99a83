import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { connectClient } from '../../client/connect';
import { loadConfig } from '../../config/config';
import { factorSweep, factorSweepMarkdown, factorSweepPage } from '../../core/report/factor-sweep';
import { reportFolderName, writeStudyReport } from '../../core/report/write-report';
import { createStore } from '../../store';
import { progressQuery, type StudyResult } from '../../workflows';
import { resolveStudy } from '../resolve-study';

/** The study hash of a workflow: from its result when it finished, else from its progress query. */
async function workflowStudyHash(workflowId: string): Promise<string | undefined> {
  const client = await connectClient(loadConfig().temporal);
  try {
    const handle = client.workflow.getHandle(workflowId);
    const { status } = await handle.describe();
    if (status.name === 'COMPLETED') return ((await handle.result()) as StudyResult).studyHash;
    return (await handle.query(progressQuery)).studyHash;
  } finally {
    await client.connection.close();
  }
}

/** Opens a file in the desktop's browser; never fails the command (prints what to do instead). */
async function openInBrowser(file: string): Promise<void> {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [file]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', file]]
        : ['xdg-open', [file]];
  await new Promise<void>((resolve) => {
    const child = spawn(cmd, args, { detached: true, stdio: 'ignore' });
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
    child.once('error', (err) => {
      console.error(`could not open a browser (${cmd}: ${err.message}); open ${file} yourself`);
      resolve();
    });
  });
}

/** `bgstudy report <study>`: re-renders a finished study's report from its stored results.json. */
export function registerReport(program: Command): void {
  program
    .command('report <study>')
    .description(
      'regenerate the HTML report (and results.csv, report.md) of a study from its stored results.json; ' +
        '<study> is a spec file, a study hash (or prefix), a study name or a workflow id; prints the report path',
    )
    .option('--out <dir>', 'folder to write into (default: $BGSTUDY_HOME/reports/<name>-<hash>)')
    .option('--open', 'open the report in a browser')
    .action(async (study: string, opts: { out?: string; open?: boolean }) => {
      const config = loadConfig();
      const store = createStore(config.store);
      try {
        const found = await resolveStudy(store, study, workflowStudyHash);
        console.error(
          `study ${found.results.study.name} (${found.studyHash}, by ${found.via}): ${found.resultsKey}`,
        );
        const localDir = path.resolve(
          opts.out ?? path.join(config.homeDir, 'reports', reportFolderName(found.results.study)),
        );
        const written = await writeStudyReport(store, found.results, { toStore: false, localDir });
        for (const p of written.problems) console.error(`warning: ${p}`);
        console.log(written.htmlPath);
        if (opts.open) await openInBrowser(written.htmlPath!);
      } finally {
        await store.close();
      }
    });
}

/**
 * `bgstudy report-factors <study...>`: the class-factors sweep's section over a family of finished studies (one per
 * factor and strength, from bench/class-factors-specs.ts): bg-only accuracy, BG-Gap and saliency share against
 * strength per factor, each with its interval and baseline. Writes factor-sweep.md and factor-sweep.html.
 */
export function registerFactorReport(program: Command): void {
  program
    .command('report-factors <studies...>')
    .description(
      'the class-factors sweep over finished studies (spec files, hashes, names or workflow ids): background-only ' +
        'accuracy, BG-Gap and saliency share against each factor’s strength; prints the HTML path',
    )
    .option('--out <dir>', 'folder to write into (default: $BGSTUDY_HOME/reports/class-factors-sweep)')
    .action(async (studies: string[], opts: { out?: string }) => {
      const config = loadConfig();
      const store = createStore(config.store);
      try {
        const results = [];
        for (const s of studies) results.push((await resolveStudy(store, s, workflowStudyHash)).results);
        const sweep = factorSweep(results);
        for (const e of sweep.excluded) console.error(`left out: ${e.study}: ${e.reason}`);
        const dir = path.resolve(opts.out ?? path.join(config.homeDir, 'reports', 'class-factors-sweep'));
        await mkdir(dir, { recursive: true });
        await writeFile(path.join(dir, 'factor-sweep.md'), factorSweepMarkdown(sweep));
        const html = path.join(dir, 'factor-sweep.html');
        await writeFile(html, factorSweepPage(sweep));
        console.log(html);
      } finally {
        await store.close();
      }
    });
}

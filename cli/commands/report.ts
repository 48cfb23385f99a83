import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { connectClient } from '../../client/connect';
import { loadConfig } from '../../config/config';
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

/**
 * Records workflow histories for the replay test (test/integration/replay.test.ts): runs a small study against
 * a fresh dev server with in-process workers and saves the history of the study and of each of its runs.
 * Rerun after an intentional workflow change that is versioned with `patched()`, and commit the new files
 * beside the old ones (old histories must keep replaying).
 *
 *   npx tsx test/histories/record.ts <name> <spec.json>
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { startStudy } from '../../client/start-study';
import { ensureBinary, TEMPORAL } from '../../infra/binaries';
import { installRuntime } from '../../workers/runtime';
import { startScratchEnv } from '../../workers/scratch-env';

async function main(): Promise<void> {
  const [name, specFile] = process.argv.slice(2);
  if (!name || !specFile) throw new Error('usage: record.ts <name> <spec.json>');
  installRuntime();
  const work = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-record-'));
  const env = await startScratchEnv(work, 'record');
  const { client } = env;
  try {
    const spec = JSON.parse(await readFile(specFile, 'utf8')) as unknown;
    const handle = await startStudy(client, spec, {
      taskQueue: 'record',
      workflowId: `record-${name}`,
      workflowOptions: { gpuTaskQueue: 'record-gpu' },
    });
    await handle.result();
    const ids = [handle.workflowId];
    for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${handle.workflowId}/"` }))
      ids.push(wf.workflowId);
    // Replays need each history's original workflow id (child ids derive from it): kept in workflow-ids.json.
    const indexFile = path.join(__dirname, 'workflow-ids.json');
    const index = JSON.parse(await readFile(indexFile, 'utf8').catch(() => '{}')) as Record<string, string>;
    for (const [i, id] of ids.entries()) {
      // The CLI's JSON is the format historyFromJSON (and the Temporal UI's download) uses.
      const { stdout } = await promisify(execFile)(
        await ensureBinary(TEMPORAL),
        ['workflow', 'show', '--address', env.address, '-w', id, '-o', 'json'],
        { maxBuffer: 256 * 1024 * 1024 },
      );
      const file = path.join(__dirname, `${name}${i === 0 ? '' : `-run${i}`}.json`);
      await writeFile(file, stdout);
      index[path.basename(file)] = id;
      console.log(`${id} -> ${file}`);
    }
    await writeFile(indexFile, `${JSON.stringify(index, null, 2)}\n`);
  } finally {
    await env.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

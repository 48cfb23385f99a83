/**
 * Bundles workflows/ the way workers do (webpack, Temporal's sandbox rules): fails on a Node builtin or a
 * non-deterministic import in workflow code. `--out file.js` writes the bundle for production workers.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFile } from 'node:fs/promises';

async function main(): Promise<void> {
  const outIndex = process.argv.indexOf('--out');
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') });
  if (outIndex > 0 && process.argv[outIndex + 1]) await writeFile(process.argv[outIndex + 1]!, code);
  console.log(`workflow bundle ok (${(code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

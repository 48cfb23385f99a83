/**
 * `npm run setup`: obtains the two service binaries (Temporal CLI, versitygw) into .cache/bin, or confirms
 * the ones already configured, and makes @tensorflow/tfjs-node usable (infra/tfjs-node-native.ts).
 * Used by README, `.ci/run` and the Dockerfile.
 * Options: --tfjs-node auto|required|off (default BGSTUDY_TFJS_NODE, else auto: a failure is reported and
 * training falls back to wasm).
 */
import { parseArgs } from 'node:util';
import { ensureBinary, TEMPORAL, VERSITYGW } from './binaries';
import { ensureTfjsNode } from './tfjs-node-native';
import type { TfjsNodeMode } from './tfjs-node-native';

const MODES: TfjsNodeMode[] = ['auto', 'required', 'off'];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'tfjs-node': { type: 'string' } } });
  const mode = values['tfjs-node'] ?? process.env.BGSTUDY_TFJS_NODE ?? 'auto';
  if (!(MODES as string[]).includes(mode))
    throw new Error(`--tfjs-node (or BGSTUDY_TFJS_NODE) must be one of ${MODES.join(', ')}, not "${mode}"`);
  const log = (l: string) => console.log(`[setup] ${l}`);
  for (const spec of [TEMPORAL, VERSITYGW]) {
    const t0 = Date.now();
    const file = await ensureBinary(spec, { log });
    console.log(`[setup] ${spec.name}: ${file} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  const t0 = Date.now();
  const tfjsNode = await ensureTfjsNode(mode as TfjsNodeMode, log);
  if (tfjsNode) log(`tfjs-node: ${tfjsNode} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

main().catch((err: unknown) => {
  console.error(`[setup] ${(err as Error).message}`);
  process.exit(1);
});

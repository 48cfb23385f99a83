/**
 * `npm run setup`: obtains the two service binaries (Temporal CLI, versitygw) into .cache/bin, or confirms
 * the ones already configured, makes @tensorflow/tfjs-node usable (infra/tfjs-node-native.ts) and builds
 * the libtorch engine where a libtorch is installed (infra/torch-native.ts).
 * Used by README, `.ci/run` and the Dockerfile.
 * Options: --tfjs-node auto|required|off (default BGSTUDY_TFJS_NODE, else auto: a failure is reported and
 * training falls back to wasm); --torch auto|required|off (default BGSTUDY_TORCH, else auto).
 */
import { parseArgs } from 'node:util';
import { ensureBinary, TEMPORAL, VERSITYGW } from './binaries';
import { ensureTfjsNode } from './tfjs-node-native';
import type { TfjsNodeMode } from './tfjs-node-native';
import { ensureTorchAddon, type TorchMode } from './torch-native';

const MODES: TfjsNodeMode[] = ['auto', 'required', 'off'];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'tfjs-node': { type: 'string' }, torch: { type: 'string' } } });
  const mode = values['tfjs-node'] ?? process.env.BGSTUDY_TFJS_NODE ?? 'auto';
  if (!(MODES as string[]).includes(mode))
    throw new Error(`--tfjs-node (or BGSTUDY_TFJS_NODE) must be one of ${MODES.join(', ')}, not "${mode}"`);
  const torchMode = values.torch ?? process.env.BGSTUDY_TORCH ?? 'auto';
  if (!(MODES as string[]).includes(torchMode))
    throw new Error(`--torch (or BGSTUDY_TORCH) must be one of ${MODES.join(', ')}, not "${torchMode}"`);
  const log = (l: string) => console.log(`[setup] ${l}`);
  for (const spec of [TEMPORAL, VERSITYGW]) {
    const t0 = Date.now();
    const file = await ensureBinary(spec, { log });
    console.log(`[setup] ${spec.name}: ${file} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  const t0 = Date.now();
  const tfjsNode = await ensureTfjsNode(mode as TfjsNodeMode, log);
  if (tfjsNode) log(`tfjs-node: ${tfjsNode} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const t1 = Date.now();
  const torch = await ensureTorchAddon(torchMode as TorchMode, log);
  if (torch) log(`libtorch engine: ${torch} (${((Date.now() - t1) / 1000).toFixed(1)} s)`);
}

main().catch((err: unknown) => {
  console.error(`[setup] ${(err as Error).message}`);
  process.exit(1);
});

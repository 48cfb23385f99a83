/**
 * `npm run setup`: obtains the two service binaries (Temporal CLI, versitygw) into .cache/bin, or confirms
 * the ones already configured. Used by README, `.ci/run` and the Dockerfile.
 */
import { ensureBinary, TEMPORAL, VERSITYGW } from './binaries';

async function main(): Promise<void> {
  for (const spec of [TEMPORAL, VERSITYGW]) {
    const t0 = Date.now();
    const file = await ensureBinary(spec, { log: (l) => console.log(`[setup] ${l}`) });
    console.log(`[setup] ${spec.name}: ${file} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
}

main().catch((err: unknown) => {
  console.error(`[setup] ${(err as Error).message}`);
  process.exit(1);
});

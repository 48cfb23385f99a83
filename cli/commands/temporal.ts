import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { ensureBinary, TEMPORAL } from '../../infra/binaries';

/**
 * `bgstudy temporal <args>`: the Temporal CLI this project found or built (BGSTUDY_TEMPORAL_BIN, PATH, the cache
 * folder), so the README's `temporal ...` lines work without installing it; `bgstudy temporal --where` prints
 * its path (to put on PATH).
 */
export function registerTemporal(program: Command): void {
  program
    .command('temporal')
    .description(
      'run the Temporal CLI this project uses (e.g. bgstudy temporal workflow list); --where: its path',
    )
    .helpOption(false)
    .allowUnknownOption()
    .argument('[args...]')
    .action(async (args: string[]) => {
      const bin = await ensureBinary(TEMPORAL);
      if (args[0] === '--where') {
        console.log(bin);
        return;
      }
      const child = spawn(bin, args, { stdio: 'inherit' });
      const code = await new Promise<number>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
      });
      // The CLI's own exit status, as if it had been run directly (scripts and CI check it).
      if (code !== 0) process.exit(code);
    });
}

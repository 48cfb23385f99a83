import type { Command } from 'commander';
import { registerRun } from './run';

/** One line per command file; keep them in the order `bgstudy --help` should show. */
export function registerCommands(program: Command): void {
  registerRun(program);
}

import type { Command } from 'commander';
import { registerData } from './data';
import { registerRun } from './run';
import { registerVariants } from './variants';
import { registerWorker } from './worker';

/**
 * One line per command file (each exports `registerX(program)`); keep them in the order `bgstudy --help`
 * should show.
 */
export function registerCommands(program: Command): void {
  registerRun(program);
  registerWorker(program);
  registerData(program);
  registerVariants(program);
}

import type { Command } from 'commander';

/**
 * One line per command file (each exports `registerX(program)`); keep them in the order `bgstudy --help`
 * should show.
 */
export function registerCommands(_program: Command): void {}

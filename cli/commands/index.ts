import type { Command } from 'commander';
import { registerData } from './data';
import { registerMasks } from './masks';
import { registerFactorReport, registerReport } from './report';
import { registerRun } from './run';
import { registerSchedule } from './schedule';
import { registerServices } from './services';
import { registerStudyControl } from './study-control';
import { registerTemporal } from './temporal';
import { registerVariants } from './variants';
import { registerWorker } from './worker';

/**
 * One line per command file (each exports `registerX(program)`); keep them in the order `bgstudy --help`
 * should show.
 */
export function registerCommands(program: Command): void {
  registerRun(program);
  registerStudyControl(program);
  registerReport(program);
  registerFactorReport(program);
  registerSchedule(program);
  registerWorker(program);
  registerServices(program);
  registerTemporal(program);
  registerData(program);
  registerMasks(program);
  registerVariants(program);
}

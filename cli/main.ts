import { Command } from 'commander';
import { configureEngineFromEnv } from '../config/engine';
import { registerCommands } from './commands';

/** Builds the `bgstudy` program; each command lives in its own file under cli/commands/. */
export function buildProgram(): Command {
  const program = new Command()
    .name('bgstudy')
    .description(
      'How much does a classifier rely on the background? Durable backgrounds studies on Temporal.',
    )
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // Engine settings (BGSTUDY_BACKEND and the like) are read here once; --backend/--workers amend them.
  configureEngineFromEnv();
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) return e.exitCode ?? 1;
    throw err;
  }
}

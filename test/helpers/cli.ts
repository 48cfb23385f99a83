import { buildProgram } from '../../cli/main';

/** Runs `bgstudy <args>` in this process and returns what it printed with console.log. */
export async function cli(args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  try {
    await buildProgram().parseAsync(['node', 'bgstudy', ...args]);
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

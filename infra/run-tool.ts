import { spawn } from 'node:child_process';

/** Runs a command to its end and returns its exit code with stdout and stderr interleaved. */
export function runTool(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b.toString()));
    child.stderr.on('data', (b: Buffer) => out.push(b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, out: out.join('') }));
  });
}

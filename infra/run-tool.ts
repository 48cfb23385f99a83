import { spawn } from 'node:child_process';

/**
 * Runs a command to its end and returns its exit code with stdout and stderr interleaved. `onLine` sees each
 * output line as it arrives (progress of a long build).
 */
export function runTool(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; onLine?: (line: string) => void } = {},
): Promise<{ code: number; out: string }> {
  const { onLine, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    let partial = '';
    const collect = (b: Buffer) => {
      const text = b.toString();
      out.push(text);
      if (!onLine) return;
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l.trim()) onLine(l);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, out: out.join('') }));
  });
}

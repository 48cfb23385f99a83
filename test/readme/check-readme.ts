/**
 * `npm run check:readme`: runs every command README.md shows (test/readme/readme-commands.ts) as a reader types
 * it, in the repository, with this shell's environment, against the local dev server the README starts, and
 * fails on the first error, naming the README line. Rules (test/readme/readme-rules.ts) say which lines need
 * stand-in input files and which cannot run here, and why. .ci/run runs it right after `npm ci && npm start`,
 * so the study those commands look at is in `.bgstudy/`. The blocks run first (they start the dev server and
 * the workers), then the tables' commands.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readmeCommands, type ReadmeCommand } from './readme-commands';
import { writeReadmeInputs } from './readme-inputs';
import { ruleFor, type Rule, type RuleContext } from './readme-rules';

const repo = path.resolve(__dirname, '..', '..');

/** Starts a command with bash in the repository, in its own process group, collecting stdout + stderr. */
function startBash(command: string): { child: ChildProcess; output: () => string } {
  const child = spawn('bash', ['-c', command], {
    cwd: repo,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

/** Runs a command with bash in the repository; resolves with stdout + stderr, rejects on failure or timeout. */
function sh(command: string, timeoutS = 900): Promise<string> {
  return new Promise((resolve, reject) => {
    const { child, output } = startBash(command);
    const timer = setTimeout(() => killGroup(child), timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output());
      else reject(new Error(`\`${command}\` exited with ${code ?? signal}:\n${output().slice(-4000)}`));
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
}

/** The command with its placeholders filled and its input words pointed at the stand-ins. */
function resolveCommand(c: ReadmeCommand, rule: Rule, ctx: RuleContext): string {
  let text = c.text.replace(/ \[--open\]/, '');
  for (const [placeholder, from] of Object.entries(rule.values ?? {}))
    text = text.replaceAll(placeholder, ctx.values[from] ?? from);
  for (const [placeholder, value] of Object.entries(ctx.values)) text = text.replaceAll(placeholder, value);
  const left = /<[^>]+>/.exec(text);
  if (left) throw new Error(`README.md:${c.line}: nothing printed so far gives ${left[0]} a value`);
  const inputs = rule.inputs ?? {};
  text = text
    .split(' ')
    .map((w, i, words) =>
      // only an option's value: `--masks pixel-imagenet` is a path, `import pixel-imagenet` a source
      w in inputs && words[i - 1]?.startsWith('-') ? path.join(ctx.inputs, inputs[w]!) : w,
    )
    .join(' ');
  return rule.background ? text.replace(/\s*&$/, '') : text;
}

async function main(): Promise<number> {
  const commands = readmeCommands(await readFile(path.join(repo, 'README.md'), 'utf8'));
  const ordered = [
    ...commands.filter((c) => c.from === 'block'),
    ...commands.filter((c) => c.from === 'table'),
  ];
  const inputs = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-readme-'));
  const cleanups: (() => Promise<unknown>)[] = [];
  const background: { child: ChildProcess; c: ReadmeCommand; log: () => string }[] = [];
  const ctx: RuleContext = { inputs, values: {}, sh, onExit: (f) => cleanups.push(f) };
  let ran = 0;
  let failed: string | undefined;
  try {
    await writeReadmeInputs(inputs, repo);
    for (const c of ordered) {
      const rules = ruleFor(c.text);
      if (rules.length !== 1)
        throw new Error(`README.md:${c.line}: ${rules.length} rules match \`${c.text}\``);
      const rule = rules[0]!;
      if (rule.skip) {
        console.log(`- README.md:${c.line} skipped (${rule.skip}): ${c.text}`);
        continue;
      }
      await rule.before?.(ctx);
      const command = resolveCommand(c, rule, ctx);
      const t0 = Date.now();
      if (rule.background) {
        const { child, output } = startBash(command);
        background.push({ child, c, log: output });
        console.log(`+ README.md:${c.line} started in the background: ${command}`);
        ran++;
        continue;
      }
      let out: string;
      try {
        out = await sh(command);
      } catch (e) {
        throw new Error(`README.md:${c.line}: ${(e as Error).message}`, { cause: e });
      }
      const key = [...out.matchAll(/manifest: \S*?(datasets\/\S+\/manifest\.json)/g)].pop()?.[1];
      if (key) ctx.values['<manifestKey>'] = key;
      if (rule.expect && !rule.expect.test(out))
        throw new Error(
          `README.md:${c.line}: \`${command}\` printed no ${rule.expect}:\n${out.slice(-3000)}`,
        );
      try {
        await rule.after?.(out, ctx);
      } catch (e) {
        throw new Error(`README.md:${c.line}: after \`${command}\`: ${(e as Error).message}`, { cause: e });
      }
      if (command.includes(path.join(inputs, 'sheet.png'))) await stat(path.join(inputs, 'sheet.png'));
      console.log(`+ README.md:${c.line} ok in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${c.text}`);
      ran++;
    }
    for (const b of background)
      if (b.child.exitCode !== null || b.child.signalCode !== null)
        throw new Error(`README.md:${b.c.line}: \`${b.c.text}\` died:\n${b.log().slice(-3000)}`);
  } catch (e) {
    failed = (e as Error).message;
  } finally {
    for (const b of background) killGroup(b.child);
    await Promise.all(
      background.map(
        (b) =>
          new Promise<void>((r) => {
            if (b.child.exitCode !== null || b.child.signalCode !== null) return r();
            const t = setTimeout(() => (killGroup(b.child, 'SIGKILL'), r()), 15_000);
            b.child.on('close', () => (clearTimeout(t), r()));
          }),
      ),
    );
    for (const f of cleanups.reverse()) await f().catch((e: Error) => console.error(`cleanup: ${e.message}`));
    await rm(inputs, { recursive: true, force: true });
  }
  if (failed) {
    console.error(`README check failed after ${ran} command(s):\n${failed}`);
    return 1;
  }
  console.log(
    `README check: ${ran} command(s) ran as written, ${commands.length - ran} skipped with a reason`,
  );
  return 0;
}

main().then((code) => process.exit(code));

/**
 * The shell commands README.md shows a reader: every line of its ```bash blocks (continuations joined, comments
 * dropped) and every `npx bgstudy …` in its tables. test/readme/check-readme.ts runs them; the unit test checks
 * that each one has a rule, so a command added to the README cannot escape the check.
 */

export interface ReadmeCommand {
  /** 1-based line of README.md where the command starts. */
  line: number;
  /** The command as a reader would type it, without its trailing comment. */
  text: string;
  /** `block`: a line of a ```bash block; `table`: inline code in a table row. */
  from: 'block' | 'table';
}

/** `cmd  # comment` → `cmd`: a `#` that starts a word outside quotes begins a comment, as in bash. */
export function stripComment(line: string): string {
  let quote: string | undefined;
  let wordStart = true;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    const startsWord = wordStart;
    wordStart = false;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '#' && startsWord) return line.slice(0, i).trimEnd();
    else wordStart = /\s/.test(c);
  }
  return line.trimEnd();
}

export function readmeCommands(markdown: string): ReadmeCommand[] {
  const lines = markdown.split('\n');
  const out: ReadmeCommand[] = [];
  let fence: string | undefined;
  let pending: { line: number; text: string } | undefined;
  for (const [i, raw] of lines.entries()) {
    const open = /^```(\w*)\s*$/.exec(raw);
    if (open && fence === undefined) {
      fence = open[1] ?? '';
      continue;
    }
    if (fence !== undefined) {
      if (/^```\s*$/.test(raw)) {
        fence = undefined;
        continue;
      }
      if (fence !== 'bash') continue;
      const text = stripComment(raw);
      const joined = pending ? `${pending.text} ${text.trim()}` : text;
      const start = pending?.line ?? i + 1;
      if (joined.endsWith('\\')) {
        pending = { line: start, text: joined.slice(0, -1).trimEnd() };
        continue;
      }
      pending = undefined;
      if (joined.trim()) out.push({ line: start, text: joined.trim(), from: 'block' });
      continue;
    }
    if (!raw.startsWith('|')) continue;
    for (const m of raw.matchAll(/`([^`]+)`/g)) {
      const code = m[1]!.trim();
      if (/^(npx bgstudy|npm (start|test|run)\b)/.test(code))
        out.push({ line: i + 1, text: code, from: 'table' });
    }
  }
  return out;
}

import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const RESULTS_FILE = path.join(__dirname, 'RESULTS.md');

/** One line naming the machine, for every section of bench/RESULTS.md. */
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
}

/**
 * Replaces (or appends) the block between `<!-- name:start -->` and `<!-- name:end -->` in bench/RESULTS.md, so
 * each benchmark rewrites only its own section.
 */
export function writeSection(name: string, markdown: string, file = RESULTS_FILE): void {
  const block = `<!-- ${name}:start -->\n${markdown.trim()}\n<!-- ${name}:end -->`;
  let old: string;
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    old = '# Benchmarks\n';
  }
  const re = new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->`);
  writeFileSync(file, re.test(old) ? old.replace(re, block) : `${old.trimEnd()}\n\n${block}\n`);
}

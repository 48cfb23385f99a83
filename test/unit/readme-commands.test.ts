import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { readmeCommands, stripComment } from '../readme/readme-commands';
import { RULES, ruleFor } from '../readme/readme-rules';

test('README parsing: continuations joined, comments dropped outside quotes, table commands found', () => {
  const md = [
    'text `npx bgstudy not-a-table`',
    '```bash',
    'npx bgstudy a --x "0 2 * * *"   # a comment',
    'npx bgstudy b --query \'A="#x"\' \\',
    '  --more 1',
    '# only a comment',
    '```',
    '```json',
    '{ "npx": 1 }',
    '```',
    '| what | command |',
    '| a | `npx bgstudy status <workflow-id>` (or `bgstudy x`) and `npm start` |',
  ].join('\n');
  assert.deepEqual(readmeCommands(md), [
    { line: 3, text: 'npx bgstudy a --x "0 2 * * *"', from: 'block' },
    { line: 4, text: 'npx bgstudy b --query \'A="#x"\' --more 1', from: 'block' },
    { line: 12, text: 'npx bgstudy status <workflow-id>', from: 'table' },
    { line: 12, text: 'npm start', from: 'table' },
  ]);
  assert.equal(stripComment('a\\ #b # c'), 'a\\ #b');
});

test('every command README.md shows has exactly one rule, and every rule matches a README command', async () => {
  const readme = await readFile(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const commands = readmeCommands(readme);
  assert.ok(commands.length >= 30, `only ${commands.length} commands found`);
  for (const c of commands)
    assert.equal(ruleFor(c.text).length, 1, `README.md:${c.line}: \`${c.text}\` needs exactly one rule`);
  for (const r of RULES)
    assert.ok(
      commands.some((c) => r.match.test(c.text)),
      `rule ${r.match} matches no README command`,
    );
  // the check runs what a newcomer can run here; only other people's infrastructure is excused
  const ran = commands.filter((c) => !ruleFor(c.text)[0]!.skip).length;
  assert.ok(ran >= 25, `only ${ran} README commands are run`);
});

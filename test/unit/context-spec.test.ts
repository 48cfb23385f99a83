import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Client } from '@temporalio/client';
import { SpecValidationError } from '../../common/errors';
import { trainRunInputSchema } from '../../activities/train';
import { startStudy } from '../../client/start-study';
import { contextOfItems, cooccurringContext, parseContextFile } from '../../core/data/context-labels';
import type { ItemMeta } from '../../core/data/manifest';
import { syntheticSourceSchema } from '../../core/data/source-spec';
import { drawSynthetic } from '../../core/data/synthetic';
import { planStudy } from '../../core/spec/plan';
import { parseStudySpec } from '../../core/spec/study-spec';
import { validateStudySpec } from '../../core/spec/validate';
import { runInputOf } from '../../workflows/run-inputs';

const synthetic = {
  version: 1,
  name: 'ctx',
  dataset: { source: 'synthetic', classes: 3, perClass: { train: 4, val: 2 }, size: 16 },
  variants: ['original', 'mixed_same', 'mixed_rand', 'only_fg', 'generic_bg'],
  train: [{ on: ['original'], epochs: 1 }],
};
const folder = {
  ...synthetic,
  dataset: { source: 'folder', path: '/data/imgs', maskPath: '/data/masks' },
  variants: ['original', 'mixed_rand'],
};
const withContext = (context: unknown, extra: object = {}) => ({
  ...synthetic,
  train: [{ on: ['original'], epochs: 1, context }],
  ...extra,
});

/** The field paths a refused spec names (one per problem line). */
function refusedFields(spec: unknown): string[] {
  try {
    validateStudySpec(spec);
  } catch (e) {
    assert.ok(e instanceof SpecValidationError, String(e));
    return [...e.message.matchAll(/^ {2}- ([^:]+):/gm)].map((m) => m[1]!);
  }
  return [];
}

void test('a context head that cannot run is refused by the schema or the plan, naming the field', () => {
  const cases: [unknown, string][] = [
    [withContext({ label: 'sea' }), 'train.0.context.label'],
    [withContext({ label: 'background', weight: 0 }), 'train.0.context.weight'],
    [withContext({ label: 'background', extra: 1 }), 'train.0.context'],
    [withContext({ label: 'file' }), 'train.0.context.file'],
    [withContext({ label: 'background', file: 'x.csv' }), 'train.0.context.file'],
    // synthetic data knows its labels; a file is for real data
    [withContext({ label: 'file', file: 'x.csv' }), 'train.0.context.file'],
    // a co-occurring object that is never drawn gives a constant label
    [withContext({ label: 'cooccurring' }), 'train.0.context.label'],
    // real data has no generator to ask
    [{ ...folder, train: [{ on: ['original'], context: { label: 'background' } }] }, 'train.0.context.label'],
    // images without their own background
    [{ ...synthetic, train: [{ on: ['only_fg'], context: { label: 'background' } }] }, 'train.0.on'],
    [{ ...synthetic, train: [{ on: ['generic_bg'], context: { label: 'background' } }] }, 'train.0.on'],
  ];
  for (const [spec, field] of cases) assert.deepEqual(refusedFields(spec), [field], JSON.stringify(spec));
  // and these run
  assert.deepEqual(refusedFields(withContext({ label: 'background' })), []);
  assert.deepEqual(
    refusedFields(
      withContext(
        { label: 'cooccurring', weight: 0.5 },
        { dataset: { ...synthetic.dataset, factors: { distractor: 0.8 } } },
      ),
    ),
    [],
  );
  assert.deepEqual(
    refusedFields({ ...folder, train: [{ on: ['mixed_rand'], context: { label: 'file', file: '/l.csv' } }] }),
    [],
  );
});

void test('a run with a context head is another run than its twin, and its input carries the head to the activity', () => {
  const spec = parseStudySpec({
    ...synthetic,
    train: [
      { on: ['original'], epochs: 1, seed: [1, 2] },
      { on: ['original'], epochs: 1, seed: [1, 2], context: { label: 'background' } },
    ],
  });
  const plan = planStudy(spec);
  assert.equal(plan.runs.length, 4);
  assert.equal(new Set(plan.runs.map((r) => r.runId)).size, 4, 'four distinct run ids');
  const labels = plan.runs.map((r) => r.label);
  assert.deepEqual(labels, [
    'small_cnn on original (seed 1)',
    'small_cnn on original (seed 2)',
    'small_cnn on original + context background (seed 1)',
    'small_cnn on original + context background (seed 2)',
  ]);
  // a spec without a context head plans exactly what it planned before (the field is absent, not undefined)
  const plain = planStudy(parseStudySpec(synthetic));
  assert.ok(!('context' in plain.runs[0]!));
  const keys = Object.fromEntries(plan.variants.map((v) => [v.id, `k/${v.id}`]));
  const queues = { gpuTaskQueue: 'gpu', heartbeatTimeout: 60_000 };
  const withHead = runInputOf(plan, plan.runs[2]!, keys, 3, queues);
  assert.deepEqual(withHead.train?.context, { label: 'background', weight: 1 });
  assert.equal(trainRunInputSchema.parse(withHead.train).context?.label, 'background');
  const without = runInputOf(plan, plan.runs[0]!, keys, 3, queues);
  assert.ok(without.train && !('context' in without.train));
});

void test('label files: CSV and JSON read the same; a bad line is named by file and line', () => {
  const csv = parseContextFile('id,label\ndog/a,grass\n"dog/b, odd",sea\n\n# note\ncat/c,sea\n', 'l.csv');
  assert.deepEqual(csv.names, ['grass', 'sea']);
  assert.deepEqual(Object.fromEntries(csv.byId), { 'dog/a': 0, 'dog/b, odd': 1, 'cat/c': 1 });
  const json = parseContextFile('{"dog/a":"grass","dog/b, odd":"sea","cat/c":"sea"}', 'l.json');
  assert.deepEqual(Object.fromEntries(json.byId), Object.fromEntries(csv.byId));
  const bad: [string, RegExp][] = [
    ['dog/a,grass\ndog/b\n', /^l\.csv:2: expected "image id,label", got 1 field/],
    ['dog/a,grass\ndog/b,sea,x\n', /^l\.csv:2: .*got 3 field/],
    ['dog/a,grass\n\ndog/a,sea\n', /^l\.csv:3: image dog\/a labelled again/],
    ['dog/a,grass\ndog/b,\n', /^l\.csv:2: image dog\/b has an empty label/],
    ['dog/a,"grass\n', /^l\.csv:1: unclosed quote/],
    ['dog/a,grass\ndog/b,grass\n', /^l\.csv: .*at least 2 different labels, found 1/],
    ['{"a": ', /^l\.csv: not valid JSON/],
    ['{"a": {"x": 1}}', /^l\.csv: image a: the label must be/],
  ];
  for (const [text, pattern] of bad)
    assert.throws(
      () => parseContextFile(text, 'l.csv'),
      (e: unknown) => e instanceof SpecValidationError && pattern.test(e.message),
      text,
    );
});

void test('a training image takes the label of the background it shows, and an image without one is named', () => {
  const labels = parseContextFile('train/dog/a,grass\ntrain/dog/b,sea\ncat/c,sea\n', 'l.csv');
  const item = (id: string, bgFrom?: string) => ({ id, ...(bgFrom ? { bgFrom } : {}) }) as ItemMeta;
  // mixed_*: the donor's background; a file may name images without their split
  const got = contextOfItems(
    [item('train/dog/a'), item('train/dog/b', 'train/dog/a'), item('train/cat/c')],
    labels,
  );
  assert.deepEqual(Object.fromEntries(got), { 'train/dog/a': 0, 'train/dog/b': 0, 'train/cat/c': 1 });
  assert.throws(
    () =>
      contextOfItems([item('train/dog/a'), item('train/cat/d'), item('train/cat/c', 'train/cat/e')], labels),
    (e: unknown) =>
      e instanceof SpecValidationError &&
      /^l\.csv: no context label for 2 of 3 training images, e\.g\. train\/cat\/d, train\/cat\/e \(background of train\/cat\/c\)/.test(
        e.message,
      ),
  );
});

void test('the co-occurring label is whether the class object was drawn, read from the generator itself', () => {
  const spec = syntheticSourceSchema.parse({
    source: 'synthetic',
    classes: 3,
    perClass: { train: 30, val: 1 },
    size: 24,
    factors: { distractor: 0.6 },
  });
  const items = Array.from(
    { length: 90 },
    (_, u) => ({ id: drawSynthetic(spec, 'train', u).sample.id }) as ItemMeta,
  );
  const ctx = cooccurringContext(spec, items);
  assert.equal(ctx.names.at(-1), 'none');
  assert.equal(ctx.names.length, 4);
  // independently: the drawn image differs from the same image with the factor off exactly when the object was drawn
  const off = syntheticSourceSchema.parse({ ...spec, factors: { ...spec.factors, distractor: 0 } });
  let drawn = 0;
  items.forEach((it, u) => {
    const a = drawSynthetic(spec, 'train', u).sample;
    const b = drawSynthetic(off, 'train', u).sample;
    const differs = !Buffer.from(a.rgb).equals(Buffer.from(b.rgb));
    assert.equal(ctx.byId.get(it.id), differs ? a.label : 3, it.id);
    if (differs) drawn++;
  });
  // about 60% drawn: both labels occur
  assert.ok(drawn > 30 && drawn < 80, `drawn ${drawn} of 90`);
});

void test('a label file the client cannot read or parse is refused before anything reaches Temporal, naming field, file and line', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ctx-'));
  const good = path.join(dir, 'good.csv');
  const bad = path.join(dir, 'bad.csv');
  await writeFile(good, 'dog/a,grass\ndog/b,sea\n');
  await writeFile(bad, 'dog/a,grass\ndog/b,sea\ndog/c\n');
  const spec = (file: string) => ({
    ...folder,
    train: [{ on: ['original'], epochs: 1, context: { label: 'file', file } }],
  });
  let started = 0;
  const client = { workflow: { start: async () => void started++ } } as unknown as Client;
  await assert.rejects(
    startStudy(client, spec(path.join(dir, 'missing.csv'))),
    (e: unknown) =>
      e instanceof SpecValidationError &&
      e.message.includes(`train.0.context.file: ${path.join(dir, 'missing.csv')}: cannot read (ENOENT)`),
  );
  await assert.rejects(
    startStudy(client, spec(bad)),
    (e: unknown) =>
      e instanceof SpecValidationError &&
      e.message.includes(`train.0.context.file: ${bad}:3: expected "image id,label"`),
  );
  assert.equal(started, 0, 'no workflow was started');
  await startStudy(client, spec(good));
  assert.equal(started, 1, 'a readable label file does start');
});

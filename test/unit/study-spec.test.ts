import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SpecValidationError } from '../../common/errors';
import { runInputOf } from '../../workflows/run-inputs';
import { planStudy } from '../../core/spec/plan';
import { parseStudySpec } from '../../core/spec/study-spec';
import { PRESETS_DIR } from '../../cli/spec-file';
import type { Client } from '@temporalio/client';
import { trainRunInputSchema } from '../../activities/train';
import { startStudy } from '../../client/start-study';
import { MIN_BATCH } from '../../core/ml/batch';
import { finetuneSchema } from '../../core/ml/finetune-spec';
import { validateStudySpec } from '../../core/spec/validate';

const base = {
  version: 1,
  name: 'unit',
  dataset: { source: 'synthetic', classes: 3, perClass: { train: 4, val: 2 }, size: 16 },
  variants: ['original', 'mixed_rand', { name: 'bg_blur', sigma: [2, 8] }],
  train: [{ on: ['original', 'bg_blur'], epochs: 1 }],
};

test('every preset is a valid spec with a plan', () => {
  const presets = readdirSync(PRESETS_DIR).filter((f) => f.endsWith('.json'));
  assert.ok(
    presets.length >= 3,
    `expected the quick, xiao-in9 and slides presets, found ${presets.join(', ')}`,
  );
  for (const file of presets) {
    const plan = planStudy(parseStudySpec(JSON.parse(readFileSync(path.join(PRESETS_DIR, file), 'utf8'))));
    assert.ok(plan.variants.length > 0 && plan.tests.length > 0, file);
  }
});

test('sweeps expand, bare names select every instance, paired test variants repeat', () => {
  const plan = planStudy(parseStudySpec({ ...base, evaluate: { pairingRepeats: 2 } }));
  assert.deepEqual(
    plan.runs.map((r) => (r.kind === 'trained' ? r.trainLabel : r.kind)),
    ['original', 'bg_blur(sigma=2)', 'bg_blur(sigma=8)'],
  );
  const mixed = plan.tests.find((t) => t.label === 'mixed_rand');
  assert.equal(mixed?.variantIds.length, 2);
  assert.equal(new Set(mixed?.variantIds).size, 2, 'distinct pairings');
  assert.deepEqual(plan.tests.find((t) => t.label === 'original')?.variantIds, ['original']);
  assert.equal(plan.runs[0]?.inputSize, 16, 'input size defaults to the dataset size');
  // The plan is a pure function of the spec.
  assert.deepEqual(planStudy(parseStudySpec(base)), planStudy(parseStudySpec(base)));
});

test('defaults make two spellings of one study the same study', () => {
  const explicit = {
    ...base,
    pairingSeed: 1,
    train: [{ on: ['original', 'bg_blur'], epochs: 1, batch: 32, model: 'small_cnn' }],
  };
  assert.equal(planStudy(parseStudySpec(explicit)).studyHash, planStudy(parseStudySpec(base)).studyHash);
});

test('errors name the field', () => {
  const cases: [unknown, RegExp][] = [
    [{ ...base, version: 2 }, /version/],
    [{ ...base, name: 'a b' }, /name: /],
    [{ ...base, train: [{ on: ['original'], epochs: 0 }] }, /train\.0\.epochs/],
    [{ ...base, dataset: { source: 'synthetic', bgCorrelation: 2 } }, /dataset\.bgCorrelation/],
    [{ ...base, variants: ['nope'] }, /variants\.0/],
  ];
  for (const [spec, pattern] of cases) {
    assert.throws(
      () => parseStudySpec(spec),
      (e: unknown) => e instanceof SpecValidationError && pattern.test(e.message),
    );
  }
  assert.throws(
    () => planStudy(parseStudySpec({ ...base, train: [{ on: ['only_fg'] }] })),
    (e: unknown) =>
      e instanceof SpecValidationError &&
      /train\.0\.on\.0: "only_fg" is not among the variants/.test(e.message),
  );
  assert.throws(
    () => planStudy(parseStudySpec({ ...base, variants: [{ name: 'bg_blur', sigma: [-1] }] })),
    (e: unknown) => e instanceof SpecValidationError && /variants\.0\.sigma/.test(e.message),
  );
});

test('the challenge brings its background pool with it', () => {
  const plan = planStudy(parseStudySpec({ ...base, evaluate: { challenge: { backgrounds: 5 } } }));
  assert.ok(plan.challenge);
  assert.ok(
    plan.variants.some(
      (v) => v.id === (plan.challenge as { backgroundVariantId: string }).backgroundVariantId,
    ),
  );
});

test('the challenge brings its foregrounds too: original is planned even when not listed, so it runs', () => {
  const spec = parseStudySpec({
    ...base,
    variants: ['mixed_same', 'mixed_rand'],
    train: [{ model: 'small_cnn', on: ['mixed_rand'], epochs: 1, batch: 2 }],
    evaluate: { on: ['mixed_rand'], challenge: { backgrounds: 5 } },
  });
  const plan = planStudy(spec);
  assert.deepEqual(
    plan.variants.filter((v) => v.spec.name === 'original' || v.spec.name === 'only_bg_t').map((v) => v.id),
    ['original', 'only_bg_t'],
  );
  const input = runInputOf(
    plan,
    plan.runs[0]!,
    Object.fromEntries(plan.variants.map((v) => [v.id, `k/${v.id}`])),
    2,
    {
      gpuTaskQueue: 'q',
      heartbeatTimeout: '1 minute',
    },
  );
  assert.ok(input.challenge, 'the run gets its challenge');
  assert.equal(input.challenge.foregroundManifestKey, 'k/original');
  assert.equal(input.challenge.backgroundManifestKey, 'k/only_bg_t');
});

test('a whole spec is validated (schema and plan) before anything reaches Temporal, naming the field', async () => {
  const cases: [unknown, RegExp][] = [
    [{ ...base, train: [{ on: ['only_fg'] }] }, /train\.0\.on\.0: "only_fg" is not among the variants/],
    [{ ...base, variants: [{ name: 'bg_blur', sigma: [2, -1] }] }, /variants\.0\.sigma/],
    // training needs two images a batch (BatchNorm): refused in the spec, not after datasets were built
    [{ ...base, train: [{ on: ['original'], batch: 1 }] }, /train\.0\.batch/],
  ];
  let started = 0;
  const client = { workflow: { start: async () => void started++ } } as unknown as Client;
  for (const [spec, pattern] of cases) {
    assert.throws(
      () => validateStudySpec(spec),
      (e: unknown) => e instanceof SpecValidationError && pattern.test(e.message),
    );
    await assert.rejects(startStudy(client, spec), pattern);
  }
  assert.equal(started, 0, 'no workflow was started');
  await startStudy(client, base);
  assert.equal(started, 1, 'a valid spec does start');
});

test('one batch bound from spec to activity to core', () => {
  assert.equal(MIN_BATCH, 2);
  const run = { ...base, train: [{ on: ['original'], batch: MIN_BATCH }] };
  assert.equal(validateStudySpec(run).train[0]!.batch, MIN_BATCH);
  assert.equal(trainRunInputSchema.shape.batch.safeParse(MIN_BATCH - 1).success, false);
  assert.equal(trainRunInputSchema.shape.batch.safeParse(MIN_BATCH).success, true);
  assert.equal(finetuneSchema.shape.batch.safeParse(MIN_BATCH - 1).success, false);
});

test('URLs with credentials in any form the URL parser accepts are refused, and the password is never echoed', () => {
  const forms = [
    'https://u:hunter2@host/x.tar.gz',
    'https:/u:hunter2@host/x.tar.gz',
    'https:u:hunter2@host/x.tar.gz',
    'https:\\\\u:hunter2@host/x.tar.gz',
    'HTTPS://u:hunter2@host/x.tar.gz',
  ];
  const model = {
    name: 'm',
    source: 'onnx',
    preprocess: 'torchvision',
    classMap: 'identity',
  };
  for (const url of forms) {
    for (const [spec, field] of [
      [{ ...base, dataset: { source: 'in9', url } }, /dataset\.url: url must not carry credentials/],
      [{ ...base, models: [{ ...model, uri: url }] }, /models\.0\.uri: uri must not carry credentials/],
    ] as const) {
      assert.throws(
        () => validateStudySpec(spec),
        (e: unknown) => {
          assert.ok(e instanceof SpecValidationError, String(e));
          assert.match(e.message, field, url);
          assert.ok(!e.message.includes('hunter2'), `the password is not in: ${e.message}`);
          return true;
        },
        url,
      );
    }
  }
  // an s3:// folder path is a URL too (s3:/ or s3: without slashes is not an s3 URL, nor a host)
  assert.throws(
    () =>
      validateStudySpec({
        ...base,
        dataset: { source: 'folder', path: 's3://u:hunter2@bucket/x', maskPath: 'm' },
      }),
    (e: unknown) =>
      e instanceof SpecValidationError && /dataset\.path/.test(e.message) && !e.message.includes('hunter2'),
  );
  // paths and URLs without credentials still pass
  validateStudySpec({ ...base, models: [{ ...model, uri: 'models/a@b.onnx' }] });
  validateStudySpec({ ...base, dataset: { source: 'in9', url: 'https://host/x@y.tar.gz' } });
});

test('saliency.method: SmoothGrad unless the spec asks for one plain gradient; anything else is refused by name', () => {
  const spec = (saliency: unknown) => ({ ...base, evaluate: { saliency } });
  const saliencyOf = (saliency: unknown) => {
    const plan = planStudy(parseStudySpec(spec(saliency)));
    const keys = Object.fromEntries(plan.variants.map((v) => [v.id, `k/${v.id}`]));
    return runInputOf(plan, plan.runs[0]!, keys, 3, { gpuTaskQueue: 'q', heartbeatTimeout: '1 minute' })
      .saliency;
  };
  const plain = saliencyOf({ samples: 4, method: 'gradient' });
  assert.ok(plain);
  assert.equal(plain.method, 'gradient');
  // Absent: the run input is what it was before the field existed (recorded histories replay; the activity's
  // own default, SmoothGrad, applies), and the spec hash of an existing spec does not change.
  const byDefault = saliencyOf({ samples: 4 });
  assert.ok(byDefault);
  assert.ok(!('method' in byDefault));
  const parsed = parseStudySpec(spec({ samples: 4 })).evaluate.saliency;
  assert.ok(parsed && !('method' in parsed), 'no default is written into the parsed spec');
  assert.notEqual(
    planStudy(parseStudySpec(spec({ samples: 4, method: 'gradient' }))).studyHash,
    planStudy(parseStudySpec(spec({ samples: 4 }))).studyHash,
  );
  for (const bad of [{ method: 'integrated' }, { method: true }]) {
    assert.throws(
      () => parseStudySpec(spec(bad)),
      (e: unknown) => e instanceof SpecValidationError && /evaluate\.saliency\.method: /.test(e.message),
    );
  }
  assert.throws(
    () => parseStudySpec(spec({ sample: 4 })),
    (e: unknown) => e instanceof SpecValidationError && /evaluate\.saliency/.test(e.message),
  );
});

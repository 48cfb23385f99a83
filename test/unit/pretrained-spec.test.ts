import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpecValidationError } from '../../common/errors';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../core/ml/preprocess';
import { planStudy } from '../../core/spec/plan';
import { parseStudySpec } from '../../core/spec/study-spec';
import { runInputOf } from '../../workflows/run-inputs';

const base = {
  version: 1,
  name: 'unit',
  dataset: { source: 'synthetic', classes: 3, perClass: { train: 4, val: 2 }, size: 16 },
  variants: ['original', 'mixed_rand'],
  train: [{ on: ['original'], epochs: 1 }],
};
const resnet = {
  name: 'resnet50',
  source: 'onnx',
  uri: 'models/r50.onnx',
  preprocess: 'torchvision',
  classMap: 'imagenet-in9',
};

test('a pretrained model is a run next to the trained ones: imported, not trained, tested on every column', () => {
  const plan = planStudy(
    parseStudySpec({
      ...base,
      models: [
        resnet,
        {
          ...resnet,
          name: 'mine',
          source: 'tfjs',
          uri: 'm/model.json',
          preprocess: { preset: 'in9', layout: 'NHWC' },
          classMap: { '0': 'disk' },
        },
      ],
    }),
  );
  assert.equal(plan.runs.length, 3);
  const [trained, r50, mine] = [plan.runs[0]!, plan.runs[1]!, plan.runs[2]!];
  assert.equal(trained.kind, 'trained');
  assert.ok(r50.kind === 'pretrained' && mine.kind === 'pretrained');
  // Nothing trained: no schedule, no train variant, no architecture standing in for the model's name.
  assert.deepEqual(Object.keys(r50).sort(), ['inputSize', 'kind', 'label', 'pretrained', 'runId']);
  assert.equal(r50.pretrained.name, 'resnet50');
  assert.deepEqual(r50.pretrained.preprocess, {
    inputSize: 224,
    resizeShorter: 256,
    mean: [...IMAGENET_MEAN],
    std: [...IMAGENET_STD],
    range: 1,
    layout: 'NCHW',
  });
  assert.equal(mine.pretrained.preprocess.layout, 'NHWC');
  assert.equal(mine.pretrained.preprocess.resizeShorter, undefined);
  assert.notEqual(r50.runId, mine.runId);
  const keys = Object.fromEntries(plan.variants.map((v) => [v.id, `variants/${v.id}`]));
  const input = runInputOf(plan, r50, keys, 3, { gpuTaskQueue: 'g', heartbeatTimeout: '1m' });
  assert.equal(input.train, undefined);
  assert.equal(input.pretrained!.model.uri, 'models/r50.onnx');
  assert.deepEqual(
    input.tests.map((t) => t.label),
    ['original', 'mixed_rand'],
  );
  // The same entry plans the same run id (child workflow ids stay stable across resubmissions).
  assert.equal(planStudy(parseStudySpec({ ...base, models: [resnet] })).runs[1]!.runId, r50.runId);
});

test('bad model entries are rejected naming the field', () => {
  const bad = (models: unknown[], pattern: RegExp) =>
    assert.throws(
      () => planStudy(parseStudySpec({ ...base, models })),
      (e: Error) => e instanceof SpecValidationError && pattern.test(e.message),
    );
  bad([{ ...resnet, source: 'pt' }], /models\.0\.source/);
  bad([{ ...resnet, preprocess: undefined }], /models\.0\.preprocess/);
  bad(
    [{ ...resnet, preprocess: { inputSize: 224, std: [1, 0, 1] } }],
    /models\.0\.preprocess\.std: std must be positive/,
  );
  bad([{ ...resnet, preprocess: { inputSize: 224, layout: 'CHW' } }], /models\.0\.preprocess\.layout/);
  bad([{ ...resnet, classMap: { first: 'dog' } }], /models\.0\.classMap/);
  bad([{ ...resnet, extra: 1 }], /models\.0/);
  bad([resnet, resnet], /models\.1\.name: "resnet50" names two models/);
});

const tfjsModel = {
  name: 'mine',
  source: 'tfjs',
  uri: 'm/model.json',
  preprocess: { inputSize: 16, layout: 'NHWC' },
  classMap: 'identity',
};

test('a fine-tune is one run per (variant, seed) beside the model as it came', () => {
  const spec = {
    ...base,
    train: [],
    models: [{ ...tfjsModel, finetune: { on: ['mixed_rand', 'original'], seed: [1, 2], trainable: 'head' } }],
  };
  const plan = planStudy(parseStudySpec(spec));
  assert.equal(plan.runs.length, 5);
  const [pre, ...ft] = plan.runs;
  assert.equal(pre!.kind, 'pretrained');
  // The model's own run keeps its id whether or not it is also fine-tuned.
  assert.equal(planStudy(parseStudySpec({ ...spec, models: [tfjsModel] })).runs[0]!.runId, pre!.runId);
  assert.deepEqual(
    ft.map((r) => r.label),
    [
      'mine-ft-mixed_rand (seed 1)',
      'mine-ft-mixed_rand (seed 2)',
      'mine-ft-original (seed 1)',
      'mine-ft-original (seed 2)',
    ],
  );
  const r = ft[0]!;
  assert.ok(r.kind === 'finetuned');
  assert.equal(r.pretrained.name, 'mine');
  assert.equal(r.trainLabel, 'mixed_rand');
  assert.deepEqual(r.finetune, { head: 'replace', trainable: 'head' });
  assert.deepEqual(r.optimizer, { name: 'adam', learningRate: 0.0001 });
  assert.equal(r.epochs, 3);
  assert.equal(new Set(plan.runs.map((x) => x.runId)).size, 5);
  const keys = Object.fromEntries(plan.variants.map((v) => [v.id, `variants/${v.id}`]));
  const input = runInputOf(plan, r, keys, 3, { gpuTaskQueue: 'g', heartbeatTimeout: '1m' });
  assert.equal(input.train, undefined);
  assert.equal(input.pretrained!.model.uri, 'm/model.json');
  assert.equal('finetune' in input.pretrained!.model, false);
  assert.equal(input.finetune!.trainManifestKey, keys[r.trainVariantId]);
  assert.equal(input.finetune!.trainable, 'head');
  assert.equal(input.finetune!.seed, 1);
  assert.equal(
    runInputOf(plan, pre!, keys, 3, { gpuTaskQueue: 'g', heartbeatTimeout: '1m' }).finetune,
    undefined,
  );
});

test('bad fine-tune entries are rejected naming the field', () => {
  const bad = (m: object, pattern: RegExp) =>
    assert.throws(
      () => planStudy(parseStudySpec({ ...base, models: [m] })),
      (e: Error) => e instanceof SpecValidationError && pattern.test(e.message),
    );
  bad({ ...resnet, finetune: { on: ['original'] } }, /models\.0\.finetune: onnx models cannot be fine-tuned/);
  bad(
    { ...tfjsModel, classMap: { '0': 'disk' }, finetune: { on: ['original'], head: 'keep' } },
    /models\.0\.finetune\.head: 'keep' .* needs classMap 'identity'/,
  );
  bad(
    { ...tfjsModel, finetune: { on: ['bg_blur'] } },
    /models\.0\.finetune\.on\.0: "bg_blur" is not among the variants/,
  );
  bad({ ...tfjsModel, finetune: { on: [] } }, /models\.0\.finetune\.on/);
  bad({ ...tfjsModel, finetune: { on: ['original'], trainable: 'body' } }, /models\.0\.finetune\.trainable/);
  bad({ ...tfjsModel, finetune: { on: ['original'], batch: 1 } }, /models\.0\.finetune\.batch/);
  bad({ ...tfjsModel, finetune: { on: ['original'], lr: 1 } }, /models\.0\.finetune: Unrecognized key/);
});

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
  const [, r50, mine] = plan.runs;
  assert.equal(r50!.trainLabel, 'pretrained');
  assert.equal(r50!.arch, 'resnet50');
  assert.deepEqual(r50!.pretrained!.preprocess, {
    inputSize: 224,
    resizeShorter: 256,
    mean: [...IMAGENET_MEAN],
    std: [...IMAGENET_STD],
    range: 1,
    layout: 'NCHW',
  });
  assert.equal(mine!.pretrained!.preprocess.layout, 'NHWC');
  assert.equal(mine!.pretrained!.preprocess.resizeShorter, undefined);
  assert.notEqual(r50!.runId, mine!.runId);
  const keys = Object.fromEntries(plan.variants.map((v) => [v.id, `variants/${v.id}`]));
  const input = runInputOf(plan, r50!, keys, 3, { gpuTaskQueue: 'g', heartbeatTimeout: '1m' });
  assert.equal(input.train, undefined);
  assert.equal(input.pretrained!.model.uri, 'models/r50.onnx');
  assert.deepEqual(
    input.tests.map((t) => t.label),
    ['original', 'mixed_rand'],
  );
  // The same entry plans the same run id (child workflow ids stay stable across resubmissions).
  assert.equal(planStudy(parseStudySpec({ ...base, models: [resnet] })).runs[1]!.runId, r50!.runId);
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

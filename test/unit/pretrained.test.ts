import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Sample } from '../../core/data/sample';
import { IMAGENET_TO_IN9, mapScores, resolveClassMap } from '../../core/ml/class-map';
import { pretrainedClassifier, type RawModel } from '../../core/ml/classifier';
import { argmaxRow } from '../../core/ml/metrics';
import { occlusionSaliency } from '../../core/ml/occlusion';
import { loadOnnxModel } from '../../core/ml/onnx-model';
import { preprocessSchema, toModelInput, viewPixels } from '../../core/ml/preprocess';
import { importPretrained, loadPretrainedClassifier } from '../../core/ml/pretrained';
import { loadTfjsModel } from '../../core/ml/tfjs-model';
import { FsArtifactStore } from '../../store/fs-store';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'models');
// The IN-9 folder names of the in9 source (core/data/in9-reader.ts strips the NN_ prefix).
const IN9 = [
  'dog',
  'bird',
  'wheeled vehicle',
  'reptile',
  'carnivore',
  'insect',
  'musical instrument',
  'primate',
  'fish',
];

interface Expected {
  image: { width: number; height: number; count: number };
  preprocess: { inputSize: number; resizeShorter: number; mean: number[]; std: number[] };
  views: number[][];
  logits: number[][];
}

/** The formula of make-onnx.py's image(b), as 8-bit HWC. */
function formulaImage(b: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++)
        out[(y * w + x) * 3 + c] =
          (x * (5 + b) + y * (3 + 2 * c) + 40 * c * b + ((Math.floor(x / 6) + Math.floor(y / 5)) % 2) * 60) %
          256;
  return out;
}

void test('the shipped ImageNet -> IN-9 table is the reference in_to_in9.json (known indices, class sizes)', () => {
  const t = resolveClassMap('imagenet-in9', 1000, IN9);
  assert.equal(t[0], 8, 'tench -> fish');
  assert.equal(t[1], 8, 'goldfish -> fish');
  assert.equal(t[207], 0, 'golden retriever -> dog');
  assert.equal(t[151], 0, 'Chihuahua -> dog');
  assert.equal(t[404], -1, 'airliner: outside the nine');
  const counts = new Array<number>(10).fill(0);
  for (const c of t) counts[c < 0 ? 9 : c]!++;
  // Class sizes of the reference file (dog 116 ... fish 16, 630 outside).
  assert.deepEqual(counts, [116, 52, 42, 36, 35, 27, 26, 20, 16, 630]);
  assert.match(IMAGENET_TO_IN9.provenance.source, /MadryLab\/backgrounds_challenge/);
  // Folder-style names with NN_ prefixes and the short names of in9_classes.txt match too.
  assert.equal(
    resolveClassMap(
      'imagenet-in9',
      1000,
      IN9.map((c, i) => `0${i}_${c}`),
    )[207],
    0,
  );
  assert.equal(
    resolveClassMap('imagenet-in9', 1000, [...IN9.slice(0, 2), 'vehicle', ...IN9.slice(3)])[407],
    2,
  );
});

void test('class maps reject what they cannot mean, naming the classes', () => {
  assert.throws(() => resolveClassMap('imagenet-in9', 10, IN9), /1000-output/);
  assert.throws(
    () => resolveClassMap('imagenet-in9', 1000, ['dog', 'cat']),
    /not among the dataset's classes/,
  );
  assert.throws(() => resolveClassMap({ '0': 'a' }, 3, ['a', 'b']), /no model output maps to b/);
  assert.throws(() => resolveClassMap('identity', 3, ['a', 'b']), /3 outputs, the dataset 2 classes/);
  assert.deepEqual([...resolveClassMap({ '2': 'b', '0': 'a', '1': 'a' }, 4, ['a', 'b'])], [0, 0, 1, -1]);
});

void test('mapped scores: argmax over all outputs then map, "outside" as its own losing column', () => {
  const table = resolveClassMap('imagenet-in9', 1000, IN9);
  let state = 12345;
  const rand = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 10 - 5;
  const n = 50;
  const logits = Float32Array.from({ length: n * 1000 }, rand);
  const scores = mapScores(logits, n, 1000, table, 9);
  let outside = 0;
  for (let r = 0; r < n; r++) {
    const top = argmaxRow(logits, 1000, r);
    const want = table[top]! < 0 ? 9 : table[top]!;
    assert.equal(argmaxRow(scores, 10, r), want, `row ${r}`);
    if (want === 9) outside++;
  }
  assert.ok(outside > 0 && outside < n, 'both mapped and outside predictions occur');
});

void test("torchvision geometry: Resize(36) + CenterCrop(32) gives PIL's bytes exactly", async () => {
  const e = JSON.parse(await readFile(path.join(FIXTURES, 'tiny-cnn.expected.json'), 'utf8')) as Expected;
  const pp = preprocessSchema.parse(e.preprocess);
  for (let b = 0; b < e.image.count; b++) {
    const { width, height } = e.image;
    const view = viewPixels(
      { id: `b${b}`, label: 0, width, height, rgb: formulaImage(b, width, height) },
      pp,
    );
    assert.equal(view.length, e.views[b]!.length);
    // PIL rounds to bytes after each pass; so do we (its 22-bit fixed-point weights included).
    assert.deepEqual(
      Array.from(view, (v) => Math.round(v * 255)),
      e.views[b],
    );
  }
});

void test('the ONNX fixture gives PyTorch logits on PyTorch inputs, and end to end through our preprocessing', async () => {
  const e = JSON.parse(await readFile(path.join(FIXTURES, 'tiny-cnn.expected.json'), 'utf8')) as Expected;
  const pp = preprocessSchema.parse(e.preprocess);
  const raw = await loadOnnxModel(await readFile(path.join(FIXTURES, 'tiny-cnn.onnx')), {
    providers: ['cpu'],
  });
  try {
    assert.match(raw.backend, /onnxruntime-node .* \(cpu\)/);
    const n = e.image.count;
    // 1. Identical input tensors (PIL's bytes, normalized): the export must reproduce PyTorch's numbers.
    const views = Float32Array.from(e.views.flat(), (v) => v / 255);
    const { data, numOutputs } = await raw.run(toModelInput(views, n, pp), [n, 3, 32, 32]);
    assert.equal(numOutputs, 10);
    e.logits
      .flat()
      .forEach((want, i) => assert.ok(Math.abs(data[i]! - want) < 1e-4, `logit ${i}: ${data[i]} vs ${want}`));
    // 2. From raw images through our preprocessing (byte-identical views): the same logits.
    const classes = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const clf = pretrainedClassifier(raw, pp, 'identity', classes);
    const samples: Sample[] = Array.from({ length: n }, (_, b) => ({
      id: `b${b}`,
      label: 0,
      width: e.image.width,
      height: e.image.height,
      rgb: formulaImage(b, e.image.width, e.image.height),
    }));
    const x = new Float32Array(n * 32 * 32 * 3);
    samples.forEach((s, b) => x.set(clf.view(s), b * 32 * 32 * 3));
    const ours = await clf.predict(x, n);
    for (let b = 0; b < n; b++) {
      assert.equal(argmaxRow(ours, 10, b), argmaxRow(Float32Array.from(e.logits.flat()), 10, b));
      for (let j = 0; j < 10; j++) assert.ok(Math.abs(ours[b * 10 + j]! - e.logits[b]![j]!) < 1e-4);
    }
  } finally {
    await raw.dispose();
  }
});

void test('an ONNX file that is not a model is refused by name', async () => {
  await assert.rejects(
    loadOnnxModel(Buffer.from('not onnx'), { providers: ['cpu'], name: 'junk.onnx' }),
    /junk\.onnx: onnxruntime could not load it/,
  );
});

void test('a tfjs LayersModel saved as model.json + weights reloads to the same logits', async () => {
  await tf.setBackend('cpu');
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 3],
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 5, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-tfjs-'));
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const json = {
        format: 'layers-model',
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs }],
      };
      await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      await writeFile(path.join(dir, 'group1-shard1of1.bin'), Buffer.from(a.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const x = Float32Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => ((i * 37) % 101) / 101);
  const want = (await (model.predict(tf.tensor4d(x, [2, 8, 8, 3])) as tf.Tensor).data()) as Float32Array;
  const raw = await loadTfjsModel(await readFile(path.join(dir, 'model.json')), (p) =>
    readFile(path.join(dir, p)),
  );
  const got = await raw.run(x, [2, 8, 8, 3]);
  assert.equal(got.numOutputs, 5);
  assert.deepEqual([...got.data], [...want]);
  assert.match(raw.backend, /layers model/);
  raw.dispose();
  model.dispose();
});

void test('occlusion saliency finds what a model looks at, and the foreground share follows the mask', async () => {
  const size = 16;
  // Scores: class 0 = mean brightness of the central 8x8 square; class 1 = constant. Only the centre matters.
  const raw: RawModel = {
    backend: 'test',
    run: async (data, dims) => {
      const n = dims[0]!;
      const out = new Float32Array(n * 2);
      for (let b = 0; b < n; b++) {
        let s = 0;
        for (let y = 4; y < 12; y++)
          for (let x = 4; x < 12; x++) s += data[b * size * size * 3 + (y * size + x) * 3]!;
        out[b * 2] = (s / 64) * 10;
        out[b * 2 + 1] = 5;
      }
      return { data: out, numOutputs: 2 };
    },
    dispose: () => undefined,
  };
  const pp = preprocessSchema.parse({ inputSize: size, layout: 'NHWC' });
  const clf = pretrainedClassifier(raw, pp, 'identity', ['bright', 'other']);
  const mk = (id: string, lo: number, hi: number): Sample => {
    const mask = new Uint8Array(size * size);
    for (let y = lo; y < hi; y++) for (let x = lo; x < hi; x++) mask[y * size + x] = 255;
    return { id, label: 0, width: size, height: size, rgb: new Uint8Array(size * size * 3).fill(255), mask };
  };
  const out = await occlusionSaliency(clf, [mk('centre', 4, 12), mk('corner', 0, 4)], { grid: 4 });
  assert.equal(out.items.length, 2);
  assert.equal(out.items[0]!.predicted, 0);
  assert.equal(out.items[0]!.share, 1, 'all saliency inside the central mask');
  assert.equal(out.items[1]!.share, 0, 'none inside a corner mask');
  assert.equal(out.items[0]!.maskArea, 0.25);
  assert.equal(out.meanShare, 0.5);
  // The central 2x2 patches light up, the border patches do not.
  assert.equal(out.items[0]!.map[8 * size + 8], 255);
  assert.equal(out.items[0]!.map[0], 0);
});

void test('a tfjs model.json + weights is imported into the store by content and evaluated as a Classifier', async () => {
  await tf.setBackend('cpu');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-tfjs-import-'));
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [8, 8, 3] }),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }) }),
    ],
  });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const json = {
        format: 'layers-model',
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['w.bin'], weights: a.weightSpecs }],
      };
      await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      await writeFile(path.join(dir, 'w.bin'), Buffer.from(a.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const store = new FsArtifactStore(path.join(dir, 'store'));
  const entry = {
    name: 'dense',
    source: 'tfjs' as const,
    uri: path.join(dir, 'model.json'),
    preprocess: preprocessSchema.parse({ inputSize: 8, layout: 'NHWC', range: 255 }),
    classMap: { '0': 'a', '1': 'b' },
  };
  const first = await importPretrained(store, entry);
  assert.equal(first.reused, false);
  assert.deepEqual(Object.keys(first.artifact.weightFiles), ['w.bin']);
  const again = await importPretrained(store, entry);
  assert.equal(again.reused, true);
  assert.equal(again.key, first.key);
  // The same bytes under another uri (here store:) are the same model: the same key, nothing rewritten.
  await store.put('user/m/model.json', await readFile(path.join(dir, 'model.json')));
  await store.put('user/m/w.bin', await readFile(path.join(dir, 'w.bin')));
  const fromStore = await importPretrained(store, { ...entry, uri: 'store:user/m/model.json' });
  assert.equal(fromStore.key, first.key);
  assert.equal(fromStore.reused, true);
  // And over HTTP (weights fetched beside the model.json's URL); a missing file is named with its status.
  const server = createServer((req, res) => {
    readFile(path.join(dir, path.basename(req.url ?? ''))).then(
      (b) => res.end(b),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const fromUrl = await importPretrained(store, { ...entry, uri: `${base}/model.json` });
    assert.equal(fromUrl.key, first.key);
    await assert.rejects(
      importPretrained(store, { ...entry, uri: `${base}/gone.json` }),
      /gone\.json: HTTP 404/,
    );
  } finally {
    server.close();
  }

  const { classifier } = await loadPretrainedClassifier(store, first.key, ['a', 'b']);
  assert.equal(classifier.numScores, 3, 'output 2 maps to no class: an extra score column');
  const sample: Sample = {
    id: 's',
    label: 0,
    width: 8,
    height: 8,
    rgb: Uint8Array.from({ length: 192 }, (_, i) => (i * 5) % 256),
  };
  const scores = await classifier.predict(classifier.view(sample), 1);
  // range 255: the model sees the raw bytes.
  const direct = (await (
    model.predict(tf.tensor4d(Float32Array.from(sample.rgb), [1, 8, 8, 3])) as tf.Tensor
  ).data()) as Float32Array;
  assert.ok(Math.abs(scores[0]! - direct[0]!) < 1e-4 && Math.abs(scores[1]! - direct[1]!) < 1e-4);
  assert.ok(Math.abs(scores[2]! - direct[2]!) < 1e-4, 'the unmapped output is the "other" column');
  await classifier.dispose();
  await assert.rejects(
    loadPretrainedClassifier(store, first.key, ['x', 'y']),
    /model dense .*: class map given: a, b not among the dataset's classes \(x, y\)/,
  );

  // A model.json whose weights point outside its folder is refused before anything is read.
  await writeFile(
    path.join(dir, 'evil.json'),
    JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['../secret.bin'], weights: [] }] }),
  );
  await assert.rejects(
    importPretrained(store, { ...entry, uri: path.join(dir, 'evil.json') }),
    /must be relative and stay beside model\.json/,
  );
  model.dispose();
});

void test('a tfjs GraphModel model.json (converter format) runs: a Reshape + MatMul graph gives x . W', async () => {
  await tf.setBackend('cpu');
  const dim = (...s: number[]) => ({ shape: { dim: s.map((v) => ({ size: String(v) })) } });
  const float = { type: 'DT_FLOAT' };
  const json = {
    format: 'graph-model',
    modelTopology: {
      node: [
        { name: 'image', op: 'Placeholder', attr: { dtype: float, shape: dim(-1, 2, 2, 3) } },
        {
          name: 'shape',
          op: 'Const',
          attr: {
            dtype: { type: 'DT_INT32' },
            value: { tensor: { dtype: 'DT_INT32', tensorShape: dim(2) } },
          },
        },
        {
          name: 'w',
          op: 'Const',
          attr: { dtype: float, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim(12, 2) } } },
        },
        { name: 'flat', op: 'Reshape', input: ['image', 'shape'], attr: { T: float } },
        {
          name: 'logits',
          op: 'MatMul',
          input: ['flat', 'w'],
          attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } },
        },
      ],
      versions: { producer: 1 },
    },
    weightsManifest: [
      {
        paths: ['g.bin'],
        weights: [
          { name: 'shape', shape: [2], dtype: 'int32' },
          { name: 'w', shape: [12, 2], dtype: 'float32' },
        ],
      },
    ],
  };
  const w = Float32Array.from({ length: 24 }, (_, i) => (i % 5) - 2);
  const bin = Buffer.concat([Buffer.from(Int32Array.from([-1, 12]).buffer), Buffer.from(w.buffer)]);
  const raw = await loadTfjsModel(Buffer.from(JSON.stringify(json)), (p) => {
    assert.equal(p, 'g.bin');
    return Promise.resolve(bin);
  });
  assert.match(raw.backend, /graph model/);
  const x = Float32Array.from({ length: 24 }, (_, i) => i / 10);
  const { data, numOutputs } = await raw.run(x, [2, 2, 2, 3]);
  assert.equal(numOutputs, 2);
  for (let b = 0; b < 2; b++)
    for (let j = 0; j < 2; j++) {
      let want = 0;
      for (let i = 0; i < 12; i++) want += x[b * 12 + i]! * w[i * 2 + j]!;
      assert.ok(Math.abs(data[b * 2 + j]! - want) < 1e-5, `row ${b} col ${j}: ${data[b * 2 + j]} vs ${want}`);
    }
  await raw.dispose();
});

test('a local model uri is read only from the model folders, and an ONNX file must look like one', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-models-'));
  const store = new FsArtifactStore(path.join(dir, 'store'));
  const entry = {
    name: 'm',
    source: 'onnx' as const,
    preprocess: preprocessSchema.parse({ inputSize: 8, layout: 'NHWC', range: 255 }),
    classMap: 'identity' as const,
  };
  const saved = process.env.BGSTUDY_MODEL_DIRS;
  process.env.BGSTUDY_MODEL_DIRS = path.join(dir, 'models');
  try {
    // any file the worker can read, named as a model: refused, nothing copied into the store
    for (const uri of [
      '/etc/hostname',
      'file:///etc/hostname',
      path.join(dir, 'models', '..', 'outside.onnx'),
    ]) {
      await writeFile(path.join(dir, 'outside.onnx'), Buffer.from([0x08, 0x07]));
      await assert.rejects(
        importPretrained(store, { ...entry, uri }),
        /local model files are read only from the model folders .*BGSTUDY_MODEL_DIRS/,
        uri,
      );
    }
    // inside the folder, the content decides: text named .onnx is no model
    await mkdir(path.join(dir, 'models'), { recursive: true });
    await writeFile(path.join(dir, 'models', 'hostname.onnx'), 'myhost\n');
    await assert.rejects(
      importPretrained(store, { ...entry, uri: path.join(dir, 'models', 'hostname.onnx') }),
      /not an ONNX model/,
    );
    assert.deepEqual(await store.list(''), []);
    // the real fixture, copied into the folder, imports
    await copyFile(
      path.join(__dirname, '..', 'fixtures', 'models', 'tiny-cnn.onnx'),
      path.join(dir, 'models', 'tiny.onnx'),
    );
    const ok = await importPretrained(store, { ...entry, uri: path.join(dir, 'models', 'tiny.onnx') });
    assert.equal(ok.reused, false);
  } finally {
    if (saved === undefined) delete process.env.BGSTUDY_MODEL_DIRS;
    else process.env.BGSTUDY_MODEL_DIRS = saved;
  }
});

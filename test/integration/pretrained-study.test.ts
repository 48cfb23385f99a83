/**
 * A study spec that names an ONNX file gets the full evaluation and report, through the real Temporal dev server
 * and S3: imported under its content hash, evaluated on every test variant (accuracy checked here by an
 * independent argmax-then-map over the raw ONNX outputs), the challenge, occlusion saliency, and a report row.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { startStudy } from '../../client/start-study';
import { openSampleSource } from '../../core/data/sample-source';
import { sha256Hex } from '../../core/hash';
import type { SaliencyResult } from '../../core/ml/results';
import { loadOnnxModel } from '../../core/ml/onnx-model';
import type { PretrainedArtifact } from '../../core/ml/pretrained';
import { preprocessSchema, toModelInput, viewPixels } from '../../core/ml/preprocess';
import type { StudyResults } from '../../core/report/results';
import { getJson } from '../../store';
import type { S3ArtifactStore } from '../../store/s3-store';
import { uniqueId } from '../helpers/env';
import { startTestStudyEnv, type TestStudyEnv } from '../helpers/study-env';

const ONNX = path.join(__dirname, '..', 'fixtures', 'models', 'tiny-cnn.onnx');
const PREPROCESS = {
  inputSize: 32,
  resizeShorter: 36,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};
// 10 outputs: three name the synthetic classes, the other seven belong to none (a miss when they win).
const CLASS_MAP = { '2': 'disk', '5': 'square', '7': 'triangle' };

describe('a study with a pretrained ONNX model', () => {
  let env: TestStudyEnv;
  let client: Client;
  let store: S3ArtifactStore;
  let taskQueue: string;

  before(async () => {
    env = await startTestStudyEnv('pre');
    ({ client, store, taskQueue } = env);
  });
  after(() => env?.stop());

  test('is imported, evaluated on every variant, challenged, occluded and reported like a trained one', async () => {
    const spec = {
      version: 1,
      name: uniqueId('pretrained'),
      dataset: { source: 'synthetic', classes: 3, perClass: { train: 2, val: 6 }, size: 24, seed: 1 },
      variants: ['original', 'only_fg', 'mixed_same', 'mixed_rand'],
      models: [{ name: 'tiny', source: 'onnx', uri: ONNX, preprocess: PREPROCESS, classMap: CLASS_MAP }],
      evaluate: {
        pairingRepeats: 1,
        challenge: { backgrounds: 4, foregrounds: 3 },
        saliency: { samples: 3 },
      },
    };
    const start = () =>
      startStudy(client, spec, { taskQueue, workflowOptions: { gpuTaskQueue: `${taskQueue}-gpu` } });
    const result = await (await start()).result();
    assert.equal(result.status, 'completed');
    assert.equal(result.runs, 1);
    const results = await getJson<StudyResults>(store, result.resultsKey!);
    const row = results.rows[0]!;
    assert.equal(row.arch, 'tiny');
    assert.equal(row.trainVariant, 'pretrained');
    assert.deepEqual(Object.keys(row.accuracy).sort(), [
      'mixed_rand',
      'mixed_same',
      'only_bg_t',
      'only_fg',
      'original',
    ]);
    assert.equal(row.curves.length, 0);
    assert.match(row.backend, /^pretrained onnx [0-9a-f]{12} on onnxruntime-node .* \(cpu\)$/);

    // The model is stored under the hash of its bytes.
    const descriptor = await getJson<PretrainedArtifact>(store, row.modelKey);
    const bytes = await readFile(ONNX);
    assert.equal(descriptor.sha256, sha256Hex(Buffer.from(sha256Hex(bytes))));
    assert.deepEqual(await store.get(descriptor.modelFile), bytes);

    // Independent check of one cell: raw ONNX outputs, argmax over all 10, then the map (others are misses).
    const variant = results.variants.find((v) => v.label === 'original')!;
    const source = await openSampleSource(store, variant.manifestKey!, 'val');
    const pp = preprocessSchema.parse(PREPROCESS);
    const raw = await loadOnnxModel(bytes, { providers: ['cpu'] });
    const toClass = new Map(
      Object.entries(CLASS_MAP).map(([o, name]) => [Number(o), source.classes.indexOf(name)]),
    );
    let correct = 0;
    let n = 0;
    let outside = 0;
    for await (const s of source.iterate()) {
      const { data } = await raw.run(toModelInput(viewPixels(s, pp), 1, pp), [1, 3, 32, 32]);
      const top = data.indexOf(Math.max(...data));
      if (!toClass.has(top)) outside++;
      if (toClass.get(top) === s.label) correct++;
      n++;
    }
    await raw.dispose();
    assert.equal(n, 18);
    assert.equal(row.accuracy.original, correct / n);
    const confusion = row.confusion.original!;
    assert.equal(confusion.length, 3);
    assert.equal(confusion[0]!.length, 4, 'a 4th column counts predictions outside the classes');
    assert.equal(
      confusion.reduce((a, r) => a + r[3]!, 0),
      outside,
    );

    assert.ok(row.challenge);
    assert.equal(row.challenge.backgrounds, 4);
    assert.ok(row.challenge.foregrounds > 0 && row.challenge.foregrounds <= 3);
    assert.equal(row.saliency.length, 5);
    const sal = await getJson<SaliencyResult>(store, `${row.saliency[0]!.gridKey.slice(0, -4)}.json`);
    assert.equal(sal.method, 'occlusion');
    assert.equal(sal.items.length, 3);
    assert.ok(sal.items.every((i) => i.map.length === 32 * 32));

    const md = (await store.get(result.reportKey!)).toString('utf8');
    assert.match(md, /\| tiny \| pretrained \|/);
    const html = (await store.get(result.htmlKey!)).toString('utf8');
    assert.match(html, /tiny/);

    // The same spec again: the import and every evaluation are found in the store.
    const again = await (await start()).result();
    const results2 = await getJson<StudyResults>(store, again.resultsKey!);
    assert.deepEqual(results2.rows[0]!.accuracy, row.accuracy);
    assert.equal(results2.rows[0]!.modelKey, row.modelKey);
  });

  test('a model file that does not exist fails the study, naming it', async () => {
    const spec = {
      version: 1,
      name: uniqueId('missing'),
      dataset: { source: 'synthetic', classes: 3, perClass: { train: 2, val: 2 }, size: 16, seed: 1 },
      variants: ['original'],
      models: [
        {
          name: 'ghost',
          source: 'onnx',
          uri: '/nonexistent/ghost.onnx',
          preprocess: 'in9',
          classMap: 'identity',
        },
      ],
    };
    const handle = await startStudy(client, spec, {
      taskQueue,
      workflowOptions: { gpuTaskQueue: `${taskQueue}-gpu` },
    });
    await assert.rejects(handle.result(), (err: Error) => {
      const messages: string[] = [];
      for (let e: unknown = err; e instanceof Error; e = e.cause) messages.push(e.message);
      assert.match(
        messages.join(' <- '),
        /model ghost: \/nonexistent\/ghost\.onnx: cannot read the model file \(ENOENT\)/,
      );
      return true;
    });
  });
});

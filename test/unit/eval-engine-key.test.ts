/**
 * Evaluation results are keyed by the engine that computes them: an imported ONNX model by onnxruntime's
 * provider, not by the worker's tfjs backend (which never runs it). Another provider is another result; the
 * same provider finds the stored one.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createEvaluateActivities } from '../../activities/evaluate';
import type { OpenSource } from '../../activities/train';
import { configureEngine } from '../../core/backend/engine-settings';
import { importPretrained } from '../../core/ml/pretrained';
import { preprocessSchema } from '../../core/ml/preprocess';
import { FsArtifactStore } from '../../store/fs-store';
import { memorySource, toySamples } from '../helpers/memory-source';
import { writeTinyTfjsModel } from '../helpers/tiny-tfjs';

const ONNX = path.join(__dirname, '..', 'fixtures', 'models', 'tiny-cnn.onnx');
const CLASSES = ['disk', 'square', 'triangle'];
const dirs: string[] = [];
after(async () => {
  configureEngine({});
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

void test('ONNX evaluations are keyed by the onnxruntime provider; tfjs ones by the tfjs backend alone', async () => {
  await tf.setBackend('cpu');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-engine-key-'));
  dirs.push(dir);
  const store = new FsArtifactStore(path.join(dir, 'store'));
  const onnx = await importPretrained(store, {
    name: 'tiny-onnx',
    source: 'onnx',
    uri: ONNX,
    preprocess: preprocessSchema.parse({ inputSize: 32, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }),
    classMap: { '2': 'disk', '5': 'square', '7': 'triangle' },
  });
  const tfjs = await importPretrained(store, {
    name: 'tiny-tfjs',
    source: 'tfjs',
    uri: await writeTinyTfjsModel(path.join(dir, 'model'), 32, 5),
    preprocess: preprocessSchema.parse({
      inputSize: 32,
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
      layout: 'NHWC',
    }),
    classMap: { '0': 'disk', '2': 'square', '3': 'triangle' },
  });
  const openSource: OpenSource = async () => memorySource(toySamples(9, 32, 3, 7), CLASSES);
  const ev = createEvaluateActivities({ store, openSource });
  const evaluate = (modelKey: string, providers: string) => {
    configureEngine({ onnxProviders: providers });
    return ev.evaluateModel({ modelKey, manifestKey: 'm/val', variantId: 'original' });
  };

  const cpu = await evaluate(onnx.key, 'cpu');
  const again = await evaluate(onnx.key, 'cpu');
  assert.equal(again.resultKey, cpu.resultKey, 'the same provider finds the stored result');
  const other = await evaluate(onnx.key, 'cuda,cpu');
  assert.notEqual(other.resultKey, cpu.resultKey, 'another provider is another result');
  assert.equal(other.n, 9);

  // A tfjs model never runs on onnxruntime: its key does not move with the provider setting.
  const t1 = await evaluate(tfjs.key, 'cpu');
  const t2 = await evaluate(tfjs.key, 'cuda,cpu');
  assert.equal(t2.resultKey, t1.resultKey);
});

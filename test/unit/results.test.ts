import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assembleModelResults,
  backendInfo,
  RESULTS_SCHEMA,
  type TrainSummary,
  type VariantEvaluation,
} from '../../core/ml/results';

const train = { runKey: 'runs/x' } as TrainSummary;
const ev = (variant: string, accuracy: number, _pairing?: number) =>
  ({ variant, accuracy }) as unknown as VariantEvaluation;

void test('BG-Gap is mean acc(mixed_same) - mean acc(mixed_rand) over the re-pairings', () => {
  const r = assembleModelResults(train, [
    ev('original', 0.9),
    ev('mixed_same', 0.8, 1),
    ev('mixed_same', 0.7, 2),
    ev('mixed_rand', 0.5, 1),
    ev('mixed_rand', 0.6, 2),
  ]);
  assert.equal(r.schema, RESULTS_SCHEMA);
  assert.deepEqual(r.accuracy.mixed_same!.values, [0.8, 0.7]);
  assert.ok(Math.abs(r.accuracy.mixed_same!.mean - 0.75) < 1e-12);
  assert.ok(Math.abs(r.bgGap! - 0.2) < 1e-12);
  assert.equal(r.evaluations.length, 5);
  assert.equal(assembleModelResults(train, [ev('mixed_same', 0.8)]).bgGap, null);
});

void test('backend info names the backend and the tfjs versions', () => {
  const b = backendInfo('wasm (2 workers)');
  assert.equal(b.name, 'wasm (2 workers)');
  assert.match(b.versions['tfjs-core'] ?? '', /^\d+\.\d+\.\d+$/);
  assert.equal(b.node, process.version);
});

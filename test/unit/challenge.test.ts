import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backgroundsChallenge,
  challengeCursorFor,
  type ChallengeCursor,
  composite,
  classQuota,
  loadBackgroundPool,
} from '../../core/ml/challenge';
import type { Sample } from '../../core/data/sample';
import { memorySource } from '../helpers/memory-source';

const S = 4;

/** An S x S image of one colour; `maskPixels` lists the foreground pixels (index y*S+x). */
function img(id: string, label: number, rgb: [number, number, number], maskPixels?: number[]): Sample {
  const data = new Uint8Array(S * S * 3);
  for (let p = 0; p < S * S; p++) data.set(rgb, p * 3);
  const mask = maskPixels ? new Uint8Array(S * S) : undefined;
  maskPixels?.forEach((p) => (mask![p] = 255));
  return { id, label, width: S, height: S, rgb: data, mask };
}

/** The model looks only at pixel 0: red there means class 0, otherwise class 1. Counts its evaluations. */
function pixelZeroModel() {
  const calls: number[] = [];
  const predict = async (x: Float32Array, n: number) => {
    calls.push(n);
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) out[i * 2] = x[i * S * S * 3]! > 0.5 ? 1 : -1;
    return out;
  };
  return { predict, calls };
}

void test('composite is bg*(1-mask) + fg*mask per pixel', () => {
  const fg = Float32Array.from([1, 1, 1, 1, 1, 1]);
  const bg = Float32Array.from([0, 0.5, 0, 0.2, 0.2, 0.2]);
  const out = new Float32Array(6);
  composite(fg, Float32Array.from([1, 0.25]), bg, out);
  assert.deepEqual(
    [...out].map((v) => +v.toFixed(4)),
    [1, 1, 1, 0.4, 0.4, 0.4],
  );
});

const classes = ['red', 'other'];
// Backgrounds: grey, grey, grey, red, grey. Only pixel 0 of a composite matters to the model.
const bgs = [
  img('b0', 1, [90, 90, 90]),
  img('b1', 1, [90, 90, 90]),
  img('b2', 1, [90, 90, 90]),
  img('b3', 0, [255, 0, 0]),
  img('b4', 1, [90, 90, 90]),
];
const fgs = [
  img('f0', 0, [255, 0, 0], [0, 1]), // red object covering pixel 0: correct on every background
  img('f1', 0, [255, 0, 0], [5, 6]), // red object elsewhere: pixel 0 is the background's, wrong on grey b0 at once
  img('f2', 1, [0, 0, 255], [0]), // blue object covering pixel 0: correct everywhere
  img('f3', 1, [0, 0, 255], [9]), // blue object elsewhere: fooled by the red b3 only
  img('f4', 1, [0, 0, 255]), // no mask: skipped and reported
  { ...img('f5', 1, [0, 0, 255]), mask: new Uint8Array(3) }, // mask of the wrong size: skipped and reported
];

void test('the challenge counts foregrounds fooled by some background and stops at the first miss', async () => {
  const pool = await loadBackgroundPool(memorySource(bgs, classes), S);
  assert.equal(pool.count, 5);
  const { predict, calls } = pixelZeroModel();
  const out = await backgroundsChallenge(predict, memorySource(fgs, classes), pool, {
    inputSize: S,
    numClasses: 2,
    batchSize: 2,
  });
  assert.equal(out.foregrounds, 4);
  assert.equal(out.vulnerable, 2);
  assert.equal(out.adversarialAccuracy, 0.5);
  assert.deepEqual(out.skipped, ['f4', 'f5']);
  assert.deepEqual(
    out.perClass.map((c) => [c.foregrounds, c.vulnerable, c.adversarialAccuracy]),
    [
      [2, 1, 0.5],
      [2, 1, 0.5],
    ],
  );
  // Each foreground: its own image (1), then f0: 2+2+1; f1: stops after the first batch; f2: 2+2+1;
  // f3: stops in the batch holding b3 (2+2).
  assert.deepEqual(calls, [1, 2, 2, 1, 1, 2, 1, 2, 2, 1, 1, 2, 2]);
  assert.equal(out.evaluations, 20);
  assert.equal(out.cleanAccuracy, 1);
});

void test('the challenge resumes from a heartbeated cursor with the same result', async () => {
  const pool = await loadBackgroundPool(memorySource(bgs, classes), S);
  const cursors: ChallengeCursor[] = [];
  const stop = new AbortController();
  await assert.rejects(
    backgroundsChallenge(pixelZeroModel().predict, memorySource(fgs, classes), pool, {
      inputSize: S,
      numClasses: 2,
      batchSize: 2,
      signal: stop.signal,
      onProgress: (c) => {
        cursors.push(c);
        if (c.fgIdx === 2) stop.abort(new Error('cancelled'));
      },
    }),
    /cancelled/,
  );
  // as it comes back from a heartbeat, and as the activity reads it back (validated for 2 classes)
  const last = challengeCursorFor(2).parse(JSON.parse(JSON.stringify(cursors.at(-1))));
  assert.deepEqual(
    { ...last, perClassComputed: undefined, perClassVulnerable: undefined },
    {
      classIdx: 0,
      fgIdx: 2,
      vulnerable: 1,
      computed: 2,
      cleanCorrect: 2,
      perClassTaken: [2, 0],
      skipped: [],
      perClassComputed: undefined,
      perClassVulnerable: undefined,
    },
  );
  const { predict, calls } = pixelZeroModel();
  const out = await backgroundsChallenge(predict, memorySource(fgs, classes), pool, {
    inputSize: S,
    numClasses: 2,
    batchSize: 2,
    cursor: last,
  });
  assert.deepEqual(calls, [1, 2, 2, 1, 1, 2, 2], 'only f2 and f3 are computed again');
  assert.equal(out.adversarialAccuracy, 0.5);
  assert.equal(out.foregrounds, 4);
  assert.deepEqual(out.skipped, ['f4', 'f5']);
});

void test('an empty background pool is an error, not a perfect score', async () => {
  await assert.rejects(
    backgroundsChallenge(
      pixelZeroModel().predict,
      memorySource(fgs, classes),
      { pixels: new Float32Array(0), count: 0 },
      {
        inputSize: S,
        numClasses: 2,
        batchSize: 2,
      },
    ),
    /pool is empty/,
  );
});

void test('subsets of foregrounds and backgrounds are balanced over the classes', async () => {
  assert.deepEqual(
    [0, 1, 2].map((c) => classQuota(7, 3, c)),
    [3, 2, 2],
  );
  assert.equal(classQuota(Infinity, 3, 0), Infinity);
  // Two backgrounds of five, one per class: b0 (first "other") and b3 (the only "red").
  const pool = await loadBackgroundPool(memorySource(bgs, classes), S, 2);
  assert.equal(pool.count, 2);
  assert.equal(pool.pixels[0], Math.fround(90 / 255));
  assert.equal(pool.pixels[S * S * 3], 1);
  const out = await backgroundsChallenge(pixelZeroModel().predict, memorySource(fgs, classes), pool, {
    inputSize: S,
    numClasses: 2,
    batchSize: 2,
    maxForegrounds: 2,
  });
  // One foreground per class, the first of each: f0 (robust: its red covers pixel 0) and f2 (robust too).
  assert.deepEqual([out.foregrounds, out.vulnerable, out.skipped], [2, 0, []]);
  assert.deepEqual(
    out.perClass.map((c) => c.foregrounds),
    [1, 1],
  );
});

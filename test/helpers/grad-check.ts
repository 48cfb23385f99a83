/**
 * Gradient checks of a tfjs backend against the cpu backend (the reference): forward value and gradients of
 * conv2d, depthwiseConv2d and maxPool for one case, compared by relative error (max |a - b| / max |b|).
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

/** Deterministic values in [-1, 1). */
export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export type Pad = 'same' | 'valid' | number;

/** Gradients of sum(conv(x, w) * dy) with respect to x and w, on the current backend. */
async function convGrads(
  kind: 'conv' | 'depthwise',
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  dy: tf.Tensor4D,
  strides: [number, number],
  pad: Pad,
  dilation: number,
) {
  const f = (a: tf.Tensor, b: tf.Tensor) =>
    kind === 'conv'
      ? tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad, 'NHWC', dilation)
      : tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad, 'NHWC', dilation);
  const [dx, dw] = tf.grads(f)([x, w], dy);
  const y = f(x, w);
  const out = { y: await y.data(), dx: await dx!.data(), dw: await dw!.data() };
  tf.dispose([dx!, dw!, y]);
  return out;
}

export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  assert.ok(scale > 0, 'reference gradient is all zeros: the case tests nothing');
  return diff / scale;
}

export interface Case {
  kind: 'conv' | 'depthwise';
  n: number;
  h: number;
  w: number;
  ci: number;
  /** Output channels (conv) or channel multiplier (depthwise). */
  co: number;
  kh: number;
  kw: number;
  strides: [number, number];
  pad: Pad;
  dilation?: number;
}

export async function compare(c: Case, backend = 'wasm', tolerance = 1e-5): Promise<void> {
  const dil = c.dilation ?? 1;
  const xShape: [number, number, number, number] = [c.n, c.h, c.w, c.ci];
  const wShape: [number, number, number, number] = [c.kh, c.kw, c.ci, c.co];
  const xv = values(c.n * c.h * c.w * c.ci, 1);
  const wv = values(c.kh * c.kw * c.ci * c.co, 2);
  const results: Record<string, Awaited<ReturnType<typeof convGrads>>> = {};
  for (const name of ['cpu', backend]) {
    assert.ok(await tf.setBackend(name), `backend ${name} did not initialize`);
    const x = tf.tensor4d(xv, xShape);
    const w = tf.tensor4d(wv, wShape);
    const yShape = (
      c.kind === 'conv'
        ? tf.conv2d(x, w, c.strides, c.pad, 'NHWC', dil)
        : tf.depthwiseConv2d(x, w, c.strides, c.pad, 'NHWC', dil)
    ).shape;
    const dy = tf.tensor4d(
      values(
        yShape.reduce((a, b) => a * b, 1),
        3,
      ),
      yShape,
    );
    results[name] = await convGrads(c.kind, x, w, dy, c.strides, c.pad, dil);
    tf.dispose([x, w, dy]);
  }
  const label = JSON.stringify(c);
  for (const key of ['y', 'dx', 'dw'] as const) {
    const e = relErr(results[backend]![key], results.cpu![key]);
    assert.ok(
      e < tolerance,
      `${backend} ${key} differs from cpu by ${e.toExponential(2)} relative for ${label}`,
    );
  }
}

export interface PoolCase {
  n: number;
  h: number;
  w: number;
  c: number;
  size: [number, number];
  strides: [number, number];
  pad: 'same' | 'valid';
  /** Quantize inputs so windows contain ties (the first maximum must win, as on cpu). */
  ties?: boolean;
}

export async function comparePool(p: PoolCase, backend = 'wasm', tolerance = 1e-6): Promise<void> {
  const xv = values(p.n * p.h * p.w * p.c, 7).map((v) => (p.ties ? Math.round(v * 2) : v));
  const results: Record<string, { y: Float32Array; dx: Float32Array }> = {};
  for (const name of ['cpu', backend]) {
    assert.ok(await tf.setBackend(name), `backend ${name} did not initialize`);
    const x = tf.tensor4d(xv, [p.n, p.h, p.w, p.c]);
    const f = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, p.size, p.strides, p.pad);
    const y = f(x);
    const dy = tf.tensor(values(y.size, 8), y.shape);
    const dx = tf.grad(f)(x, dy);
    results[name] = { y: (await y.data()) as Float32Array, dx: (await dx.data()) as Float32Array };
    tf.dispose([x, y, dy, dx]);
  }
  for (const key of ['y', 'dx'] as const) {
    const e = relErr(results[backend]![key], results.cpu![key]);
    assert.ok(
      e < tolerance,
      `${backend} maxPool ${key} differs from cpu by ${e.toExponential(2)} for ${JSON.stringify(p)}`,
    );
  }
}

export const convCases: Case[] = [
  { kind: 'conv', n: 2, h: 8, w: 8, ci: 3, co: 16, kh: 3, kw: 3, strides: [1, 1], pad: 'same' },
  { kind: 'conv', n: 3, h: 9, w: 7, ci: 16, co: 8, kh: 3, kw: 3, strides: [2, 2], pad: 'same' },
  { kind: 'conv', n: 1, h: 10, w: 10, ci: 5, co: 7, kh: 3, kw: 3, strides: [1, 1], pad: 'valid' },
  { kind: 'conv', n: 2, h: 11, w: 9, ci: 4, co: 6, kh: 3, kw: 3, strides: [2, 2], pad: 'valid' },
  { kind: 'conv', n: 2, h: 15, w: 15, ci: 3, co: 8, kh: 7, kw: 7, strides: [2, 2], pad: 'same' },
  { kind: 'conv', n: 4, h: 6, w: 6, ci: 40, co: 33, kh: 1, kw: 1, strides: [1, 1], pad: 'valid' },
  { kind: 'conv', n: 2, h: 8, w: 8, ci: 8, co: 16, kh: 1, kw: 1, strides: [2, 2], pad: 'valid' },
  { kind: 'conv', n: 2, h: 9, w: 10, ci: 6, co: 5, kh: 5, kw: 3, strides: [3, 1], pad: 'same' },
  { kind: 'conv', n: 1, h: 7, w: 7, ci: 2, co: 3, kh: 5, kw: 5, strides: [1, 1], pad: 2 },
  { kind: 'conv', n: 5, h: 5, w: 5, ci: 1, co: 1, kh: 2, kw: 2, strides: [1, 2], pad: 'same' },
  { kind: 'conv', n: 2, h: 12, w: 12, ci: 32, co: 64, kh: 3, kw: 3, strides: [1, 1], pad: 'same' },
  // Rows of at least 24 output columns: the filter gradient copies them with copyWithin.
  { kind: 'conv', n: 2, h: 5, w: 30, ci: 3, co: 4, kh: 3, kw: 3, strides: [1, 1], pad: 'same' },
  { kind: 'conv', n: 1, h: 6, w: 40, ci: 2, co: 3, kh: 5, kw: 3, strides: [1, 1], pad: 'valid' },
  // Padding wider than the filter: Conv2DBackpropInput falls back to the stock kernel.
  { kind: 'conv', n: 2, h: 5, w: 5, ci: 3, co: 4, kh: 1, kw: 1, strides: [1, 1], pad: 1 },
  { kind: 'conv', n: 2, h: 6, w: 6, ci: 3, co: 4, kh: 1, kw: 1, strides: [2, 2], pad: 1 },
  // Stride 3 with a 2-tap filter: some phases meet no tap at all (their dx is 0).
  { kind: 'conv', n: 2, h: 10, w: 8, ci: 4, co: 5, kh: 2, kw: 2, strides: [3, 3], pad: 'valid' },
];

export const depthwiseCases: Case[] = [
  { kind: 'depthwise', n: 2, h: 8, w: 8, ci: 8, co: 1, kh: 3, kw: 3, strides: [1, 1], pad: 'same' },
  { kind: 'depthwise', n: 3, h: 9, w: 7, ci: 6, co: 1, kh: 3, kw: 3, strides: [2, 2], pad: 'same' },
  { kind: 'depthwise', n: 1, h: 10, w: 10, ci: 4, co: 2, kh: 3, kw: 3, strides: [1, 1], pad: 'valid' },
  { kind: 'depthwise', n: 2, h: 11, w: 11, ci: 3, co: 1, kh: 5, kw: 5, strides: [2, 2], pad: 'valid' },
];

export const poolCases: PoolCase[] = [
  { n: 2, h: 8, w: 8, c: 16, size: [2, 2], strides: [2, 2], pad: 'valid' },
  { n: 2, h: 9, w: 7, c: 3, size: [2, 2], strides: [2, 2], pad: 'valid', ties: true },
  { n: 2, h: 9, w: 9, c: 5, size: [3, 3], strides: [2, 2], pad: 'same' },
  { n: 1, h: 6, w: 6, c: 4, size: [2, 2], strides: [1, 1], pad: 'same', ties: true },
  { n: 3, h: 7, w: 8, c: 2, size: [3, 2], strides: [2, 1], pad: 'valid' },
];

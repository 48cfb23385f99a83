/**
 * Shapes the wasm backend handles slowly in training, each with a direct loop over the heap:
 * - Sum and Mean over the leading axes (bias gradients and BatchNorm moments: [N, H, W, C] reduced to
 *   [C]); the stock kernels first transpose the whole tensor to make the reduced axes innermost.
 * - Tile of a [1, 1, 1, C] row to [N, H, W, C] (tfjs's BatchNorm gradient), as doubling block copies
 *   instead of the stock kernel's per-element index arithmetic.
 * - BatchMatMul with a tiny inner dimension (the model's 3x3 input normalization applied to every pixel:
 *   [N*H*W, 3] x [3, 3]), where XNNPACK's packing costs far more than the arithmetic.
 * - Identity (tfjs's gradient bookkeeping calls it on every activation), which the stock kernel copies:
 *   tensors are immutable, so the output shares the input's data with one more reference, as the cpu
 *   backend does.
 * Every other case goes to the stock kernel. Sums accumulate in float64, as the cpu backend does.
 */
import { BatchMatMul, Identity, Mean, Sum, Tile, util } from '@tensorflow/tfjs';
import type { BatchMatMulAttrs, MeanAttrs, SumAttrs, TensorInfo, TileAttrs } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heap, heapIndex, stockKernel, view, wasmKernel } from './wasm-heap';

/** Sum (or mean) over leading axes, accumulated in float64; null where the stock kernel must run. */
function reduceLeading(
  backend: BackendWasm,
  x: TensorInfo,
  axis: number | number[],
  keepDims: boolean,
  mean: boolean,
): TensorInfo | null {
  const rank = x.shape.length;
  const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return null;
  const rows = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(axes.length);
  const cols = inner.reduce((a, b) => a * b, 1);
  const outShape = keepDims ? [...Array<number>(axes.length).fill(1), ...inner] : inner;
  const out = backend.makeOutput(outShape, 'float32');
  const h = heap(backend);
  const src = heapIndex(backend, x);
  const acc = new Float64Array(cols);
  let r = 0;
  // Four rows per pass: a quarter of the accumulator loads and stores.
  for (; r + 4 <= rows; r += 4) {
    const o = src + r * cols;
    for (let c = 0; c < cols; c++)
      acc[c]! += h[o + c]! + h[o + cols + c]! + h[o + 2 * cols + c]! + h[o + 3 * cols + c]!;
  }
  for (; r < rows; r++) {
    const o = src + r * cols;
    for (let c = 0; c < cols; c++) acc[c]! += h[o + c]!;
  }
  if (mean && rows > 0) for (let c = 0; c < cols; c++) acc[c] = acc[c]! / rows;
  h.set(acc, heapIndex(backend, out));
  return out;
}

function sumWasm(args: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: SumAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  return (
    reduceLeading(backend, inputs.x, attrs.axis, attrs.keepDims, false) ??
    (stockKernel(Sum)(args as never) as TensorInfo)
  );
}

function meanWasm(args: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: MeanAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  return (
    reduceLeading(backend, inputs.x, attrs.axis, attrs.keepDims, true) ??
    (stockKernel(Mean)(args as never) as TensorInfo)
  );
}

/** Tile whose repeated axes all have size 1 and come before every other axis: R copies of one block. */
function tileWasm(args: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: TileAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const reps = attrs.reps;
  let last = -1;
  reps.forEach((r, i) => {
    if (r > 1) last = i;
  });
  const blockShape = x.shape.slice(last + 1);
  const fast = x.dtype === 'float32' && last >= 0 && x.shape.slice(0, last + 1).every((d) => d === 1);
  if (!fast) return stockKernel(Tile)(args as never) as TensorInfo;
  const block = blockShape.reduce((a, b) => a * b, 1);
  const copies = reps.slice(0, last + 1).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput(
    x.shape.map((d, i) => d * reps[i]!),
    'float32',
  );
  const h = heap(backend);
  const dst = heapIndex(backend, out);
  const src = heapIndex(backend, x);
  h.copyWithin(dst, src, src + block);
  // Doubling: after k rounds the first 2^k blocks are filled.
  for (let filled = 1; filled < copies; filled *= 2) {
    const n = Math.min(filled, copies - filled);
    h.copyWithin(dst + filled * block, dst, dst + n * block);
  }
  return out;
}

/** Inner dimensions up to this size use the loop. */
const SKINNY_K = 4;

function batchMatMulWasm(args: {
  inputs: { a: TensorInfo; b: TensorInfo };
  backend: BackendWasm;
  attrs: BatchMatMulAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { a, b } = inputs;
  const ar = a.shape.length;
  const br = b.shape.length;
  const K = a.shape[ar - 1]!;
  const skinny =
    !attrs.transposeA &&
    !attrs.transposeB &&
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    K <= SKINNY_K &&
    b.shape[br - 2] === K &&
    // One shared right-hand matrix: b has no batch dimensions above 1.
    b.shape.slice(0, -2).every((d) => d === 1);
  if (!skinny) return stockKernel(BatchMatMul)(args as never) as TensorInfo;
  const Ncols = b.shape[br - 1]!;
  const M = a.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const outShape = [...a.shape.slice(0, -1), Ncols];
  if (ar < br) outShape.unshift(...Array<number>(br - ar).fill(1));
  const out = backend.makeOutput(outShape, 'float32');
  const h = heap(backend);
  const pa = heapIndex(backend, a);
  const pb = heapIndex(backend, b);
  const po = heapIndex(backend, out);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < Ncols; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += h[pa + m * K + k]! * h[pb + k * Ncols + n]!;
      h[po + m * Ncols + n] = s;
    }
  return out;
}

export const sumConfig = wasmKernel(Sum, sumWasm);

export const meanConfig = wasmKernel(Mean, meanWasm);

export const tileConfig = wasmKernel(Tile, tileWasm);

export const batchMatMulConfig = wasmKernel(BatchMatMul, batchMatMulWasm);

export const identityConfig = wasmKernel(
  Identity,
  ({ inputs, backend }: { inputs: { x: TensorInfo }; backend: BackendWasm }) =>
    inputs.x.dtype === 'string'
      ? stockKernel(Identity)({ inputs, backend, attrs: {} })
      : view(backend, inputs.x, inputs.x.shape),
);

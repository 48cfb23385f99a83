/**
 * Two shapes the wasm backend handles slowly in training, each with a direct loop over the heap:
 * - Sum over the leading axes (bias gradients: dy of shape [N, H, W, C] summed to [C]); the stock kernel
 *   first transposes the whole tensor to make the reduced axes innermost.
 * - BatchMatMul with a tiny inner dimension (the model's 3x3 input normalization applied to every pixel:
 *   [N*H*W, 3] x [3, 3]), where XNNPACK's packing costs far more than the arithmetic.
 * Every other case goes to the stock kernel. Sums accumulate in float64, as the cpu backend does.
 */
import { BatchMatMul, Sum, util } from '@tensorflow/tfjs';
import type { BatchMatMulAttrs, KernelConfig, KernelFunc, SumAttrs, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heap, heapIndex, stockKernel } from './wasm-heap';

function sumWasm(args: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: SumAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const rank = x.shape.length;
  const axes = util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return stockKernel(Sum)(args as never) as TensorInfo;
  const rows = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(axes.length);
  const cols = inner.reduce((a, b) => a * b, 1);
  const outShape = attrs.keepDims ? [...Array<number>(axes.length).fill(1), ...inner] : inner;
  const out = backend.makeOutput(outShape, 'float32');
  const h = heap(backend);
  const src = heapIndex(backend, x);
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = src + r * cols;
    for (let c = 0; c < cols; c++) acc[c]! += h[o + c]!;
  }
  h.set(acc, heapIndex(backend, out));
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

export const sumConfig: KernelConfig = {
  kernelName: Sum,
  backendName: 'wasm',
  kernelFunc: sumWasm as unknown as KernelFunc,
};

export const batchMatMulConfig: KernelConfig = {
  kernelName: BatchMatMul,
  backendName: 'wasm',
  kernelFunc: batchMatMulWasm as unknown as KernelFunc,
};

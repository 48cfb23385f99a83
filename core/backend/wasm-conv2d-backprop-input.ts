/**
 * A faster Conv2DBackpropInput for the wasm backend (its stock kernel is a plain loop): the input gradient
 * of a 2-D convolution is a forward convolution, run by the backend's XNNPACK Conv2D, of the output gradient
 * with the filter rotated by 180 degrees and its in/out channels swapped:
 *   dx = conv(dilate(dy, stride), rot180(W)^T, stride 1, pad top = KH - 1 - padTop, left = KW - 1 - padLeft,
 *        bottom/right chosen so that the result has the input's height/width).
 * For stride 1 dy is used in place; for larger strides dy is first spread onto a zero grid ("dilated").
 * Cases this does not cover (NCHW, pads larger than the filter) go to the stock kernel.
 */
import { backend_util, Conv2DBackpropInput } from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { free, heap, heapIndex, stockKernel, tensorId, wasmModule } from './wasm-heap';

type Conv2dFn = (...args: number[]) => void;
const conv2dFns = new WeakMap<BackendWasm, Conv2dFn>();

/** The backend's compiled Conv2D entry point, which takes explicit (asymmetric) paddings. */
export function wasmConv2d(backend: BackendWasm): Conv2dFn {
  let fn = conv2dFns.get(backend);
  if (!fn) {
    fn = wasmModule(backend).cwrap('Conv2D', null, Array<string>(19).fill('number'));
    conv2dFns.set(backend, fn);
  }
  return fn;
}

/** Writes dy (N, OH, OW, C) onto a zero grid (N, (OH-1)*sh+1, (OW-1)*sw+1, C) at the strided positions. */
export function dilateInto(
  h: Float32Array,
  src: number,
  dst: number,
  N: number,
  OH: number,
  OW: number,
  C: number,
  sh: number,
  sw: number,
): void {
  const HD = (OH - 1) * sh + 1;
  const WD = (OW - 1) * sw + 1;
  h.fill(0, dst, dst + N * HD * WD * C);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const s = src + ((n * OH + oh) * OW + ow) * C;
        const d = dst + ((n * HD + oh * sh) * WD + ow * sw) * C;
        if (C >= 32) h.copyWithin(d, s, s + C);
        else for (let i = 0; i < C; i++) h[d + i] = h[s + i]!;
      }
}

/** Cache-blocked transpose of a rows x cols matrix at heap offset src into dst (cols x rows). */
export function transposeBlock(h: Float32Array, src: number, rows: number, cols: number, dst: number): void {
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B)
    for (let c0 = 0; c0 < cols; c0 += B) {
      const r1 = Math.min(rows, r0 + B);
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        const sr = src + r * cols;
        for (let c = c0; c < c1; c++) h[dst + c * rows + r] = h[sr + c]!;
      }
    }
}

export function conv2dBackpropInputWasm(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: BackendWasm;
  attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  const fmt = backend_util.convertConv2DDataFormat(dataFormat);
  const c = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    fmt,
  );
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: CI,
    outHeight: OH,
    outWidth: OW,
    outChannels: CO,
  } = c;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = c;
  const HD = (OH - 1) * sh + 1;
  const WD = (OW - 1) * sw + 1;
  const top = KH - 1 - c.padInfo.top;
  const left = KW - 1 - c.padInfo.left;
  const bottom = H + KH - 1 - HD - top;
  const right = W + KW - 1 - WD - left;
  if (c.dataFormat !== 'channelsLast' || Math.min(top, left, bottom, right) < 0) {
    return stockKernel(Conv2DBackpropInput)(args as never) as TensorInfo;
  }

  // rot180(W)^T: flipped[kh, kw, co, ci] = W[KH-1-kh, KW-1-kw, ci, co].
  const flipped = backend.makeOutput([KH, KW, CO, CI], 'float32');
  const out = backend.makeOutput(inputShape, 'float32');
  const grid = sh === 1 && sw === 1 ? dy : backend.makeOutput([N, HD, WD, CO], 'float32');
  const h = heap(backend);
  const f = heapIndex(backend, filter);
  const fl = heapIndex(backend, flipped);
  for (let kh = 0; kh < KH; kh++)
    for (let kw = 0; kw < KW; kw++) {
      const s = f + ((KH - 1 - kh) * KW + (KW - 1 - kw)) * CI * CO;
      transposeBlock(h, s, CI, CO, fl + (kh * KW + kw) * CO * CI);
    }
  if (grid !== dy) dilateInto(h, heapIndex(backend, dy), heapIndex(backend, grid), N, OH, OW, CO, sh, sw);
  // prettier-ignore
  wasmConv2d(backend)(
    tensorId(backend, grid), N, HD, WD,
    tensorId(backend, flipped), KH, KW,
    top, right, bottom, left, 0 /* explicit padding, not SAME */,
    1, 1, 1, 1, // dilation, stride
    CO, CI, tensorId(backend, out),
  );
  free(backend, flipped);
  if (grid !== dy) free(backend, grid);
  return out;
}

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInputWasm as unknown as KernelFunc,
};

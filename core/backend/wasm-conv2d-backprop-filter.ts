/**
 * Conv2DBackpropFilter for the wasm backend, which ships none: the weight gradient of a 2-D convolution,
 *   dW[kh, kw, ci, co] = sum over (n, oh, ow) of x[n, oh*sh - padTop + kh, ow*sw - padLeft + kw, ci] * dy[n, oh, ow, co],
 * computed as a transposed im2col patch matrix P^T (one row per filter tap (kh, kw, ci), one column per
 * output pixel) times the output gradient seen as an M x CO matrix: dW (K x CO) = P^T (K x M) . dy (M x CO).
 * The product runs in the backend's XNNPACK matmul, which is fast only without transposed operands; that is
 * why the patch matrix is built transposed here rather than transposing anything in the kernel.
 * Large batches are split into chunks of images to bound the patch matrix's memory. NHWC only.
 */
import { backend_util, Conv2DBackpropFilter } from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, free, heap, heapIndex, transposeBlock, view, wasmKernel } from './wasm-heap';

/** Upper bound on the patch matrix per chunk, in floats (64 MiB); tests lower it to exercise chunking. */
export const patchLimits = { maxFloats: 16 * 1024 * 1024 };

/** Runs of at least this many floats are copied with copyWithin (a memmove); shorter ones by a loop. */
const MEMMOVE_RUN = 24;

/**
 * Writes P^T for images [n0, n0 + nb) into HEAPF32 at pOff: row k = (kh, kw, ci) holds, for every output
 * pixel of those images in (n, oh, ow) order, the input value that filter tap meets there (0 in padding).
 * It reads a channel-major copy of those images (xt: CI x nb x H x W), so that at stride 1 each output row
 * is one contiguous run of an input row: a memmove instead of a gather at stride CI.
 */
function im2colTransposed(
  h: Float32Array,
  xtOff: number,
  pOff: number,
  c: backend_util.Conv2DInfo,
  nb: number,
): void {
  const {
    inHeight: H,
    inWidth: W,
    inChannels: CI,
    outHeight: OH,
    outWidth: OW,
    filterHeight: KH,
    filterWidth: KW,
  } = c;
  const { strideHeight: sh, strideWidth: sw } = c;
  const pt = c.padInfo.top;
  const pl = c.padInfo.left;
  const M = nb * OH * OW;
  for (let kh = 0; kh < KH; kh++)
    for (let kw = 0; kw < KW; kw++) {
      // Output columns whose input column iw = ow*sw - pl + kw lies inside the image: [owLo, owHi).
      const owLo = Math.min(OW, Math.max(0, Math.ceil((pl - kw) / sw)));
      const owHi = Math.max(owLo, Math.min(OW, Math.floor((W - 1 + pl - kw) / sw) + 1));
      const run = owHi - owLo;
      for (let ci = 0; ci < CI; ci++) {
        let dst = pOff + ((kh * KW + kw) * CI + ci) * M;
        for (let n = 0; n < nb; n++) {
          const plane = xtOff + (ci * nb + n) * H * W;
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * sh - pt + kh;
            if (ih < 0 || ih >= H) {
              h.fill(0, dst, dst + OW);
              dst += OW;
              continue;
            }
            for (let j = 0; j < owLo; j++) h[dst + j] = 0;
            const src = plane + ih * W + owLo * sw - pl + kw;
            const d = dst + owLo;
            if (sw === 1 && run >= MEMMOVE_RUN) h.copyWithin(d, src, src + run);
            else for (let j = 0; j < run; j++) h[d + j] = h[src + j * sw]!;
            for (let j = owHi; j < OW; j++) h[dst + j] = 0;
            dst += OW;
          }
        }
      }
    }
}

/** P^T for images [n0, n0 + nb): transposes them to channel-major in a scratch tensor, then im2colTransposed. */
function patchesFor(
  backend: BackendWasm,
  x: TensorInfo,
  patches: TensorInfo,
  c: backend_util.Conv2DInfo,
  n0: number,
  nb: number,
): void {
  const pixels = nb * c.inHeight * c.inWidth;
  const xt = backend.makeOutput([c.inChannels, pixels], 'float32');
  const h = heap(backend);
  const src = heapIndex(backend, x) + n0 * c.inHeight * c.inWidth * c.inChannels;
  transposeBlock(h, src, pixels, c.inChannels, heapIndex(backend, xt));
  im2colTransposed(h, heapIndex(backend, xt), heapIndex(backend, patches), c, nb);
  free(backend, xt);
}

export function conv2dBackpropFilterWasm(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: BackendWasm;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const c = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (c.dataFormat !== 'channelsLast')
    throw new Error(`wasm Conv2DBackpropFilter supports NHWC only, got ${dataFormat}`);
  const { batchSize: N, outHeight: OH, outWidth: OW, outChannels: CO } = c;
  const K = c.filterHeight * c.filterWidth * c.inChannels;
  const perImage = OH * OW;
  const chunk = Math.max(1, Math.min(N, Math.floor(patchLimits.maxFloats / (perImage * K))));
  if (chunk === N) {
    const patches = backend.makeOutput([1, K, N * perImage], 'float32');
    patchesFor(backend, x, patches, c, 0, N);
    const dy3 = view(backend, dy, [1, N * perImage, CO]);
    const prod = callKernel(
      backend,
      'BatchMatMul',
      { a: patches, b: dy3 },
      { transposeA: false, transposeB: false },
    );
    free(backend, patches, dy3);
    prod.shape = filterShape;
    return prod;
  }
  const out = backend.makeOutput(filterShape, 'float32');
  const acc = new Float32Array(K * CO);
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nb = Math.min(chunk, N - n0);
    const M = nb * perImage;
    const patches = backend.makeOutput([1, K, M], 'float32');
    const dyChunk = backend.makeOutput([1, M, CO], 'float32');
    const h = heap(backend);
    const src = heapIndex(backend, dy) + n0 * perImage * CO;
    h.copyWithin(heapIndex(backend, dyChunk), src, src + M * CO);
    patchesFor(backend, x, patches, c, n0, nb);
    const prod = callKernel(
      backend,
      'BatchMatMul',
      { a: patches, b: dyChunk },
      { transposeA: false, transposeB: false },
    );
    const h2 = heap(backend);
    const p = heapIndex(backend, prod);
    for (let i = 0; i < K * CO; i++) acc[i] = acc[i]! + h2[p + i]!;
    free(backend, patches, dyChunk, prod);
  }
  heap(backend).set(acc, heapIndex(backend, out));
  return out;
}

export const conv2dBackpropFilterConfig = wasmKernel(Conv2DBackpropFilter, conv2dBackpropFilterWasm);

/**
 * DepthwiseConv2dNativeBackpropInput / ...BackpropFilter for the wasm backend, which ships neither
 * (MobileNetV2 needs both to train). The input gradient with channel multiplier 1 and no dilation (every
 * MobileNetV2 layer) runs as the backend's XNNPACK depthwise convolution of dy with the flipped filter, by
 * stride phases as in wasm-conv2d-backprop-input.ts; every other case, and the filter gradient, are direct
 * loops over the wasm heap (no copies), with any stride, padding, dilation and channel multiplier.
 * NHWC, as the depthwise op itself requires.
 */
import {
  backend_util,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
} from '@tensorflow/tfjs';
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { phases, scatterPhase } from './wasm-conv2d-backprop-input';
import { free, heap, heapIndex, tensorId, wasmKernel, wasmModule } from './wasm-heap';

type Shape4 = [number, number, number, number];

function depthwiseInfo(
  xShape: Shape4,
  filterShape: Shape4,
  a: DepthwiseConv2dNativeBackpropInputAttrs | DepthwiseConv2dNativeBackpropFilterAttrs,
) {
  return backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    true,
  );
}

/**
 * Visits every (output pixel, filter tap) pair whose input pixel is inside the image, with the heap offsets
 * (in channels units) of the input pixel, output pixel and filter tap.
 */
function forEachTap(
  c: backend_util.Conv2DInfo,
  visit: (xPix: number, dyPix: number, fTap: number) => void,
): void {
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    outHeight: OH,
    outWidth: OW,
    filterHeight: KH,
    filterWidth: KW,
  } = c;
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * c.strideHeight - c.padInfo.top + kh * c.dilationHeight;
        if (ih < 0 || ih >= H) continue;
        for (let ow = 0; ow < OW; ow++)
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * c.strideWidth - c.padInfo.left + kw * c.dilationWidth;
            if (iw < 0 || iw >= W) continue;
            visit((n * H + ih) * W + iw, (n * OH + oh) * OW + ow, kh * KW + kw);
          }
      }
}

type DepthwiseFn = (...args: number[]) => void;
const depthwiseFns = new WeakMap<BackendWasm, DepthwiseFn>();

/** The backend's compiled depthwise convolution, which takes explicit (asymmetric) paddings. */
function wasmDepthwise(backend: BackendWasm): DepthwiseFn {
  let fn = depthwiseFns.get(backend);
  if (!fn) {
    fn = wasmModule(backend).cwrap('DepthwiseConv2dNative', null, Array<string>(19).fill('number'));
    depthwiseFns.set(backend, fn);
  }
  return fn;
}

/** dx by stride phases with XNNPACK (multiplier 1, dilation 1); false where a phase needs negative padding. */
function inputByPhases(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  c: backend_util.Conv2DInfo,
  out: TensorInfo,
): boolean {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = c;
  const { filterWidth: KW, strideHeight: sh, strideWidth: sw } = c;
  const rows = phases(H, OH, c.filterHeight, sh, c.padInfo.top);
  const cols = phases(W, OW, KW, sw, c.padInfo.left);
  if (!rows || !cols) return false;
  heap(backend).fill(0, heapIndex(backend, out), heapIndex(backend, out) + N * H * W * C);
  for (const ph of rows)
    for (const pw of cols) {
      if (ph.taps === 0 || pw.taps === 0 || ph.count <= 0 || pw.count <= 0) continue; // meets no tap: stays 0
      // Flipped sub-filter: sub[th, tw, c] = W[rh + sh*(Jh-1-th), rw + sw*(Jw-1-tw), c].
      const sub = backend.makeOutput([ph.taps, pw.taps, C, 1], 'float32');
      const part = backend.makeOutput([N, ph.count, pw.count, C], 'float32');
      const h = heap(backend);
      const f = heapIndex(backend, filter);
      const sb = heapIndex(backend, sub);
      for (let th = 0; th < ph.taps; th++)
        for (let tw = 0; tw < pw.taps; tw++) {
          const s = f + ((ph.r + sh * (ph.taps - 1 - th)) * KW + (pw.r + sw * (pw.taps - 1 - tw))) * C;
          h.copyWithin(sb + (th * pw.taps + tw) * C, s, s + C);
        }
      // prettier-ignore
      wasmDepthwise(backend)(
        tensorId(backend, dy), N, OH, OW,
        tensorId(backend, sub), ph.taps, pw.taps,
        ph.padBefore, pw.padAfter, ph.padAfter, pw.padBefore, 0 /* explicit padding */,
        1, 1, 1, 1,
        C, C, tensorId(backend, part),
      );
      scatterPhase(heap(backend), heapIndex(backend, part), heapIndex(backend, out), ph, pw, {
        N,
        H,
        W,
        C,
        sh,
        sw,
        top: c.padInfo.top,
        left: c.padInfo.left,
      });
      free(backend, sub, part);
    }
  return true;
}

function backpropInput(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: BackendWasm;
  attrs: DepthwiseConv2dNativeBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const c = depthwiseInfo(attrs.inputShape, inputs.filter.shape as Shape4, attrs);
  const C = c.inChannels;
  const M = c.outChannels / C;
  const out = backend.makeOutput(attrs.inputShape, 'float32');
  if (
    M === 1 &&
    c.dilationHeight === 1 &&
    c.dilationWidth === 1 &&
    inputByPhases(backend, inputs.dy, inputs.filter, c, out)
  )
    return out;
  const h = heap(backend);
  const dx = heapIndex(backend, out);
  const dy = heapIndex(backend, inputs.dy);
  const f = heapIndex(backend, inputs.filter);
  h.fill(0, dx, dx + c.batchSize * c.inHeight * c.inWidth * C);
  forEachTap(c, (xPix, dyPix, fTap) => {
    const xo = dx + xPix * C;
    const dyo = dy + dyPix * C * M;
    const fo = f + fTap * C * M;
    for (let ch = 0; ch < C; ch++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += h[dyo + ch * M + m]! * h[fo + ch * M + m]!;
      h[xo + ch] = h[xo + ch]! + s;
    }
  });
  return out;
}

function backpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: BackendWasm;
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const c = depthwiseInfo(inputs.x.shape as Shape4, attrs.filterShape, attrs);
  const C = c.inChannels;
  const CM = c.outChannels;
  const M = CM / C;
  const acc = new Float64Array(c.filterHeight * c.filterWidth * CM);
  const out = backend.makeOutput(attrs.filterShape, 'float32');
  const h = heap(backend);
  const x = heapIndex(backend, inputs.x);
  const dy = heapIndex(backend, inputs.dy);
  forEachTap(c, (xPix, dyPix, fTap) => {
    const xo = x + xPix * C;
    const dyo = dy + dyPix * CM;
    const fo = fTap * CM;
    for (let ch = 0; ch < C; ch++) {
      const xv = h[xo + ch]!;
      for (let m = 0; m < M; m++) acc[fo + ch * M + m]! += xv * h[dyo + ch * M + m]!;
    }
  });
  h.set(acc, heapIndex(backend, out));
  return out;
}

export const depthwiseBackpropInputConfig = wasmKernel(DepthwiseConv2dNativeBackpropInput, backpropInput);

export const depthwiseBackpropFilterConfig = wasmKernel(DepthwiseConv2dNativeBackpropFilter, backpropFilter);

/**
 * DepthwiseConv2dNativeBackpropInput / ...BackpropFilter for the wasm backend, which ships neither
 * (MobileNetV2 needs both to train). Depthwise convolutions are a small share of the work, so these are
 * direct loops over the wasm heap (no copies), with any stride, padding, dilation and channel multiplier.
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
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heap, heapIndex } from './wasm-heap';

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

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: backpropInput as unknown as KernelFunc,
};

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: backpropFilter as unknown as KernelFunc,
};

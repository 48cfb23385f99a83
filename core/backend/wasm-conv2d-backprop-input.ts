/**
 * A faster Conv2DBackpropInput for the wasm backend (its stock kernel is a plain loop): the input gradient
 * of a 2-D convolution is a forward convolution, run by the backend's XNNPACK Conv2D, of the output gradient
 * with the filter rotated by 180 degrees and its in/out channels swapped:
 *   stride 1: dx = conv(dy, rot180(W)^T, pad top = KH - 1 - padTop, left = KW - 1 - padLeft,
 *             bottom/right chosen so that the result has the input's height/width).
 * For larger strides the input pixels split into stride x stride phases
 * (by row and column residue): each phase only meets every stride-th filter tap, so it is a stride-1
 * convolution of dy with that sub-filter, and the phases' results interleave into dx. That costs what the
 * forward convolution costs, where spreading dy onto a zero grid ("dilating") would cost stride^2 times more.
 * Cases this does not cover (NCHW, paddings wider than the filter) go to the stock kernel.
 */
import { backend_util, Conv2DBackpropInput } from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  free,
  heap,
  heapIndex,
  stockKernel,
  tensorId,
  transposeBlock,
  wasmKernel,
  wasmModule,
} from './wasm-heap';

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

export interface Phase {
  /** Residue of (input index + pad) modulo the stride: which taps this phase meets. */
  r: number;
  /** Taps met (r, r + stride, ...). */
  taps: number;
  /** Output indices q of the phase: input index = q * stride + r - pad, q in [qMin, qMin + count). */
  qMin: number;
  count: number;
  padBefore: number;
  padAfter: number;
}

/**
 * Writes one phase's result (N x ph.count x pw.count x C, at `src`) into its strided places of the NHWC
 * output (N x H x W x C, at `dst`): rows (qMin + u) * sh + r - top, columns likewise.
 */
export function scatterPhase(
  h: Float32Array,
  src: number,
  dst: number,
  ph: Phase,
  pw: Phase,
  g: { N: number; H: number; W: number; C: number; sh: number; sw: number; top: number; left: number },
): void {
  const { N, H, W, C, sh, sw, top, left } = g;
  for (let n = 0; n < N; n++)
    for (let u = 0; u < ph.count; u++) {
      const ih = (ph.qMin + u) * sh + ph.r - top;
      for (let v = 0; v < pw.count; v++) {
        const iw = (pw.qMin + v) * sw + pw.r - left;
        const s = src + ((n * ph.count + u) * pw.count + v) * C;
        const d = dst + ((n * H + ih) * W + iw) * C;
        // copyWithin pays off for long rows; a plain loop is faster for a few channels.
        if (C >= 32) h.copyWithin(d, s, s + C);
        else for (let i = 0; i < C; i++) h[d + i] = h[s + i]!;
      }
    }
}

/** The phases of one spatial axis, or null when one would need a negative padding (then: dilation). */
export function phases(
  size: number,
  outSize: number,
  k: number,
  stride: number,
  pad: number,
): Phase[] | null {
  const out: Phase[] = [];
  for (let r = 0; r < stride; r++) {
    const taps = r < k ? Math.ceil((k - r) / stride) : 0;
    const qMin = Math.ceil((pad - r) / stride);
    const count = Math.floor((size - 1 + pad - r) / stride) - qMin + 1;
    const padBefore = taps - 1 - qMin;
    const padAfter = count + taps - 1 - padBefore - outSize;
    if (taps > 0 && count > 0 && (padBefore < 0 || padAfter < 0)) return null;
    out.push({ r, taps, qMin, count, padBefore, padAfter });
  }
  return out;
}

/** Strided Conv2DBackpropInput by phases (see the file comment); false if a phase needs negative padding. */
function byPhases(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  c: backend_util.Conv2DInfo,
  out: TensorInfo,
): boolean {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW } = c;
  const { outChannels: CO, filterWidth: KW, strideHeight: sh, strideWidth: sw } = c;
  const rows = phases(H, OH, c.filterHeight, sh, c.padInfo.top);
  const cols = phases(W, OW, KW, sw, c.padInfo.left);
  if (!rows || !cols) return false;
  heap(backend).fill(0, heapIndex(backend, out), heapIndex(backend, out) + N * H * W * CI);
  for (const ph of rows)
    for (const pw of cols) {
      if (ph.taps === 0 || pw.taps === 0 || ph.count <= 0 || pw.count <= 0) continue; // meets no tap: stays 0
      // Sub-filter, flipped and transposed: sub[th, tw, co, ci] = W[rh + sh*(Jh-1-th), rw + sw*(Jw-1-tw), ci, co].
      const sub = backend.makeOutput([ph.taps, pw.taps, CO, CI], 'float32');
      const part = backend.makeOutput([N, ph.count, pw.count, CI], 'float32');
      const h = heap(backend);
      const f = heapIndex(backend, filter);
      const sb = heapIndex(backend, sub);
      for (let th = 0; th < ph.taps; th++)
        for (let tw = 0; tw < pw.taps; tw++) {
          const kh = ph.r + sh * (ph.taps - 1 - th);
          const kw = pw.r + sw * (pw.taps - 1 - tw);
          transposeBlock(h, f + (kh * KW + kw) * CI * CO, CI, CO, sb + (th * pw.taps + tw) * CO * CI);
        }
      // prettier-ignore
      wasmConv2d(backend)(
        tensorId(backend, dy), N, OH, OW,
        tensorId(backend, sub), ph.taps, pw.taps,
        ph.padBefore, pw.padAfter, ph.padAfter, pw.padBefore, 0 /* explicit padding */,
        1, 1, 1, 1,
        CO, CI, tensorId(backend, part),
      );
      scatterPhase(heap(backend), heapIndex(backend, part), heapIndex(backend, out), ph, pw, {
        N,
        H,
        W,
        C: CI,
        sh,
        sw,
        top: c.padInfo.top,
        left: c.padInfo.left,
      });
      free(backend, sub, part);
    }
  return true;
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
  const filterShape = filter.shape as [number, number, number, number];
  const c = backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    fmt,
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW } = c;
  const { outChannels: CO, filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = c;
  const stock = () => stockKernel(Conv2DBackpropInput)(args as never) as TensorInfo;
  if (c.dataFormat !== 'channelsLast') return stock();
  if (sh > 1 || sw > 1) {
    const out = backend.makeOutput(inputShape, 'float32');
    if (byPhases(backend, dy, filter, c, out)) return out;
    free(backend, out);
    return stock();
  }
  const top = KH - 1 - c.padInfo.top;
  const left = KW - 1 - c.padInfo.left;
  const bottom = H - OH + c.padInfo.top;
  const right = W - OW + c.padInfo.left;
  if (Math.min(top, left, bottom, right) < 0) return stock();
  // rot180(W)^T: flipped[kh, kw, co, ci] = W[KH-1-kh, KW-1-kw, ci, co].
  const flipped = backend.makeOutput([KH, KW, CO, CI], 'float32');
  const out = backend.makeOutput(inputShape, 'float32');
  const h = heap(backend);
  const f = heapIndex(backend, filter);
  const fl = heapIndex(backend, flipped);
  for (let kh = 0; kh < KH; kh++)
    for (let kw = 0; kw < KW; kw++) {
      const s = f + ((KH - 1 - kh) * KW + (KW - 1 - kw)) * CI * CO;
      transposeBlock(h, s, CI, CO, fl + (kh * KW + kw) * CO * CI);
    }
  // prettier-ignore
  wasmConv2d(backend)(
    tensorId(backend, dy), N, OH, OW,
    tensorId(backend, flipped), KH, KW,
    top, right, bottom, left, 0 /* explicit padding, not SAME */,
    1, 1, 1, 1, // dilation, stride
    CO, CI, tensorId(backend, out),
  );
  free(backend, flipped);
  return out;
}

export const conv2dBackpropInputConfig = wasmKernel(Conv2DBackpropInput, conv2dBackpropInputWasm);

/**
 * Direct access to the wasm backend's heap for the project's training kernels: tensors of the wasm backend
 * live in one Float32 heap, so kernels written here read inputs and write outputs in place (no copies through
 * JS arrays) and hand the heavy math to the backend's own compiled kernels (XNNPACK matmul and conv).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The parts of the emscripten module the kernels use. */
interface WasmModule {
  HEAPF32: Float32Array;
  cwrap(name: string, ret: null, args: string[]): (...args: number[]) => void;
}

export function wasmModule(backend: BackendWasm): WasmModule {
  return backend.wasm as unknown as WasmModule;
}

/** Offset (in floats) of a tensor's data in HEAPF32. */
export function heapIndex(backend: BackendWasm, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset / 4;
}

/** The backend's numeric id of a tensor, as its C++ kernels expect it. */
export function tensorId(backend: BackendWasm, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).id;
}

/** Current HEAPF32 view; re-read after every allocation because memory growth replaces the buffer. */
export function heap(backend: BackendWasm): Float32Array {
  return wasmModule(backend).HEAPF32;
}

/** The wasm backend's own kernels that the project replaced, kept for the cases the replacements pass on. */
const stockKernels = new Map<string, KernelConfig>();

/** Registers `config` for wasm in place of the stock kernel, keeping the stock one (and its setup). */
export function replaceKernel(config: KernelConfig): void {
  const stock = stockKernels.get(config.kernelName) ?? getKernel(config.kernelName, 'wasm');
  if (stock) {
    stockKernels.set(config.kernelName, stock);
    unregisterKernel(config.kernelName, 'wasm');
  }
  // The stock setup (cwrap of its C++ entry point) must still run when the backend initializes.
  registerKernel({ ...config, setupFunc: stock?.setupFunc });
}

/** A stock kernel of the wasm backend (the original where the project replaced it), called from a kernel. */
export function stockKernel(name: string): KernelFunc {
  const k = stockKernels.get(name) ?? getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm backend has no stock kernel "${name}"`);
  return k.kernelFunc;
}

/** The config registering `kernelFunc` (typed with its own inputs, backend and attrs) for 'wasm'. */
export function wasmKernel<Args>(
  kernelName: string,
  kernelFunc: (args: Args) => TensorInfo | TensorInfo[],
): KernelConfig {
  return { kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** Calls a stock kernel that returns one tensor. */
export function callKernel(
  backend: BackendWasm,
  name: string,
  inputs: Record<string, TensorInfo>,
  attrs: object,
): TensorInfo {
  const out = stockKernel(name)({ inputs, backend, attrs: attrs as never });
  return Array.isArray(out) ? out[0]! : out;
}

/** A second view of a tensor's data with another shape (same element count); disposed like any tensor. */
export function view(backend: BackendWasm, t: TensorInfo, shape: number[]): TensorInfo {
  backend.incRef(t.dataId);
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

export function free(backend: BackendWasm, ...ts: TensorInfo[]): void {
  for (const t of ts) backend.disposeData(t.dataId);
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

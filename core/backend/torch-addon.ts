/**
 * Loads the libtorch addon `npm run setup` builds (infra/torch-native.ts) from native/torch/build/, or the
 * file BGSTUDY_TORCH_ADDON names. Loading is lazy: processes that never use the libtorch engine never map
 * libtorch.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BackendUnavailableError } from './backend-errors';
import { engineSettings } from './engine-settings';

export type ModelHandle = { readonly __torchModel: unique symbol };

export interface TorchInfo {
  torch: string;
  cuda: boolean;
  cudaDevices: number;
  threads: number;
}

export interface TorchAddon {
  info(): TorchInfo;
  setThreads(n: number): void;
  create(spec: {
    nodes: unknown[];
    params: unknown[];
    device: string;
    bf16: boolean;
    slotsPerVar: number;
    /** CUDA only: TF32 convolutions (process-wide; PyTorch's default is on). Absent: left as it is. */
    tf32?: boolean;
  }): ModelHandle;
  setParam(m: ModelHandle, i: number, data: Float32Array): void;
  getParam(m: ModelHandle, i: number): Float32Array;
  getSlot(m: ModelHandle, k: number, j: number): Float32Array;
  setSlot(m: ModelHandle, k: number, j: number, data: Float32Array): void;
  /** kind 0 (Adam): a = step size, b = epsilon; kind 1 (SGD): a = learning rate, b = momentum (0: none). */
  trainStep(
    m: ModelHandle,
    x: Float32Array,
    y: Int32Array,
    n: number,
    size: number,
    kind: number,
    a: number,
    b: number,
  ): Promise<[number, number]>;
  gradients(
    m: ModelHandle,
    x: Float32Array,
    y: Int32Array,
    n: number,
    size: number,
  ): { loss: number; grads: Float32Array[] };
  predict(m: ModelHandle, x: Float32Array, n: number, size: number): Promise<Float32Array>;
  /** Frees the model's tensors now (device memory included). */
  release(m: ModelHandle): void;
  inputGradients(
    m: ModelHandle,
    x: Float32Array,
    n: number,
    size: number,
    labels: Int32Array,
  ): Promise<Float32Array>;
}

const ROOT = path.resolve(__dirname, '..', '..');
export const TORCH_ADDON_DIR = path.join(ROOT, 'native', 'torch', 'build');

/** Where the addon is (or would be). */
export function torchAddonPath(): string {
  return engineSettings().torchAddon || path.join(TORCH_ADDON_DIR, 'bgstudy_torch.node');
}

/** What setup recorded about the build: the libtorch it linked and whether CPU training was faster than tfjs-node. */
export interface TorchBuildInfo {
  libtorch: string;
  source: string;
  torch: string;
  /** Set by `npm run bench:train` when the engine's CPU form out-trained tfjs-node there (the CPU default then). */
  cpuDefault?: boolean;
}

export function torchBuildInfo(): TorchBuildInfo | undefined {
  const file = path.join(path.dirname(torchAddonPath()), 'build.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as TorchBuildInfo;
}

let loaded: TorchAddon | undefined;

export function torchAddonInstalled(): boolean {
  return existsSync(torchAddonPath());
}

export function loadTorchAddon(): TorchAddon {
  if (loaded) return loaded;
  const file = torchAddonPath();
  if (!existsSync(file))
    throw new BackendUnavailableError(
      `libtorch addon not built (${path.relative(ROOT, file)} missing; npm run setup builds it where libtorch is installed)`,
    );
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a native addon, loaded only when used
    loaded = require(file) as TorchAddon;
  } catch (err) {
    throw new BackendUnavailableError(
      `libtorch addon does not load (${String((err as Error).message).split('\n')[0]}); rerun npm run setup`,
    );
  }
  return loaded;
}

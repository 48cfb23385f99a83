/**
 * Chooses and initializes the training engine for this process (or worker thread), fastest first:
 *   libtorch (the addon npm run setup builds; CUDA when it sees a device, else the CPU) > tfjs-node-gpu (CUDA) >
 *   webgpu on a real GPU > tfjs-node > wasm with the project's training kernels > cpu.
 * libtorch runs training (core/backend/torch-trainer.ts); tfjs still builds the seeded models and runs stored
 * ones, so choosing libtorch also initializes the best tfjs backend after it (named in its details).
 * `options.backend` or the BGSTUDY_BACKEND environment variable forces one ('auto' = the order above).
 * The native packages are optional dependencies whose install downloads libtensorflow; where that failed
 * (or install scripts did not run) requiring them throws, and they are reported as not usable.
 * The returned BackendInfo is meant to be logged and stored with every result.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError } from './backend-errors';
import { engineSettings } from './engine-settings';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-kernels';
import { registerTfjsNodeKernels, TFJS_NODE_KERNELS } from './tfjs-node-kernels';
import { initWebGpu } from './webgpu-backend';
import { loadTorchAddon } from './torch-addon';

export { BackendUnavailableError };

export const BACKEND_NAMES = ['libtorch', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendOptions {
  /** A backend to use, or 'auto' (default: BGSTUDY_BACKEND via engineSettings(), else 'auto'). */
  backend?: BackendName | 'auto';
  /** In auto mode, accept a software WebGPU adapter (Mesa llvmpipe) too. Default false. */
  allowSoftwareWebGpu?: boolean;
  /** Receives one line per backend tried and why it was skipped. */
  log?: (line: string) => void;
}

export interface BackendInfo {
  name: BackendName;
  /** Version of the package that provides the backend, e.g. "@tensorflow/tfjs-backend-wasm 4.22.0". */
  version: string;
  /** What else matters for reproducing a number: tfjs version, SIMD, adapter, custom kernels, cores. */
  details: Record<string, string | number | boolean>;
}

export function packageVersion(pkg: string): string {
  try {
    const file = require.resolve(`${pkg}/package.json`);
    return `${pkg} ${(JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version}`;
  } catch {
    return `${pkg} (version unknown)`;
  }
}

/** The backend named by options or BGSTUDY_BACKEND; throws on an unknown name. */
export function requestedBackend(options: BackendOptions = {}): BackendName | 'auto' {
  const name = options.backend ?? engineSettings().backend ?? 'auto';
  if (name !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new Error(
      `unknown backend "${name}" (BGSTUDY_BACKEND or --backend): use auto or one of ${BACKEND_NAMES.join(', ')}`,
    );
  }
  return name as BackendName | 'auto';
}

function requireNative(pkg: string): void {
  // libtensorflow's C++ logging (oneDNN and CPU-feature notices) would otherwise open every worker's log.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional native package, loaded only when tried
    require(pkg);
  } catch (err) {
    const first = String((err as Error).message).split('\n')[0];
    throw new BackendUnavailableError(
      `${pkg} is not usable (not installed, or its libtensorflow binding is missing; npm run setup builds ` +
        `tfjs-node from PyPI's libtensorflow): ${first}`,
    );
  }
}

/** A CUDA device the NVIDIA driver exposes (the driver's proc entry exists and CUDA_VISIBLE_DEVICES allows one). */
function cudaGpuVisible(): boolean {
  const visible = engineSettings().cudaVisibleDevices;
  if (visible === '' || visible === '-1') return false;
  return fs.existsSync('/proc/driver/nvidia/version') || fs.existsSync('/dev/nvidia0');
}

/** A GPU the OS exposes to user space: a DRM render node or an NVIDIA device (macOS always has Metal). */
function gpuDeviceVisible(): boolean {
  if (process.platform === 'darwin') return true;
  if (fs.existsSync('/dev/nvidia0')) return true;
  try {
    return fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    return false;
  }
}

async function activate(tfName: string): Promise<void> {
  if (!(await tf.setBackend(tfName)))
    throw new BackendUnavailableError(`tfjs backend "${tfName}" failed to initialize`);
  await tf.ready();
}

/** The TensorFlow C library tfjs-node runs on (its own download is 2.9.1; npm run setup's is PyPI's). */
export function libtensorflowVersion(): string {
  const backend = tf.backend() as unknown as { binding?: { TF_Version?: string } };
  return backend.binding?.TF_Version ?? 'unknown';
}

const common = () => ({ tfjs: tf.version.tfjs, cores: os.cpus().length });

/**
 * Whether libtorch on the CPU is the default where no CUDA device is: it out-trains tfjs-node on 2 CPU cores
 * (bench/RESULTS.md, `npm run bench:train`). Where setup could not build the addon, tfjs-node is.
 */
export const LIBTORCH_CPU_DEFAULT = true;

async function initOne(name: BackendName, options: BackendOptions, auto: boolean): Promise<BackendInfo> {
  switch (name) {
    case 'libtorch': {
      const torch = loadTorchAddon().info();
      if (auto && !torch.cuda && !LIBTORCH_CPU_DEFAULT)
        throw new BackendUnavailableError(
          'libtorch sees no CUDA device (on CPU tfjs-node trains faster here; BGSTUDY_BACKEND=libtorch forces it)',
        );
      const tfjs = await initAuto(BACKEND_NAMES.slice(1), options, () => undefined);
      return {
        name,
        version: `libtorch ${torch.torch}`,
        details: {
          ...common(),
          device: torch.cuda ? 'cuda' : 'cpu',
          cudaDevices: torch.cudaDevices,
          tfjs: tfjs.name,
        },
      };
    }
    case 'tfjs-node-gpu': {
      if (!cudaGpuVisible())
        throw new BackendUnavailableError('no NVIDIA GPU visible (no /proc/driver/nvidia/version)');
      requireNative('@tensorflow/tfjs-node-gpu');
      // The project's tfjs-node kernels are measured and tested on CPU only (no GPU here): stock kernels.
      await activate('tensorflow');
      return { name, version: packageVersion('@tensorflow/tfjs-node-gpu'), details: { ...common() } };
    }
    case 'tfjs-node': {
      requireNative('@tensorflow/tfjs-node');
      registerTfjsNodeKernels();
      await activate('tensorflow');
      return {
        name,
        version: packageVersion('@tensorflow/tfjs-node'),
        details: {
          ...common(),
          libtensorflow: libtensorflowVersion(),
          projectKernels: TFJS_NODE_KERNELS.join(','),
        },
      };
    }
    case 'webgpu': {
      // Probing Dawn without a GPU only finds a software adapter (refused in auto mode) and prints driver
      // warnings, so auto mode skips it unless the OS exposes a GPU device.
      if (auto && !options.allowSoftwareWebGpu && !gpuDeviceVisible())
        throw new BackendUnavailableError('no GPU device (/dev/dri/renderD*, /dev/nvidia0) for WebGPU');
      const adapter = await initWebGpu({ allowSoftware: !auto || options.allowSoftwareWebGpu === true });
      return {
        name,
        version: packageVersion('@tensorflow/tfjs-backend-webgpu'),
        details: { ...common(), ...adapter },
      };
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // Load the .wasm binaries from the installed package, wherever the process was started.
      wasm.setWasmPaths(
        path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep,
      );
      registerWasmTrainingKernels();
      await activate('wasm');
      return {
        name,
        version: packageVersion('@tensorflow/tfjs-backend-wasm'),
        details: {
          ...common(),
          simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
          threadsPerProcess: wasm.getThreadsCount(),
          projectKernels: WASM_TRAINING_KERNELS.join(','),
        },
      };
    }
    case 'cpu':
      await activate('cpu');
      return { name, version: packageVersion('@tensorflow/tfjs-backend-cpu'), details: { ...common() } };
  }
}

let selected: BackendInfo | undefined;

/**
 * The engine initBackend chose last in this process (or worker thread), undefined before: evaluation runs
 * models trained here on it too (core/backend/trained-classifier.ts).
 */
export function selectedBackend(): BackendInfo | undefined {
  return selected;
}

/** Initializes the requested (or best available) backend and makes it tfjs's current backend. */
export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const log = options.log ?? (() => undefined);
  const requested = requestedBackend(options);
  if (requested !== 'auto') {
    const info = await initOne(requested, options, false);
    log(`backend: ${describeBackend(info)}`);
    return (selected = info);
  }
  return (selected = await initAuto(BACKEND_NAMES, options, log));
}

async function initAuto(
  names: readonly BackendName[],
  options: BackendOptions,
  log: (line: string) => void,
): Promise<BackendInfo> {
  for (const name of names) {
    try {
      const info = await initOne(name, options, true);
      log(`backend: ${describeBackend(info)}`);
      return info;
    } catch (err) {
      if (!(err instanceof BackendUnavailableError)) throw err;
      log(`backend ${name} skipped: ${err.message}`);
    }
  }
  throw new Error('no tfjs backend could be initialized');
}

/** One line for logs and result files, e.g. "wasm (@tensorflow/tfjs-backend-wasm 4.22.0; simd=true, ...)". */
export function describeBackend(info: BackendInfo): string {
  const details = Object.entries(info.details)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `${info.name} (${info.version}; ${details})`;
}

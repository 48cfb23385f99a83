/**
 * tfjs's WebGPU backend in Node through Dawn (the `webgpu` npm package): a GPU path that needs no CUDA
 * toolkit of a particular version (Vulkan on Linux, Metal on macOS, D3D12 on Windows).
 * Without a GPU it can run on Mesa's llvmpipe through Dawn's OpenGL ES backend (Mesa's lavapipe Vulkan is
 * rejected by Dawn), which needs EGL_PLATFORM=surfaceless and a 'compatibility' feature-level adapter; that
 * is slow and only used when asked for (tests, or backend 'webgpu' explicitly).
 * Read results with `await t.data()`: dataSync() is not supported by this backend.
 * Debian packages for the software path: libegl1 libgles2 libgl1-mesa-dri.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError } from './backend-errors';

interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}
interface GpuAdapter {
  info?: GpuAdapterInfo;
  isFallbackAdapter?: boolean;
  features: Set<string>;
  limits: Record<string, number>;
  requestDevice(desc: object): Promise<unknown>;
}
interface Gpu {
  requestAdapter(opts?: object): Promise<GpuAdapter | null>;
}
interface DawnModule {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}

export interface WebGpuOptions {
  /** Accept a software adapter (llvmpipe, SwiftShader) when no hardware one is found. */
  allowSoftware: boolean;
}

/** What the chosen adapter is, for the stored backend details. */
export interface WebGpuAdapterDetails {
  adapter: string;
  dawnBackend: string;
  software: boolean;
  [key: string]: string | number | boolean;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe/i;

function describe(info: GpuAdapterInfo | undefined): string {
  if (!info) return 'unknown adapter';
  return (
    [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' / ') ||
    'unknown adapter'
  );
}

function loadDawn(): DawnModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional package, loaded only when asked for
    return require('webgpu') as DawnModule;
  } catch (err) {
    throw new BackendUnavailableError(
      `webgpu is not usable: the optional package "webgpu" (Dawn) did not load: ${String((err as Error).message).split('\n')[0]}`,
    );
  }
}

/** Finds an adapter: the platform's default (hardware) first, then, if allowed, Mesa's llvmpipe over OpenGL ES. */
async function findAdapter(
  dawn: DawnModule,
  allowSoftware: boolean,
): Promise<{ gpu: Gpu; adapter: GpuAdapter; details: WebGpuAdapterDetails }> {
  const tried: string[] = [];
  const gpuDefault = dawn.create([]);
  const hw = await gpuDefault.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (hw) {
    const software = hw.isFallbackAdapter === true || SOFTWARE.test(describe(hw.info));
    if (!software)
      return {
        gpu: gpuDefault,
        adapter: hw,
        details: { adapter: describe(hw.info), dawnBackend: 'default', software },
      };
    tried.push(`default: software adapter ${describe(hw.info)}`);
  } else tried.push('default: no adapter');
  if (allowSoftware) {
    process.env.EGL_PLATFORM ??= 'surfaceless';
    const gpuGl = dawn.create(['backend=opengl']);
    const gl = await gpuGl.requestAdapter({ featureLevel: 'compatibility' }).catch(() => null);
    if (gl)
      return {
        gpu: gpuGl,
        adapter: gl,
        details: {
          adapter: describe(gl.info),
          dawnBackend: 'opengl',
          software: SOFTWARE.test(describe(gl.info)),
        },
      };
    tried.push('opengl (EGL_PLATFORM=surfaceless, compatibility): no adapter');
  }
  throw new BackendUnavailableError(
    `webgpu: no ${allowSoftware ? '' : 'hardware '}adapter found (${tried.join('; ')}). ` +
      (allowSoftware
        ? 'For the software path install Mesa (Debian: libegl1 libgles2 libgl1-mesa-dri).'
        : 'Ask for backend "webgpu" explicitly to allow a software adapter.'),
  );
}

/** Registers tfjs's 'webgpu' backend on a Dawn adapter and makes it current. */
export async function initWebGpu(options: WebGpuOptions): Promise<WebGpuAdapterDetails> {
  const dawn = loadDawn();
  const { gpu, adapter, details } = await findAdapter(dawn, options.allowSoftware);
  // tfjs-backend-webgpu reads GPUBufferUsage, GPUMapMode, ... as globals.
  Object.assign(globalThis, dawn.globals);
  let webgpu: typeof import('@tensorflow/tfjs-backend-webgpu');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional package, loaded only when asked for
    webgpu = require('@tensorflow/tfjs-backend-webgpu') as typeof import('@tensorflow/tfjs-backend-webgpu');
  } catch (err) {
    throw new BackendUnavailableError(
      `webgpu is not usable: @tensorflow/tfjs-backend-webgpu did not load: ${(err as Error).message}`,
    );
  }
  // The backend checks navigator.gpu exists (Node 20 has no navigator; later Nodes have one without gpu).
  const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as { gpu?: unknown };
  nav.gpu ??= gpu;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      const l = adapter.limits;
      const device = await adapter.requestDevice({
        requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
        requiredLimits: {
          maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
          maxBufferSize: l.maxBufferSize,
          maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        },
      });
      return new webgpu.WebGPUBackend(device as never, adapter.info as never);
    },
    -1, // never picked by tfjs on its own: initBackend decides
  );
  if (!(await tf.setBackend('webgpu')))
    throw new BackendUnavailableError(`webgpu: tfjs backend failed to initialize on ${details.adapter}`);
  return details;
}

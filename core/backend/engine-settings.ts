import { z } from 'zod';

/**
 * How this process trains and runs models: what BGSTUDY_BACKEND, BGSTUDY_WORKERS, BGSTUDY_TORCH_DEVICE,
 * BGSTUDY_TORCH_PRECISION, BGSTUDY_TORCH_ADDON, BGSTUDY_ONNX_PROVIDERS and CUDA_VISIBLE_DEVICES say. Core reads
 * no environment: the process edge (worker, CLI, activities, a benchmark) reads it once (config/engine.ts) and
 * hands it to configureEngine; worker threads get it from their parent. Values stay as written (strings): each
 * is checked where it is used, and the error names its variable, as before.
 */
export const engineSettingsSchema = z.object({
  /** BGSTUDY_BACKEND: a backend name or 'auto' (core/backend/select-backend.ts). */
  backend: z.string().optional(),
  /** BGSTUDY_WORKERS: worker threads of data-parallel training, and libtorch's CPU threads. */
  workers: z.string().optional(),
  /** BGSTUDY_TORCH_DEVICE: auto, cpu or cuda. */
  torchDevice: z.string().optional(),
  /** BGSTUDY_TORCH_PRECISION: fp32 or bf16. */
  torchPrecision: z.string().optional(),
  /** BGSTUDY_TORCH_ADDON: the libtorch addon file, when not the one npm run setup builds. */
  torchAddon: z.string().optional(),
  /** BGSTUDY_ONNX_PROVIDERS: onnxruntime providers to force, e.g. "cuda,cpu". */
  onnxProviders: z.string().optional(),
  /** CUDA_VISIBLE_DEVICES: '' or '-1' hide every CUDA device. */
  cudaVisibleDevices: z.string().optional(),
});
export type EngineSettings = z.output<typeof engineSettingsSchema>;

let current: EngineSettings = {};

/** Sets this process's (or worker thread's) engine settings; unset ones take their defaults. */
export function configureEngine(settings: EngineSettings): void {
  current = engineSettingsSchema.parse(settings);
}

/** The settings configureEngine was given last (none: every default). */
export function engineSettings(): EngineSettings {
  return current;
}

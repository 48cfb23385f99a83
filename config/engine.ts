import { configureEngine, type EngineSettings, engineSettingsSchema } from '../core/backend/engine-settings';

/** The engine settings in an environment (the variables core/backend/engine-settings.ts lists). */
export function loadEngineSettings(env: NodeJS.ProcessEnv = process.env): EngineSettings {
  const named = {
    backend: env.BGSTUDY_BACKEND,
    workers: env.BGSTUDY_WORKERS,
    torchDevice: env.BGSTUDY_TORCH_DEVICE,
    torchPrecision: env.BGSTUDY_TORCH_PRECISION,
    torchAddon: env.BGSTUDY_TORCH_ADDON,
    onnxProviders: env.BGSTUDY_ONNX_PROVIDERS,
    cudaVisibleDevices: env.CUDA_VISIBLE_DEVICES,
  };
  // Only the variables that are set (an empty one is set: CUDA_VISIBLE_DEVICES='' hides every device).
  return engineSettingsSchema.parse(
    Object.fromEntries(Object.entries(named).filter(([, v]) => v !== undefined)),
  );
}

/** Reads the engine settings from this process's environment, once, at its edge. */
export function configureEngineFromEnv(env: NodeJS.ProcessEnv = process.env): EngineSettings {
  const settings = loadEngineSettings(env);
  configureEngine(settings);
  return settings;
}

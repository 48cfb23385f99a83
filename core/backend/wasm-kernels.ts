/**
 * Makes tfjs's wasm backend able to train every model of core/ml/models.ts, fast: registers the gradient
 * kernels it lacks (Conv2DBackpropFilter, the depthwise gradients) and replaces its slow
 * Conv2DBackpropInput and MaxPoolGrad, and adds fast paths for slow Sum, Mean, Tile and BatchMatMul shapes and a copy-free Identity. Call once per thread before training on 'wasm' (initBackend does).
 */
import '@tensorflow/tfjs-backend-wasm';
import { conv2dBackpropFilterConfig } from './wasm-conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './wasm-conv2d-backprop-input';
import { replaceKernel } from './wasm-heap';
import { maxPoolGradConfig } from './wasm-max-pool-grad';
import { batchMatMulConfig, identityConfig, meanConfig, sumConfig, tileConfig } from './wasm-fast-paths';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './wasm-depthwise-grads';

/** Names of the kernels this module registers for 'wasm' (for logs and results). */
const CONFIGS = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  maxPoolGradConfig,
  depthwiseBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  sumConfig,
  meanConfig,
  tileConfig,
  batchMatMulConfig,
  identityConfig,
];
export const WASM_TRAINING_KERNELS = CONFIGS.map((k) => k.kernelName);

let registered = false;

export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const config of CONFIGS) replaceKernel(config);
  registered = true;
}

/**
 * Makes tfjs's wasm backend able to train every model of core/ml/models.ts, fast: registers the gradient
 * kernels it lacks (Conv2DBackpropFilter, the depthwise gradients) and replaces its slow
 * Conv2DBackpropInput and MaxPoolGrad. Call once per thread before training on 'wasm' (initBackend does).
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { conv2dBackpropFilterConfig } from './wasm-conv2d-backprop-filter';
import { captureStockConv2dBackpropInput, conv2dBackpropInputConfig } from './wasm-conv2d-backprop-input';
import { maxPoolGradConfig } from './wasm-max-pool-grad';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './wasm-depthwise-grads';

/** Names of the kernels this module registers for 'wasm' (for logs and results). */
const CONFIGS = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  maxPoolGradConfig,
  depthwiseBackpropInputConfig,
  depthwiseBackpropFilterConfig,
];
export const WASM_TRAINING_KERNELS = CONFIGS.map((k) => k.kernelName);

let registered = false;

export function registerWasmTrainingKernels(): void {
  if (registered) return;
  captureStockConv2dBackpropInput();
  for (const config of CONFIGS) {
    if (getKernel(config.kernelName, 'wasm')) unregisterKernel(config.kernelName, 'wasm');
    registerKernel(config);
  }
  registered = true;
}

/**
 * Faster kernels for tfjs-node (tfjs backend "tensorflow", CPU package only) where its stock ones cost training most.
 * Step, which every ReLU gradient calls (dy * step(x)), is six full-size TensorFlow ops there (isNaN, greater,
 * ones, fill, where, select); with alpha 0 it equals sign(relu(x)), two ops. This was 28% of a small-CNN step.
 */
import * as tf from '@tensorflow/tfjs';
import { installFusedBatchNorm } from './tfjs-node-batchnorm';

/** The part of tfjs-node's NodeJSKernelBackend these kernels call. */
interface NodeJsBackend {
  executeSingleInput(name: string, input: tf.TensorInfo): tf.Tensor;
}

let registered = false;

/** Replaces tfjs-node's Step (once per process; call after requiring @tensorflow/tfjs-node). */
export function registerTfjsNodeKernels(): void {
  if (registered) return;
  const stock = tf.getKernel('Step', 'tensorflow');
  if (!stock) throw new Error('tfjs-node is not loaded: no Step kernel for backend "tensorflow"');
  tf.unregisterKernel('Step', 'tensorflow');
  tf.registerKernel({
    kernelName: 'Step',
    backendName: 'tensorflow',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const alpha = (args.attrs as { alpha?: number } | undefined)?.alpha ?? 0;
      if (alpha !== 0 || x.dtype !== 'float32') return stock.kernelFunc(args);
      const backend = args.backend as unknown as NodeJsBackend;
      const relu = backend.executeSingleInput('Relu', x);
      const out = backend.executeSingleInput('Sign', relu);
      relu.dispose();
      return out;
    },
  });
  installFusedBatchNorm();
  registered = true;
}

export const TFJS_NODE_KERNELS = ['Step', 'FusedBatchNormV3 training'];

/**
 * The engine part of training and evaluation keys. The same model and data on another engine (libtorch or a
 * tfjs backend, CPU or CUDA, fp32 or bf16) give other numbers: they are another artifact, stored under their own
 * key, so switching a worker's engine recomputes instead of reusing (or mixing with) the other engine's results.
 * Thread counts are left out: they may change the last bits, but keying on them would make every machine size
 * its own artifact.
 */
import * as tf from '@tensorflow/tfjs';
import { selectedBackend } from './select-backend';
import { loadTorchAddon } from './torch-addon';
import { resolveTorchDevice, resolvePrecision, type TorchPrecision } from './torch-trainer';

/** The tfjs backend this process runs tfjs models on (imported and fine-tuned models): 'tfjs-node', 'wasm', ... */
export function tfjsEngineId(): string {
  const b = selectedBackend();
  if (!b) return `tfjs-${tf.getBackend()}`;
  return b.name === 'libtorch' ? String(b.details.tfjs) : b.name;
}

/**
 * The engine that trains and runs models of core/ml/models.ts in this process: 'libtorch-cpu-fp32',
 * 'libtorch-cuda-bf16', or the tfjs backend's id. `precision`: evaluation always runs libtorch in fp32
 * (core/backend/trained-classifier.ts); training uses BGSTUDY_TORCH_PRECISION's.
 */
export function modelEngineId(precision?: TorchPrecision): string {
  if (selectedBackend()?.name !== 'libtorch') return tfjsEngineId();
  const device = resolveTorchDevice(loadTorchAddon(), undefined);
  return `libtorch-${device}-${resolvePrecision(precision)}`;
}

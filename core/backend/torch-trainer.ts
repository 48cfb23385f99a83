/**
 * The libtorch engine as a StepTrainer: the network core/ml/models.ts builds (its seeded tfjs weights copied
 * in, so both engines start from the same numbers), trained by the addon (native/torch/bgstudy_torch.cc) on
 * a CUDA device when one is available, else on the CPU. Same loss (softmax cross-entropy, batch mean), same
 * BatchNorm (biased batch variance, tfjs-layers' moving-average update), same optimizer as
 * core/ml/optimizer.ts (Adam's bias-corrected step size computed here in float64 from the step count), and
 * state in the same names, shapes and layouts as InProcessTrainer's: a checkpoint resumes in either engine.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { ModelSpec } from '../ml/model-spec';
import { buildModel } from '../ml/models';
import type { Batch, OptimizerSpec, StepResult, StepTrainer, TrainerState } from '../ml/trainer';
import { BackendUnavailableError } from './backend-errors';
import { engineSettings } from './engine-settings';
import { loadTorchAddon, type ModelHandle, type TorchAddon } from './torch-addon';
import { torchGraph, type TorchGraph } from './torch-graph';

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

export type TorchDevice = 'cpu' | 'cuda';
export type TorchPrecision = 'fp32' | 'bf16';

export interface TorchTrainerOptions {
  /** Default: BGSTUDY_TORCH_DEVICE, else cuda when libtorch sees a CUDA device, else cpu. */
  device?: TorchDevice | 'auto';
  /** fp32 (default; the tfjs engines' math) or bf16 autocast (mixed precision). Default: BGSTUDY_TORCH_PRECISION. */
  precision?: TorchPrecision;
  /** CUDA only: TF32 convolutions (PyTorch's default, on) or true fp32 (off). Default: libtorch's. */
  tf32?: boolean;
  /** CPU threads (default: BGSTUDY_WORKERS, else one per core; Debian's libtorch would start with one). */
  threads?: number;
}

/** The first GPU's name from nvidia-smi, for result records; undefined where it is not installed. */
function gpuName(): string | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('\n')[0]!.trim() || undefined;
  } catch {
    return undefined;
  }
}

export function resolveTorchDevice(addon: TorchAddon, wanted: TorchDevice | 'auto' | undefined): TorchDevice {
  const asked = wanted ?? (engineSettings().torchDevice as TorchDevice | 'auto' | undefined) ?? 'auto';
  if (!['auto', 'cpu', 'cuda'].includes(asked))
    throw new Error(`BGSTUDY_TORCH_DEVICE must be auto, cpu or cuda, not "${asked}"`);
  const cuda = addon.info().cuda;
  if (asked === 'cuda' && !cuda)
    throw new BackendUnavailableError('libtorch sees no CUDA device (a CPU-only libtorch, or no GPU/driver)');
  return asked === 'auto' ? (cuda ? 'cuda' : 'cpu') : asked;
}

export function resolvePrecision(p: TorchPrecision | undefined): TorchPrecision {
  const v = p ?? engineSettings().torchPrecision ?? 'fp32';
  if (v !== 'fp32' && v !== 'bf16')
    throw new Error(`BGSTUDY_TORCH_PRECISION must be fp32 or bf16, not "${v}"`);
  return v;
}

export class TorchTrainer implements StepTrainer {
  readonly backend: string;
  readonly device: TorchDevice;
  readonly graph: TorchGraph;
  private readonly addon: TorchAddon;
  private readonly handle: ModelHandle;
  private step = 0;
  private readonly slotsPerVar: number;

  /** Builds the tfjs model on the active tfjs backend for its seeded weights, then hands them to libtorch. */
  constructor(
    readonly modelSpec: ModelSpec,
    readonly optimizer: OptimizerSpec,
    options: TorchTrainerOptions = {},
  ) {
    if (!(optimizer.learningRate > 0))
      throw new Error(`optimizer learningRate must be > 0, got ${optimizer.learningRate}`);
    this.addon = loadTorchAddon();
    this.addon.setThreads(options.threads ?? (Number(engineSettings().workers) || os.availableParallelism()));
    this.device = resolveTorchDevice(this.addon, options.device);
    const precision = resolvePrecision(options.precision);
    this.slotsPerVar = optimizer.name === 'adam' ? 2 : optimizer.momentum ? 1 : 0;
    const model = buildModel(modelSpec);
    try {
      this.graph = torchGraph(model);
      this.handle = this.addon.create({
        nodes: this.graph.nodes,
        params: this.graph.params,
        device: this.device,
        bf16: precision === 'bf16',
        slotsPerVar: this.slotsPerVar,
        ...(options.tf32 === undefined ? {} : { tf32: options.tf32 }),
      });
      model.weights.forEach((w, i) =>
        this.addon.setParam(this.handle, i, w.read().dataSync() as Float32Array),
      );
    } finally {
      model.dispose();
    }
    const info = this.addon.info();
    const where =
      this.device === 'cuda'
        ? `cuda: ${gpuName() ?? `${info.cudaDevices} device(s)`}`
        : `cpu, ${info.threads} threads`;
    this.backend = `libtorch ${info.torch} (${where}, ${precision})`;
  }

  private check(x: Float32Array, n: number): void {
    const s = this.modelSpec.inputSize;
    if (x.length !== n * s * s * 3)
      throw new Error(`batch of ${n} needs ${n * s * s * 3} pixel values at ${s}px, got ${x.length}`);
  }

  async trainStep(batch: Batch): Promise<StepResult> {
    this.check(batch.x, batch.n);
    this.step += 1;
    const { name, learningRate: lr, momentum = 0 } = this.optimizer;
    const [kind, a, b] =
      name === 'adam'
        ? [0, (lr * Math.sqrt(1 - BETA2 ** this.step)) / (1 - BETA1 ** this.step), EPSILON]
        : [1, lr, momentum];
    const [loss, correct] = await this.addon.trainStep(
      this.handle,
      batch.x,
      batch.y,
      batch.n,
      this.modelSpec.inputSize,
      kind,
      a,
      b,
    );
    return { loss, correct };
  }

  /** Loss and trainable-weight gradients (tfjs layouts, optimizer order) of one batch, without an update. */
  gradients(x: Float32Array, y: Int32Array, n: number): { loss: number; grads: Float32Array[] } {
    this.check(x, n);
    return this.addon.gradients(this.handle, x, y, n, this.modelSpec.inputSize);
  }

  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    this.check(x, n);
    return this.addon.predict(this.handle, x, n, this.modelSpec.inputSize);
  }

  /** d logit[label] / d pixel for each image (NHWC, inference mode): gradient saliency's input. */
  async inputGradients(x: Float32Array, n: number, labels: Int32Array): Promise<Float32Array> {
    this.check(x, n);
    return this.addon.inputGradients(this.handle, x, n, this.modelSpec.inputSize, labels);
  }

  async getState(): Promise<TrainerState> {
    const weights = this.graph.params.map((p, i) => ({
      name: p.name,
      shape: p.shape,
      data: this.addon.getParam(this.handle, i),
    }));
    const optimizer: TrainerState['optimizer'] = [
      { name: 'step', shape: [], data: Float32Array.of(this.step) },
    ];
    this.graph.trainable.forEach((p, k) => {
      for (let j = 0; j < this.slotsPerVar; j++)
        optimizer.push({
          name: `${k}/${j}`,
          shape: this.graph.params[p]!.shape,
          data: this.addon.getSlot(this.handle, k, j),
        });
    });
    return { weights, optimizer };
  }

  /** Every weight (BatchNorm statistics included) from a checkpoint or stored model, checked by name and shape. */
  setWeights(weights: TrainerState['weights']): void {
    const { params } = this.graph;
    if (weights.length !== params.length)
      throw new Error(`state has ${weights.length} weight arrays, the model has ${params.length}`);
    weights.forEach((w, i) => {
      const p = params[i]!;
      if (w.name !== p.name || w.shape.join('x') !== p.shape.join('x'))
        throw new Error(`weight ${i}: state has ${w.name} [${w.shape}], model has ${p.name} [${p.shape}]`);
    });
    weights.forEach((w, i) => this.addon.setParam(this.handle, i, w.data));
  }

  async setState(state: TrainerState): Promise<void> {
    const { trainable } = this.graph;
    const expected = 1 + trainable.length * this.slotsPerVar;
    if (state.optimizer.length !== expected || state.optimizer[0]?.name !== 'step')
      throw new Error(
        `optimizer state has ${state.optimizer.length} arrays, ${this.optimizer.name} over ${trainable.length} variables needs ${expected}`,
      );
    this.setWeights(state.weights);
    this.step = state.optimizer[0].data[0]!;
    let k = 1;
    trainable.forEach((_, v) => {
      for (let j = 0; j < this.slotsPerVar; j++)
        this.addon.setSlot(this.handle, v, j, state.optimizer[k++]!.data);
    });
  }

  async dispose(): Promise<void> {
    this.addon.release(this.handle);
  }
}

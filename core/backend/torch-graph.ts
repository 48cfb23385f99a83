/**
 * A tfjs LayersModel as the flat graph the libtorch addon runs (native/torch/bgstudy_torch.cc): one node per
 * layer in topological order, each naming its input nodes and its weights (indices into model.weights, the
 * order checkpoints use). Only the layers core/ml/models.ts builds are accepted; anything else is refused by
 * name, so an engine never silently computes a different network.
 */
import type * as tf from '@tensorflow/tfjs';

/** Node kinds, numbered as the addon's `Op` enum. */
export const OPS = {
  input: 0,
  channelDense: 1,
  conv: 2,
  depthwise: 3,
  batchNorm: 4,
  relu: 5,
  add: 6,
  maxPool: 7,
  globalAvgPool: 8,
  dense: 9,
  activation: 10,
  multiply: 11,
  concat: 12,
  reshape: 13,
  permute: 14,
  crop: 15,
} as const;

/** Activation layers' functions, numbered as the addon's `Activation` enum. */
export const ACTIVATIONS = { sigmoid: 1, swish: 2 } as const;

/** Weight layouts, numbered as the addon's `Layout` enum. */
export const LAYOUTS = { plain: 0, convKernel: 1, depthwiseKernel: 2 } as const;

export interface TorchNode {
  op: number;
  inputs: number[];
  params: number[];
  kernel: number;
  strides: number;
  same: boolean;
  relu: boolean;
  maxValue: number;
  eps: number;
  momentum: number;
  /** Reshape: target shape without the batch; permute: 1-based axes; crop: [top, bottom, left, right]. */
  dims: number[];
  /** Activation: one of ACTIVATIONS. */
  activation: number;
}

export interface TorchParam {
  name: string;
  /** Shape in tfjs's layout (the addon converts). */
  shape: number[];
  layout: number;
  trainable: boolean;
}

export interface TorchGraph {
  nodes: TorchNode[];
  params: TorchParam[];
  /** Indices into params of the trainable weights, in model.trainableWeights order (the optimizer's order). */
  trainable: number[];
}

export class UnsupportedLayerError extends Error {
  override name = 'UnsupportedLayerError';
}

type Config = Record<string, unknown>;

function square(layer: string, what: string, v: unknown): number {
  const arr = Array.isArray(v) ? (v as number[]) : [v as number, v as number];
  if (arr.length !== 2 || arr[0] !== arr[1] || !Number.isInteger(arr[0]))
    throw new UnsupportedLayerError(`layer ${layer}: ${what} ${JSON.stringify(v)} is not square`);
  return arr[0]!;
}

function activation(layer: string, c: Config): boolean {
  const a = (c.activation as string | undefined) ?? 'linear';
  if (a !== 'linear' && a !== 'relu')
    throw new UnsupportedLayerError(`layer ${layer}: activation ${a} (the libtorch engine has linear, relu)`);
  return a === 'relu';
}

function padding(layer: string, c: Config): boolean {
  if (c.padding !== 'same' && c.padding !== 'valid')
    throw new UnsupportedLayerError(`layer ${layer}: padding ${String(c.padding)}`);
  if (c.dilationRate !== undefined && square(layer, 'dilationRate', c.dilationRate) !== 1)
    throw new UnsupportedLayerError(`layer ${layer}: dilation ${JSON.stringify(c.dilationRate)}`);
  return c.padding === 'same';
}

/** The graph of a model built by core/ml/models.ts (NHWC input, logits output). */
export function torchGraph(model: tf.LayersModel): TorchGraph {
  const index = new Map(model.weights.map((w, i) => [w, i]));
  const trainableSet = new Set(model.trainableWeights);
  const params: TorchParam[] = model.weights.map((w) => ({
    name: w.originalName,
    shape: [...w.shape] as number[],
    layout: LAYOUTS.plain,
    trainable: trainableSet.has(w),
  }));
  const trainable = model.trainableWeights.map((w) => index.get(w)!);
  const nodeOf = new Map<string, number>();
  const nodes: TorchNode[] = [];

  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const c = layer.getConfig() as Config;
    const inbound = layer.inboundNodes;
    if (inbound.length !== 1)
      throw new UnsupportedLayerError(`layer ${layer.name} is applied ${inbound.length} times`);
    const inputs = inbound[0]!.inboundLayers.map((l) => {
      const i = nodeOf.get(l.name);
      if (i === undefined)
        throw new UnsupportedLayerError(`layer ${layer.name} reads ${l.name} before it exists`);
      return i;
    });
    const byName = (suffix: string) => {
      const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`));
      if (!w) throw new UnsupportedLayerError(`layer ${layer.name} has no ${suffix} weight`);
      return index.get(w)!;
    };
    const withBias = (kernel: number) => (c.useBias ? [kernel, byName('bias')] : [kernel]);
    const node: TorchNode = {
      op: OPS.input,
      inputs,
      params: [],
      kernel: 1,
      strides: 1,
      same: false,
      relu: false,
      maxValue: -1,
      eps: 0,
      momentum: 0,
      dims: [],
      activation: 0,
    };
    const inputRank = (k: number) => inbound[0]!.inputTensors[k]!.shape.length;
    switch (cls) {
      case 'InputLayer':
        if (nodes.length !== 0)
          throw new UnsupportedLayerError(`model ${model.name} has more than one input`);
        break;
      case 'Dense': {
        const rank = inbound[0]!.inputTensors[0]!.shape.length;
        node.op = rank === 4 ? OPS.channelDense : rank === 2 ? OPS.dense : -1;
        if (node.op < 0)
          throw new UnsupportedLayerError(`layer ${layer.name}: Dense on a rank-${rank} input`);
        node.relu = activation(layer.name, c);
        node.params = withBias(byName('kernel'));
        if (node.op === OPS.channelDense && !c.useBias)
          throw new UnsupportedLayerError(`layer ${layer.name}: per-pixel Dense needs a bias`);
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const depthwise = cls === 'DepthwiseConv2D';
        node.op = depthwise ? OPS.depthwise : OPS.conv;
        node.kernel = square(layer.name, 'kernelSize', c.kernelSize);
        node.strides = square(layer.name, 'strides', c.strides);
        node.same = padding(layer.name, c);
        node.relu = activation(layer.name, c);
        const kernel = byName(depthwise ? 'depthwise_kernel' : 'kernel');
        params[kernel]!.layout = depthwise ? LAYOUTS.depthwiseKernel : LAYOUTS.convKernel;
        node.params = withBias(kernel);
        if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast')
          throw new UnsupportedLayerError(`layer ${layer.name}: dataFormat ${JSON.stringify(c.dataFormat)}`);
        break;
      }
      case 'BatchNormalization': {
        const axis = c.axis as number;
        if ((axis !== -1 && axis !== 3) || c.center === false || c.scale === false)
          throw new UnsupportedLayerError(
            `layer ${layer.name}: BatchNormalization needs axis -1, center and scale`,
          );
        node.op = OPS.batchNorm;
        node.eps = c.epsilon as number;
        node.momentum = c.momentum as number;
        node.params = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map(byName);
        break;
      }
      case 'ReLU':
        node.op = OPS.relu;
        node.maxValue = (c.maxValue as number | null | undefined) ?? -1;
        break;
      case 'Add':
        node.op = OPS.add;
        break;
      case 'MaxPooling2D':
        node.op = OPS.maxPool;
        node.kernel = square(layer.name, 'poolSize', c.poolSize);
        node.strides = square(layer.name, 'strides', c.strides ?? c.poolSize);
        node.same = padding(layer.name, { ...c, dilationRate: undefined });
        break;
      case 'GlobalAveragePooling2D':
        node.op = OPS.globalAvgPool;
        break;
      case 'Activation': {
        const a = c.activation as string;
        if (a !== 'sigmoid' && a !== 'swish')
          throw new UnsupportedLayerError(
            `layer ${layer.name}: activation ${a} (the libtorch engine has sigmoid, swish)`,
          );
        node.op = OPS.activation;
        node.activation = ACTIVATIONS[a];
        break;
      }
      case 'Multiply':
        node.op = OPS.multiply;
        if (inputs.some((_, k) => inputRank(k) !== inputRank(0)))
          throw new UnsupportedLayerError(`layer ${layer.name}: Multiply of inputs of different ranks`);
        break;
      case 'Concatenate':
        node.op = OPS.concat;
        if (inputRank(0) !== 4 || (c.axis !== -1 && c.axis !== 3))
          throw new UnsupportedLayerError(
            `layer ${layer.name}: Concatenate only along the channels of images`,
          );
        break;
      case 'Reshape':
        node.op = OPS.reshape;
        node.dims = [...(c.targetShape as number[])];
        if (node.dims.some((d) => !Number.isInteger(d) || d < 1))
          throw new UnsupportedLayerError(
            `layer ${layer.name}: target shape ${JSON.stringify(c.targetShape)}`,
          );
        break;
      case 'Permute':
        node.op = OPS.permute;
        node.dims = [...(c.dims as number[])];
        break;
      case 'Cropping2D': {
        const crop = c.cropping as [[number, number], [number, number]];
        if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast')
          throw new UnsupportedLayerError(`layer ${layer.name}: dataFormat ${JSON.stringify(c.dataFormat)}`);
        node.op = OPS.crop;
        node.dims = [crop[0][0], crop[0][1], crop[1][0], crop[1][1]];
        break;
      }
      default:
        throw new UnsupportedLayerError(
          `layer ${layer.name} (${cls}) is not supported by the libtorch engine (core/backend/torch-graph.ts)`,
        );
    }
    if (node.op !== OPS.input && inputs.length === 0)
      throw new UnsupportedLayerError(`layer ${layer.name} has no input`);
    nodeOf.set(layer.name, nodes.length);
    nodes.push(node);
  }
  const out = model.outputs[0]!.sourceLayer.name;
  if (model.outputs.length !== 1 || nodeOf.get(out) !== nodes.length - 1)
    throw new UnsupportedLayerError(`model ${model.name}: its output must be its last layer`);
  return { nodes, params, trainable };
}

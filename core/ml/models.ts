import * as tf from '@tensorflow/tfjs';
import { installLazyConvGradients } from './lazy-conv-grad';
import type { ModelSpec } from './model-spec';

installLazyConvGradients();

/** ImageNet statistics, applied inside the model so that inputs stay in [0, 1] for compositing. */
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** Inputs below this side get a stride-1 stem and no stem pooling (the CIFAR-style variants of these nets). */
const SMALL_INPUT = 64;

type T = tf.SymbolicTensor;

/** (x - mean) / std as a layer: scale = 1/std, offset = -mean/std, per channel. */
function normalize(input: T): T {
  const weights = [
    tf.tensor2d([1 / STD[0]!, 0, 0, 0, 1 / STD[1]!, 0, 0, 0, 1 / STD[2]!], [3, 3]),
    tf.tensor1d(MEAN.map((m, i) => -m / STD[i]!)),
  ];
  const scale = tf.layers.dense({ units: 3, useBias: true, trainable: false, name: 'normalize', weights });
  const out = scale.apply(input) as T;
  // Building the layer copied them into its variables (they leaked once per model built otherwise).
  tf.dispose(weights);
  return out;
}

/**
 * Layer factory with one seeded initializer per layer (seed*1000 + running index), so the same spec builds
 * bit-identical weights in any process, and unique layer names.
 */
class Builder {
  private next = 0;
  constructor(private readonly seed: number) {}

  private init(): ReturnType<typeof tf.initializers.heNormal> {
    return tf.initializers.heNormal({ seed: this.seed * 1000 + this.next++ });
  }

  conv(x: T, filters: number, kernelSize: number, strides: number, name: string): T {
    return tf.layers
      .conv2d({
        filters,
        kernelSize,
        strides,
        padding: 'same',
        useBias: false,
        kernelInitializer: this.init(),
        name,
      })
      .apply(x) as T;
  }

  depthwise(x: T, strides: number, name: string): T {
    return tf.layers
      .depthwiseConv2d({
        kernelSize: 3,
        strides,
        padding: 'same',
        useBias: false,
        depthwiseInitializer: this.init(),
        name,
      })
      .apply(x) as T;
  }

  /** Keras momentum 0.9 = PyTorch's 0.1: short runs need moving statistics that follow the weights. */
  bn(x: T, name: string, zeroGamma = false): T {
    return tf.layers
      .batchNormalization({
        momentum: 0.9,
        epsilon: 1e-5,
        gammaInitializer: zeroGamma ? 'zeros' : 'ones',
        name,
      })
      .apply(x) as T;
  }

  relu(x: T, name: string, max?: number): T {
    return tf.layers.reLU({ maxValue: max, name }).apply(x) as T;
  }

  add(a: T, b: T, name: string): T {
    return tf.layers.add({ name }).apply([a, b]) as T;
  }

  head(x: T, numClasses: number): T {
    x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as T;
    return tf.layers
      .dense({
        units: numClasses,
        kernelInitializer: tf.initializers.glorotUniform({ seed: this.seed * 1000 + 999 }),
        name: 'logits',
      })
      .apply(x) as T;
  }
}

/** The fast default: three conv blocks (16/32/64 filters), global average pooling, a linear classifier. */
function smallCnn(spec: ModelSpec): tf.LayersModel {
  const init = (i: number) => tf.initializers.heNormal({ seed: spec.seed * 1000 + i });
  const input = tf.input({ shape: [spec.inputSize, spec.inputSize, 3], name: 'image' });
  let x = normalize(input);
  [16, 32, 64].forEach((filters, i) => {
    x = tf.layers
      .conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(i),
        name: `conv${i + 1}`,
      })
      .apply(x) as T;
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${i + 1}` }).apply(x) as T;
  });
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as T;
  const logits = tf.layers
    .dense({
      units: spec.numClasses,
      kernelInitializer: tf.initializers.glorotUniform({ seed: spec.seed * 1000 + 99 }),
      name: 'logits',
    })
    .apply(x) as T;
  return tf.model({ inputs: input, outputs: logits, name: 'small_cnn' });
}

/** ImageNet stem (7x7/2 conv + 3x3/2 max pool) at 64px and up; a 3x3/1 conv below, where pixels are scarce. */
function resnetStem(b: Builder, x: T, inputSize: number): T {
  if (inputSize < SMALL_INPUT) return b.relu(b.bn(b.conv(x, 64, 3, 1, 'stem_conv'), 'stem_bn'), 'stem_relu');
  x = b.relu(b.bn(b.conv(x, 64, 7, 2, 'stem_conv'), 'stem_bn'), 'stem_relu');
  return tf.layers
    .maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'stem_pool' })
    .apply(x) as T;
}

/** Projection shortcut when the shape changes, identity otherwise. */
function shortcut(b: Builder, x: T, filters: number, strides: number, name: string): T {
  const channels = x.shape[3];
  if (strides === 1 && channels === filters) return x;
  return b.bn(b.conv(x, filters, 1, strides, `${name}_proj`), `${name}_proj_bn`);
}

/** ResNet-18/34 basic block: two 3x3 convs; the last BN's gamma starts at 0 so each block starts as identity. */
function basicBlock(b: Builder, x: T, filters: number, strides: number, name: string): T {
  let y = b.relu(b.bn(b.conv(x, filters, 3, strides, `${name}_conv1`), `${name}_bn1`), `${name}_relu1`);
  y = b.bn(b.conv(y, filters, 3, 1, `${name}_conv2`), `${name}_bn2`, true);
  return b.relu(b.add(y, shortcut(b, x, filters, strides, name), `${name}_add`), `${name}_out`);
}

/** ResNet-50 bottleneck: 1x1 reduce, 3x3 (with the stride, as torchvision's v1.5), 1x1 expand x4. */
function bottleneck(b: Builder, x: T, width: number, strides: number, name: string): T {
  let y = b.relu(b.bn(b.conv(x, width, 1, 1, `${name}_conv1`), `${name}_bn1`), `${name}_relu1`);
  y = b.relu(b.bn(b.conv(y, width, 3, strides, `${name}_conv2`), `${name}_bn2`), `${name}_relu2`);
  y = b.bn(b.conv(y, width * 4, 1, 1, `${name}_conv3`), `${name}_bn3`, true);
  return b.relu(b.add(y, shortcut(b, x, width * 4, strides, name), `${name}_add`), `${name}_out`);
}

function resnet(spec: ModelSpec, blocks: number[], bottlenecks: boolean): tf.LayersModel {
  const b = new Builder(spec.seed);
  const input = tf.input({ shape: [spec.inputSize, spec.inputSize, 3], name: 'image' });
  let x = resnetStem(b, normalize(input), spec.inputSize);
  [64, 128, 256, 512].forEach((width, stage) => {
    for (let i = 0; i < blocks[stage]!; i++) {
      const strides = i === 0 && stage > 0 ? 2 : 1;
      const name = `s${stage + 1}b${i + 1}`;
      x = bottlenecks ? bottleneck(b, x, width, strides, name) : basicBlock(b, x, width, strides, name);
    }
  });
  return tf.model({ inputs: input, outputs: b.head(x, spec.numClasses), name: spec.arch });
}

/** MobileNetV2 inverted residual: 1x1 expand (ReLU6), 3x3 depthwise (ReLU6), 1x1 linear projection. */
function invertedResidual(b: Builder, x: T, expand: number, out: number, strides: number, name: string): T {
  const channels = x.shape[3]!;
  let y = x;
  if (expand !== 1)
    y = b.relu(
      b.bn(b.conv(y, channels * expand, 1, 1, `${name}_expand`), `${name}_expand_bn`),
      `${name}_expand_relu`,
      6,
    );
  y = b.relu(b.bn(b.depthwise(y, strides, `${name}_dw`), `${name}_dw_bn`), `${name}_dw_relu`, 6);
  y = b.bn(b.conv(y, out, 1, 1, `${name}_project`), `${name}_project_bn`);
  return strides === 1 && channels === out ? b.add(x, y, `${name}_add`) : y;
}

/** (expansion t, channels c, repeats n, stride s) of Sandler et al. 2018, table 2. */
const MOBILENET_V2_STAGES: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

function mobilenetV2(spec: ModelSpec): tf.LayersModel {
  const b = new Builder(spec.seed);
  const small = spec.inputSize < SMALL_INPUT;
  const input = tf.input({ shape: [spec.inputSize, spec.inputSize, 3], name: 'image' });
  // Small inputs keep the stem and the first downsampling stage at stride 1 (total stride 8 instead of 32).
  let x = b.relu(
    b.bn(b.conv(normalize(input), 32, 3, small ? 1 : 2, 'stem_conv'), 'stem_bn'),
    'stem_relu',
    6,
  );
  MOBILENET_V2_STAGES.forEach(([t, c, n, s], stage) => {
    for (let i = 0; i < n; i++) {
      const strides = i > 0 ? 1 : small && stage === 1 ? 1 : s;
      x = invertedResidual(b, x, t, c, strides, `s${stage + 1}b${i + 1}`);
    }
  });
  x = b.relu(b.bn(b.conv(x, 1280, 1, 1, 'top_conv'), 'top_bn'), 'top_relu', 6);
  return tf.model({ inputs: input, outputs: b.head(x, spec.numClasses), name: 'mobilenet_v2' });
}

/** Builds the network a spec names; outputs are logits (softmax lives in the loss). */
export function buildModel(spec: ModelSpec): tf.LayersModel {
  if (!Number.isInteger(spec.inputSize) || spec.inputSize < 8)
    throw new Error(`model inputSize must be an integer >= 8, got ${spec.inputSize}`);
  if (!Number.isInteger(spec.numClasses) || spec.numClasses < 2)
    throw new Error(`model numClasses must be an integer >= 2, got ${spec.numClasses}`);
  switch (spec.arch) {
    case 'small_cnn':
      return smallCnn(spec);
    case 'resnet18':
      return resnet(spec, [2, 2, 2, 2], false);
    case 'resnet50':
      return resnet(spec, [3, 4, 6, 3], true);
    case 'mobilenet_v2':
      return mobilenetV2(spec);
    default:
      throw new Error(`unknown architecture "${String(spec.arch)}"`);
  }
}

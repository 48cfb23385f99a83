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

  depthwise(x: T, strides: number, name: string, kernelSize = 3): T {
    return tf.layers
      .depthwiseConv2d({
        kernelSize,
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

  /** Sigmoid or swish (x * sigmoid(x), PyTorch's SiLU) as its own layer. */
  act(x: T, activation: 'sigmoid' | 'swish', name: string): T {
    return tf.layers.activation({ activation, name }).apply(x) as T;
  }

  /** A fully connected layer with a bias, on a [batch, channels] input. */
  dense(x: T, units: number, name: string): T {
    return tf.layers.dense({ units, kernelInitializer: this.init(), name }).apply(x) as T;
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

/**
 * EfficientNet MBConv (Tan & Le 2019): 1x1 expand (swish), kxk depthwise (swish), squeeze-and-excitation
 * (global pool, a reduction to a quarter of the block's input channels with swish, back with a sigmoid, times
 * the feature map), 1x1 linear projection; identity shortcut where the shape is kept. No stochastic depth or
 * dropout (none of this project's nets has them: runs stay deterministic and resumable bit for bit).
 */
function mbConv(
  b: Builder,
  x: T,
  expand: number,
  kernel: number,
  strides: number,
  out: number,
  name: string,
): T {
  const channels = x.shape[3]!;
  const expanded = channels * expand;
  let y = x;
  if (expand !== 1)
    y = b.act(
      b.bn(b.conv(y, expanded, 1, 1, `${name}_expand`), `${name}_expand_bn`),
      'swish',
      `${name}_expand_swish`,
    );
  y = b.act(
    b.bn(b.depthwise(y, strides, `${name}_dw`, kernel), `${name}_dw_bn`),
    'swish',
    `${name}_dw_swish`,
  );
  let s = tf.layers.globalAveragePooling2d({ name: `${name}_se_pool` }).apply(y) as T;
  s = b.act(
    b.dense(s, Math.max(1, Math.floor(channels / 4)), `${name}_se_reduce`),
    'swish',
    `${name}_se_swish`,
  );
  s = b.act(b.dense(s, expanded, `${name}_se_expand`), 'sigmoid', `${name}_se_sigmoid`);
  s = tf.layers.reshape({ targetShape: [1, 1, expanded], name: `${name}_se_reshape` }).apply(s) as T;
  y = tf.layers.multiply({ name: `${name}_se_scale` }).apply([y, s]) as T;
  y = b.bn(b.conv(y, out, 1, 1, `${name}_project`), `${name}_project_bn`);
  return strides === 1 && channels === out ? b.add(x, y, `${name}_add`) : y;
}

/** (expansion, kernel, stride, channels, repeats) of EfficientNet-B0, Tan & Le 2019, table 1. */
const EFFICIENTNET_B0_STAGES: [number, number, number, number, number][] = [
  [1, 3, 1, 16, 1],
  [6, 3, 2, 24, 2],
  [6, 5, 2, 40, 2],
  [6, 3, 2, 80, 3],
  [6, 5, 1, 112, 3],
  [6, 5, 2, 192, 4],
  [6, 3, 1, 320, 1],
];

/** EfficientNet-B0 (width and depth 1.0); below 64px the stem and the 24-channel stage keep stride 1, as MobileNetV2. */
function efficientnetB0(spec: ModelSpec): tf.LayersModel {
  const b = new Builder(spec.seed);
  const small = spec.inputSize < SMALL_INPUT;
  const input = tf.input({ shape: [spec.inputSize, spec.inputSize, 3], name: 'image' });
  let x = b.act(
    b.bn(b.conv(normalize(input), 32, 3, small ? 1 : 2, 'stem_conv'), 'stem_bn'),
    'swish',
    'stem_swish',
  );
  EFFICIENTNET_B0_STAGES.forEach(([t, k, s, c, n], stage) => {
    for (let i = 0; i < n; i++) {
      const strides = i > 0 ? 1 : small && stage === 1 ? 1 : s;
      x = mbConv(b, x, t, k, strides, c, `s${stage + 1}b${i + 1}`);
    }
  });
  x = b.act(b.bn(b.conv(x, 1280, 1, 1, 'top_conv'), 'top_bn'), 'swish', 'top_swish');
  return tf.model({ inputs: input, outputs: b.head(x, spec.numClasses), name: 'efficientnet_b0' });
}

/**
 * ShuffleNetV2's channel shuffle with 2 groups (Ma et al. 2018), from built-in layers so the graph stays plain
 * tfjs: [h, w, 2, c/2] -> swap the last two axes -> [h, w, c], i.e. channel g*c/2 + i moves to 2i + g.
 */
export function channelShuffle(x: T, name: string): T {
  const [, h, w, c] = x.shape as number[];
  x = tf.layers.reshape({ targetShape: [h!, w!, 2, c! / 2], name: `${name}_groups` }).apply(x) as T;
  x = tf.layers.permute({ dims: [1, 2, 4, 3], name: `${name}_transpose` }).apply(x) as T;
  return tf.layers.reshape({ targetShape: [h!, w!, c!], name: `${name}_shuffle` }).apply(x) as T;
}

/** The first or second half of the channels (the split of a stride-1 ShuffleNetV2 unit): [h*w, 2, c/2], cropped. */
export function channelHalf(x: T, half: 0 | 1, name: string): T {
  const [, h, w, c] = x.shape as number[];
  let y = tf.layers.reshape({ targetShape: [h! * w!, 2, c! / 2], name: `${name}_halves` }).apply(x) as T;
  const cropping: [[number, number], [number, number]] = [
    [0, 0],
    [half, 1 - half],
  ];
  y = tf.layers.cropping2D({ cropping, name: `${name}_crop` }).apply(y) as T;
  return tf.layers.reshape({ targetShape: [h!, w!, c! / 2], name: `${name}_half` }).apply(y) as T;
}

/** ShuffleNetV2's branch: 1x1 (ReLU), 3x3 depthwise (linear), 1x1 (ReLU). */
function shuffleBranch(b: Builder, x: T, features: number, strides: number, name: string): T {
  let y = b.relu(b.bn(b.conv(x, features, 1, 1, `${name}_conv1`), `${name}_bn1`), `${name}_relu1`);
  y = b.bn(b.depthwise(y, strides, `${name}_dw`), `${name}_dw_bn`);
  return b.relu(b.bn(b.conv(y, features, 1, 1, `${name}_conv2`), `${name}_bn2`), `${name}_relu2`);
}

/**
 * ShuffleNetV2 unit: stride 1 splits the channels in half, keeps one and transforms the other; stride 2 feeds
 * the whole input to both the branch and a shortcut (3x3 depthwise /2, 1x1 with ReLU). Both concatenate, then shuffle.
 */
function shuffleUnit(b: Builder, x: T, out: number, strides: number, name: string): T {
  const features = out / 2;
  let left: T;
  let right: T;
  if (strides === 1) {
    left = channelHalf(x, 0, `${name}_left`);
    right = shuffleBranch(b, channelHalf(x, 1, `${name}_right`), features, 1, `${name}_branch`);
  } else {
    left = b.bn(b.depthwise(x, strides, `${name}_short_dw`), `${name}_short_dw_bn`);
    left = b.relu(
      b.bn(b.conv(left, features, 1, 1, `${name}_short_conv`), `${name}_short_bn`),
      `${name}_short_relu`,
    );
    right = shuffleBranch(b, x, features, strides, `${name}_branch`);
  }
  const both = tf.layers.concatenate({ axis: -1, name: `${name}_concat` }).apply([left, right]) as T;
  return channelShuffle(both, name);
}

/** (repeats, output channels) of ShuffleNetV2 1.0x, Ma et al. 2018, table 5; conv1 24, conv5 1024 channels. */
const SHUFFLENET_V2_STAGES: [number, number][] = [
  [4, 116],
  [8, 232],
  [4, 464],
];

/** ShuffleNetV2 1.0x; below 64px the stem is a 3x3/1 conv without max pool (total stride 8), as the ResNets. */
function shufflenetV2(spec: ModelSpec): tf.LayersModel {
  const b = new Builder(spec.seed);
  const input = tf.input({ shape: [spec.inputSize, spec.inputSize, 3], name: 'image' });
  const small = spec.inputSize < SMALL_INPUT;
  let x = b.relu(b.bn(b.conv(normalize(input), 24, 3, small ? 1 : 2, 'stem_conv'), 'stem_bn'), 'stem_relu');
  if (!small)
    x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'stem_pool' }).apply(x) as T;
  SHUFFLENET_V2_STAGES.forEach(([n, c], stage) => {
    for (let i = 0; i < n; i++) x = shuffleUnit(b, x, c, i === 0 ? 2 : 1, `s${stage + 2}b${i + 1}`);
  });
  x = b.relu(b.bn(b.conv(x, 1024, 1, 1, 'top_conv'), 'top_bn'), 'top_relu');
  return tf.model({ inputs: input, outputs: b.head(x, spec.numClasses), name: 'shufflenet_v2' });
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
    case 'efficientnet_b0':
      return efficientnetB0(spec);
    case 'shufflenet_v2':
      return shufflenetV2(spec);
    default:
      throw new Error(`unknown architecture "${String(spec.arch)}"`);
  }
}

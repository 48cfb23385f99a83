/**
 * tfjs-layers runs every Conv2D as tf.fused.conv2d, whose custom gradient always computes the input gradient,
 * also where nothing needs it: a network's first convolution, whose input is the image. For ResNet-18 at
 * 112px that wasted Conv2DBackpropInput (64 -> 3 channels at full resolution) was 4% of a wasm step and 6% of a
 * tfjs-node step. A convolution without bias or activation is exactly tf.conv2d, whose registered gradient
 * is evaluated per input only where the tape needs it; this routes such layers there (every backend).
 */
import * as tf from '@tensorflow/tfjs';

interface ConvLayer {
  bias: unknown;
  rank: number;
  dataFormat: string;
  padding: string;
  strides: [number, number];
  dilationRate: [number, number];
  activation: { getClassName(): string };
  kernel: { read(): tf.Tensor };
}

let installed = false;

export function installLazyConvGradients(): void {
  if (installed) return;
  const proto = Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })) as {
    call: (this: ConvLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: object) => tf.Tensor;
  };
  const stock = proto.call;
  proto.call = function (inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const plain =
      this.bias == null &&
      this.rank === 2 &&
      this.dataFormat === 'channelsLast' &&
      this.activation.getClassName() === 'linear' &&
      (this.padding === 'same' || this.padding === 'valid') &&
      x.rank === 4;
    if (!plain) return stock.call(this, inputs, kwargs);
    return tf.conv2d(
      x as tf.Tensor4D,
      this.kernel.read() as tf.Tensor4D,
      this.strides,
      this.padding as 'same' | 'valid',
      'NHWC',
      this.dilationRate,
    );
  };
  installed = true;
}

/**
 * Training-mode batch normalization on tfjs-node as TensorFlow's own fused ops. tfjs-layers computes it as
 * moments + batchNorm, whose gradient is ~25 small broadcasting ops per layer (35% of a ResNet-18 step on
 * tfjs-node); FusedBatchNormV3 with is_training and its FusedBatchNormGradV3 are one op each way.
 * Installed by patching BatchNormalization.call, only for NHWC inputs with scale and center, in training,
 * on the "tensorflow" backend; everything else (other backends, inference) runs tfjs-layers' own code.
 * Same math as tfjs-layers: the batch is normalized with its biased variance, and the moving mean and
 * variance get the same update (the biased variance, as tfjs-layers uses).
 */
import * as tf from '@tensorflow/tfjs';

interface AttrTypes {
  TF_ATTR_TYPE: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_STRING: number;
  TF_FLOAT: number;
}
interface NodeJsBackend {
  binding: AttrTypes;
  executeMultipleOutputs(
    name: string,
    attrs: { name: string; type: number; value: unknown }[],
    inputs: tf.TensorInfo[],
    numOutputs: number,
  ): tf.Tensor[];
}

const TRAIN = 'BgstudyFusedBatchNormTrain';
const GRAD = 'BgstudyFusedBatchNormGrad';

function attrs(b: AttrTypes, epsilon: number) {
  return [
    { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
    { name: 'U', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
    { name: 'epsilon', type: b.TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: b.TF_ATTR_BOOL, value: true },
  ];
}

function registerKernels(): void {
  tf.registerKernel({
    kernelName: TRAIN,
    backendName: 'tensorflow',
    // Outputs: y, batch mean, batch variance (Bessel-corrected), and three reserve spaces for the gradient.
    kernelFunc: ({ inputs, backend, attrs: a }) => {
      const b = backend as unknown as NodeJsBackend;
      const { x, scale, offset } = inputs as Record<string, tf.TensorInfo>;
      const empty = tf.tensor1d([]);
      const out = b.executeMultipleOutputs(
        'FusedBatchNormV3',
        [
          ...attrs(b.binding, (a as { epsilon: number }).epsilon),
          { name: 'exponential_avg_factor', type: b.binding.TF_ATTR_FLOAT, value: 1 },
        ],
        [x!, scale!, offset!, empty, empty],
        6,
      );
      empty.dispose();
      return out;
    },
  });
  tf.registerKernel({
    kernelName: GRAD,
    backendName: 'tensorflow',
    // Outputs: dx, dscale, doffset (and two unused reserve spaces, dropped).
    kernelFunc: ({ inputs, backend, attrs: a }) => {
      const b = backend as unknown as NodeJsBackend;
      const { dy, x, scale, r1, r2, r3 } = inputs as Record<string, tf.TensorInfo>;
      const out = b.executeMultipleOutputs(
        'FusedBatchNormGradV3',
        attrs(b.binding, (a as { epsilon: number }).epsilon),
        [dy!, x!, scale!, r1!, r2!, r3!],
        5,
      );
      tf.dispose(out.slice(3));
      return out.slice(0, 3);
    },
  });
}

const run = (kernel: string, inputs: tf.NamedTensorMap, epsilon: number) =>
  tf.engine().runKernel(kernel, inputs, { epsilon }) as unknown as tf.Tensor[];

/** y and the batch's mean and biased variance; y's gradient is the fused one. */
function fusedTraining(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number) {
  let stats: [tf.Tensor, tf.Tensor] | undefined;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, g, bt] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [y, batchMean, batchVar, r1, r2, r3] = run(TRAIN, { x: xi!, scale: g!, offset: bt! }, epsilon);
    // batch_variance is Bessel-corrected; tfjs-layers' moving variance uses the biased one.
    const n = xi!.size / xi!.shape[3]!;
    stats = [tf.keep(batchMean!), tf.keep(n > 1 ? tf.mul(batchVar!, (n - 1) / n) : batchVar!)];
    save([xi!, g!, r1!, r2!, r3!]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, s1, s2, s3] = saved;
        return run(GRAD, { dy, x: sx!, scale: sg!, r1: s1!, r2: s2!, r3: s3! }, epsilon);
      },
    };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  return { y, mean: stats![0], variance: stats![1] };
}

interface BatchNormLayer {
  axis: number;
  center: boolean;
  scale: boolean;
  epsilon: number;
  momentum: number;
  gamma: { read(): tf.Tensor };
  beta: { read(): tf.Tensor };
  movingMean: { read(): tf.Tensor; write(v: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(v: tf.Tensor): void };
}

let installed = false;

/** Patches tfjs-layers' BatchNormalization once per process; call after tfjs-node is loaded. */
export function installFusedBatchNorm(): void {
  if (installed) return;
  registerKernels();
  const proto = Object.getPrototypeOf(tf.layers.batchNormalization({})) as {
    call: (
      this: BatchNormLayer,
      inputs: tf.Tensor | tf.Tensor[],
      kwargs: { training?: boolean },
    ) => tf.Tensor;
  };
  const stock = proto.call;
  proto.call = function (inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const eligible =
      kwargs?.training === true &&
      tf.getBackend() === 'tensorflow' &&
      x.rank === 4 &&
      x.dtype === 'float32' &&
      (this.axis === -1 || this.axis === 3) &&
      this.center &&
      this.scale;
    if (!eligible) return stock.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = fusedTraining(
        x as tf.Tensor4D,
        this.gamma.read() as tf.Tensor1D,
        this.beta.read() as tf.Tensor1D,
        this.epsilon,
      );
      // tfjs-layers' moving-average update, verbatim: v - (v - batch) * (1 - momentum).
      for (const [variable, value] of [
        [this.movingMean, mean],
        [this.movingVariance, variance],
      ] as const) {
        tf.tidy(() => {
          const orig = variable.read();
          variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - this.momentum)));
        });
      }
      tf.dispose([mean, variance]);
      return y;
    });
  };
  installed = true;
}

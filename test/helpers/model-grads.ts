import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/backend/select-backend';
import type { BackendName } from '../../core/backend/select-backend';
import { buildModel } from '../../core/ml/models';
import { softmaxCrossEntropy } from '../../core/ml/in-process-trainer';
import type { Architecture } from '../../core/ml/model-spec';
import { values } from './grad-check';

export const SIZE = 16;
export const N = 2;
export const pixels = values(N * SIZE * SIZE * 3, 11).map((v) => (v + 1) / 2);
export const labels = Int32Array.of(1, 3);

/** Loss and every trainable weight's gradient, concatenated, on the given backend. */
export async function lossGradients(arch: Architecture, backend: BackendName) {
  await initBackend({ backend });
  const model = buildModel({ arch, inputSize: SIZE, numClasses: 5, seed: 2 });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () =>
      softmaxCrossEntropy(
        model.apply(tf.tensor4d(pixels, [N, SIZE, SIZE, 3]), { training: true }) as tf.Tensor2D,
        tf.tensor1d(labels, 'int32'),
      ),
    vars,
  );
  const parts = await Promise.all(vars.map((v) => grads[v.name]!.data()));
  const loss = (await value.data())[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  model.dispose();
  return { loss, grads: parts.flatMap((p) => Array.from(p)) };
}

/** max |a - b| over all gradients / max |b|: per-weight ratios are meaningless for near-zero gradients. */
export function globalRelErr(a: number[], b: number[]): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
}

/**
 * One data-parallel training worker (a worker thread): its own tfjs, backend and copy of the model. It
 * computes gradients on its rows of each global batch, then, once every worker has written its gradients,
 * applies the same summed gradients with the same optimizer as every other worker, so all copies of the
 * weights stay bit-identical. Started by parallel-worker.cjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../ml/models';
import { softmaxCrossEntropy, readWeights, writeWeights } from '../ml/in-process-trainer';
import { ExplicitOptimizer } from '../ml/optimizer';
import type { FromWorker, SharedBuffers, ToWorker, WorkerInit } from './parallel-protocol';
import { configureEngine } from './engine-settings';
import { describeBackend, initBackend } from './select-backend';

const port = parentPort!;
const init = workerData as WorkerInit;
const send = (m: FromWorker) => port.postMessage(m);

async function main(): Promise<void> {
  if (init.engine) configureEngine(init.engine);
  const info = await initBackend({ backend: init.backend });
  const model = buildModel(init.modelSpec);
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const frozen = model.weights.filter((w) => !w.trainable);
  const optimizer = new ExplicitOptimizer(init.optimizer, trainable);
  const sizes = trainable.map((v) => v.size);
  const parameterCount = sizes.reduce((a, b) => a + b, 0);
  const statSizes = frozen.map((w) => w.shape.reduce((a: number, b) => a * (b ?? 1), 1));
  const statCount = statSizes.reduce((a, b) => a + b, 0);
  const s = init.modelSpec.inputSize;
  const pixels = s * s * 3;
  let buffers: SharedBuffers | undefined;
  const need = () => {
    if (!buffers) throw new Error('worker received work before its shared buffers');
    return buffers;
  };

  /** Writes a list of tensors, flattened in order, into `dst` at `offset`. */
  const flattenInto = async (ts: tf.Tensor[], dst: Float32Array, offset: number) => {
    for (const t of ts) {
      dst.set(await t.data(), offset);
      offset += t.size;
    }
  };

  const handlers: { [K in ToWorker['type']]: (m: Extract<ToWorker, { type: K }>) => Promise<FromWorker> } = {
    buffers: async (m) => {
      buffers = m.buffers;
      return { type: 'ok' };
    },
    grads: async ({ lo, hi, n }) => {
      const b = need();
      const mine = new Float32Array(b.grads, init.index * parameterCount * 4, parameterCount);
      const rows = hi - lo;
      if (rows === 0) {
        mine.fill(0);
        await flattenInto(
          frozen.map((w) => w.read()),
          new Float32Array(b.stats, init.index * statCount * 4, statCount),
          0,
        );
        return { type: 'grads', lossSum: 0, correct: 0 };
      }
      const x = tf.tensor4d(new Float32Array(b.x, lo * pixels * 4, rows * pixels), [rows, s, s, 3]);
      const y = tf.tensor1d(new Int32Array(b.y, lo * 4, rows), 'int32');
      let logits: tf.Tensor2D | undefined;
      // Gradient of (sum of this worker's per-image losses) / n: the workers' sum is the global mean's gradient.
      const { value, grads } = tf.variableGrads(() => {
        logits = tf.keep(model.apply(x, { training: true }) as tf.Tensor2D);
        return softmaxCrossEntropy(logits, y).mul(rows / n);
      }, trainable);
      const hits = tf.tidy(() => tf.equal(tf.argMax(logits!, 1), y).sum());
      const ordered = trainable.map((v) => grads[v.name]!);
      await flattenInto(ordered, mine, 0);
      await flattenInto(
        frozen.map((w) => w.read()),
        new Float32Array(b.stats, init.index * statCount * 4, statCount),
        0,
      );
      const lossSum = (await value.data())[0]! * n;
      const correct = (await hits.data())[0]!;
      tf.dispose([x, y, logits!, value, hits, ...ordered]);
      return { type: 'grads', lossSum, correct };
    },
    apply: async ({ rowsPerWorker }) => {
      const b = need();
      // Same summation order in every worker, so every worker gets the same float32 sums.
      const sum = new Float32Array(parameterCount);
      for (let w = 0; w < init.workers; w++) {
        const g = new Float32Array(b.grads, w * parameterCount * 4, parameterCount);
        for (let i = 0; i < parameterCount; i++) sum[i] = sum[i]! + g[i]!;
      }
      let offset = 0;
      const gradTensors = trainable.map((v, i) => {
        const t = tf.tensor(sum.subarray(offset, offset + sizes[i]!), v.shape);
        offset += sizes[i]!;
        return t;
      });
      optimizer.apply(gradTensors);
      tf.dispose(gradTensors);
      if (statCount > 0) {
        // Moving statistics are linear in the batch statistics: the row-weighted mean of the workers'
        // updates equals one update with the global batch's (per-worker) statistics.
        const total = rowsPerWorker.reduce((a, c) => a + c, 0);
        const avg = new Float32Array(statCount);
        for (let w = 0; w < init.workers; w++) {
          const st = new Float32Array(b.stats, w * statCount * 4, statCount);
          const k = rowsPerWorker[w]! / total;
          for (let i = 0; i < statCount; i++) avg[i] = avg[i]! + st[i]! * k;
        }
        let o = 0;
        frozen.forEach((w, i) => {
          tf.tidy(() => {
            w.write(tf.tensor(avg.subarray(o, o + statSizes[i]!), w.shape as number[]));
          });
          o += statSizes[i]!;
        });
      }
      return { type: 'ok' };
    },
    predict: async ({ lo, hi }) => {
      const b = need();
      if (hi > lo) {
        const out = tf.tidy(
          () =>
            model.apply(
              tf.tensor4d(new Float32Array(b.x, lo * pixels * 4, (hi - lo) * pixels), [hi - lo, s, s, 3]),
              { training: false },
            ) as tf.Tensor,
        );
        new Float32Array(b.logits).set(await out.data(), lo * init.modelSpec.numClasses);
        out.dispose();
      }
      return { type: 'ok' };
    },
    getState: async () => ({
      type: 'state',
      state: { weights: await readWeights(model), optimizer: await optimizer.getState() },
    }),
    setState: async ({ state }) => {
      writeWeights(model, state.weights);
      optimizer.setState(state.optimizer);
      return { type: 'ok' };
    },
    dispose: async () => {
      optimizer.dispose();
      model.dispose();
      return { type: 'ok' };
    },
  };

  port.on('message', (m: ToWorker) => {
    (handlers[m.type] as (x: ToWorker) => Promise<FromWorker>)(m).then(send, (err: Error) =>
      send({ type: 'error', message: err.message, stack: err.stack }),
    );
  });
  send({ type: 'ready', parameterCount, statCount, backend: describeBackend(info) });
}

main().catch((err: Error) => send({ type: 'error', message: err.message, stack: err.stack }));

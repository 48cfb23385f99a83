import type { Sample, SampleSource } from '../data/sample';
import {
  accuracyOf,
  argmaxRow,
  type ClassAccuracy,
  type ConfusionMatrix,
  crossEntropyRow,
  emptyConfusion,
  perClassAccuracy,
} from './metrics';
import { samplePixels } from './pixels';

/** Logits (n x numClasses, row-major) for n NHWC images in [0, 1]: StepTrainer.predict, or any loaded model. */
export type Predict = (x: Float32Array, n: number) => Promise<Float32Array>;

export interface EvalOptions {
  inputSize: number;
  numClasses: number;
  batchSize: number;
  /** Columns of a logits row (default numClasses; numClasses + 1 when the last one means "no dataset class"). */
  numScores?: number;
  /** A sample as the model sees it (NHWC in [0, 1] at inputSize); default samplePixels. */
  view?: (sample: Sample) => Float32Array;
  signal?: AbortSignal;
  /** After each batch: images done so far. */
  onProgress?: (done: number, total: number) => void | Promise<void>;
}

export interface Evaluation {
  n: number;
  /** Mean softmax cross-entropy. */
  loss: number;
  accuracy: number;
  confusion: ConfusionMatrix;
  perClass: ClassAccuracy[];
  /**
   * Every image's outcome in stored order, so the report can bootstrap intervals over test images and pair the
   * same foreground across variants (mixed_same vs mixed_rand) by id.
   */
  perImage: PerImage;
}

/** Parallel arrays, one entry per evaluated image. */
export interface PerImage {
  ids: string[];
  labels: number[];
  /** Argmax column (numClasses: "none of the classes" for a mapped classifier). */
  predicted: number[];
}

/** Accuracy, loss, per-class accuracy and the confusion matrix of a model on every sample of a source, in its stored order. */
export async function evaluateSource(
  predict: Predict,
  source: SampleSource,
  opts: EvalOptions,
): Promise<Evaluation> {
  const { inputSize: s, numClasses: k, batchSize } = opts;
  const m = opts.numScores ?? k;
  const view = opts.view ?? ((sample: Sample) => samplePixels(sample, s));
  // k x m: an "outside the classes" prediction lands in column k, off the diagonal (a miss).
  const confusion = emptyConfusion(k).map((row) => row.concat(new Array<number>(m - k).fill(0)));
  let lossSum = 0;
  let n = 0;
  const total = source.count();
  const x = new Float32Array(batchSize * s * s * 3);
  const labels: number[] = [];
  const batchIds: string[] = [];
  const perImage: PerImage = { ids: [], labels: [], predicted: [] };
  const flush = async () => {
    if (!labels.length) return;
    const logits = await predict(x.subarray(0, labels.length * s * s * 3), labels.length);
    labels.forEach((label, i) => {
      const predicted = argmaxRow(logits, m, i);
      confusion[label]![predicted]! += 1;
      lossSum += crossEntropyRow(logits, m, i, label);
      perImage.ids.push(batchIds[i]!);
      perImage.labels.push(label);
      perImage.predicted.push(predicted);
    });
    n += labels.length;
    labels.length = 0;
    batchIds.length = 0;
    await opts.onProgress?.(n, total);
  };
  for await (const sample of source.iterate()) {
    opts.signal?.throwIfAborted();
    checkLabel(sample.label, k, sample.id);
    x.set(view(sample), labels.length * s * s * 3);
    labels.push(sample.label);
    batchIds.push(sample.id);
    if (labels.length === batchSize) await flush();
  }
  await flush();
  return {
    n,
    loss: n ? lossSum / n : 0,
    accuracy: accuracyOf(confusion),
    confusion,
    perClass: perClassAccuracy(confusion, source.classes),
    perImage,
  };
}

export function checkLabel(label: number, numClasses: number, id: string): void {
  if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
    throw new Error(`sample ${id}: label ${label} is outside the model's ${numClasses} classes`);
  }
}

import type { Sample, SampleSource } from '../data/sample';
import { hashOf } from '../hash';
import { checkLabel, evaluateSource } from './evaluate';
import { augment, type AugmentSpec, samplePixels } from './pixels';
import { deriveSeed, Rng } from '../data/rng';
import type { Batch, OptimizerSpec, StepTrainer, TrainerState } from './trainer';
import { MIN_BATCH } from './batch';

/** Everything about a training run except the model and the data (those are named by the caller's run key). */
export interface TrainConfig {
  epochs: number;
  batchSize: number;
  /** Seeds the per-epoch shuffle and the augmentation draws (the model's initializers take ModelSpec.seed). */
  seed: number;
  /** The optimizer the trainer was built with; part of the fingerprint so a checkpoint is never resumed under another. */
  optimizer: OptimizerSpec;
  /** null: no augmentation. */
  augment: AugmentSpec | null;
  /** Checkpoint every this many batches within an epoch as well as at every epoch end; 0: epoch ends only. */
  checkpointEvery: number;
}

/** One row of the learning curves. */
export interface EpochMetrics {
  /** 0-based. */
  epoch: number;
  /** Mean loss and accuracy over the epoch's training batches, each measured before its update (augmented images). */
  trainLoss: number;
  trainAcc: number;
  trainSeen: number;
  /** Loss and accuracy on the validation source after the epoch, no augmentation. */
  valLoss: number;
  valAcc: number;
  valSeen: number;
  /** With a context head: its accuracy on the context label over the epoch's training batches (before each update). */
  trainContextAcc?: number;
}

/** The next batch to run: batch `batch` (0-based) of epoch `epoch`. {epoch: epochs, batch: 0} = finished. */
export interface TrainCursor {
  epoch: number;
  batch: number;
}

/** Sums over the batches of the current epoch so far, so a mid-epoch resume reports the same epoch metrics. */
export interface RunningMetrics {
  lossSum: number;
  correct: number;
  seen: number;
  /** With a context head: correct context labels so far. */
  contextCorrect?: number;
}

/** Everything a run needs to continue exactly where it stopped. */
export interface TrainCheckpoint {
  /** hashOf(model spec + TrainConfig): a checkpoint only resumes the run that wrote it. */
  fingerprint: string;
  cursor: TrainCursor;
  /** State of the augmentation RNG of `cursor.epoch` at `cursor.batch`. */
  rngState: number;
  running: RunningMetrics;
  /** Completed epochs. */
  curves: EpochMetrics[];
  state: TrainerState;
}

export interface TrainProgress {
  epoch: number;
  /** Batches of this epoch done. */
  batch: number;
  batchesPerEpoch: number;
  /** Loss of the batch just run, and the epoch's running accuracy. */
  loss: number;
  acc: number;
}

export interface TrainHooks {
  /** Continue from this checkpoint (the newest one the caller found); must have this run's fingerprint. */
  resume?: TrainCheckpoint;
  /** Persist a checkpoint (atomically); training waits for it. */
  saveCheckpoint?: (checkpoint: TrainCheckpoint) => Promise<void>;
  onBatch?: (progress: TrainProgress) => void | Promise<void>;
  onEpoch?: (metrics: EpochMetrics) => void | Promise<void>;
  /** Checked before every batch; an abort throws signal.reason. */
  signal?: AbortSignal;
}

/** Per training sample, its context label (an index below the context head's size): runs with a context head. */
export type ContextOf = (sample: Sample) => number;

export interface TrainOutcome {
  fingerprint: string;
  curves: EpochMetrics[];
  /** Optimizer steps run by this call (less than a full run's after a resume). */
  stepsRun: number;
  resumedFrom: TrainCursor | null;
}

export class CheckpointMismatchError extends Error {
  override name = 'CheckpointMismatchError';
}

export function trainFingerprint(trainer: StepTrainer, config: TrainConfig): string {
  return hashOf({ model: trainer.modelSpec, config });
}

/** Batches per epoch: a last batch of a single image is skipped, since BatchNorm cannot train on one image. */
export function batchesPerEpoch(count: number, batchSize: number): number {
  return Math.floor(count / batchSize) + (count % batchSize >= 2 ? 1 : 0);
}

function validate(config: TrainConfig): void {
  const int = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (!int(config.epochs, 1))
    throw new Error(`train config: epochs must be an integer >= 1, got ${config.epochs}`);
  if (!int(config.batchSize, MIN_BATCH))
    throw new Error(`train config: batchSize must be an integer >= ${MIN_BATCH}, got ${config.batchSize}`);
  if (!int(config.checkpointEvery, 0))
    throw new Error(`train config: checkpointEvery must be an integer >= 0, got ${config.checkpointEvery}`);
}

/** Seeded-order batches of one epoch (not yet augmented), starting at batch `skipBatches`. */
async function* epochBatches(
  source: SampleSource,
  size: number,
  numClasses: number,
  config: TrainConfig,
  epoch: number,
  skipBatches: number,
  view: (sample: Sample) => Float32Array,
  contextOf?: ContextOf,
): AsyncGenerator<Batch> {
  const bs = config.batchSize;
  const pixels = size * size * 3;
  let x = new Float32Array(bs * pixels);
  let y = new Int32Array(bs);
  let c = contextOf ? new Int32Array(bs) : undefined;
  let n = 0;
  const iterate = source.iterate({
    shuffleSeed: deriveSeed(config.seed, 'shuffle', epoch),
    skip: skipBatches * bs,
  });
  for await (const sample of iterate) {
    checkLabel(sample.label, numClasses, sample.id);
    x.set(view(sample), n * pixels);
    if (c) c[n] = contextOf!(sample);
    y[n++] = sample.label;
    if (n === bs) {
      yield { x, y, n, ...(c ? { context: c } : {}) };
      x = new Float32Array(bs * pixels);
      y = new Int32Array(bs);
      c = contextOf ? new Int32Array(bs) : undefined;
      n = 0;
    }
  }
  if (n >= 2)
    yield {
      x: x.subarray(0, n * pixels),
      y: y.subarray(0, n),
      n,
      ...(c ? { context: c.subarray(0, n) } : {}),
    };
}

function augmentBatch(batch: Batch, size: number, spec: AugmentSpec, rng: Rng): void {
  const pixels = size * size * 3;
  for (let i = 0; i < batch.n; i++) {
    const img = batch.x.subarray(i * pixels, (i + 1) * pixels);
    const out = augment(img, size, spec, rng);
    if (out !== img) img.set(out);
  }
}

/**
 * Trains `trainer` on `data.train` for `config.epochs` epochs, validating on `data.val` after each, and
 * checkpoints through `hooks.saveCheckpoint`. Deterministic for a given trainer state, data and config:
 * resumed from any checkpoint it ends with the same weights and curves as the uninterrupted run.
 */
export async function train(
  trainer: StepTrainer,
  data: { train: SampleSource; val: SampleSource; context?: ContextOf },
  config: TrainConfig,
  hooks: TrainHooks = {},
): Promise<TrainOutcome> {
  validate(config);
  const { inputSize: size, numClasses } = trainer.modelSpec;
  const fingerprint = trainFingerprint(trainer, config);
  const view = trainer.view ?? ((s: Sample) => samplePixels(s, size));
  const perEpoch = batchesPerEpoch(data.train.count(), config.batchSize);
  if (perEpoch === 0)
    throw new Error(`training source has ${data.train.count()} samples, too few for one batch`);

  let cursor: TrainCursor = { epoch: 0, batch: 0 };
  let curves: EpochMetrics[] = [];
  let running: RunningMetrics = { lossSum: 0, correct: 0, seen: 0 };
  let rngState: number | undefined;
  const resume = hooks.resume;
  if (resume) {
    if (resume.fingerprint !== fingerprint) {
      throw new CheckpointMismatchError(
        `checkpoint fingerprint ${resume.fingerprint} does not match this run (${fingerprint})`,
      );
    }
    await trainer.setState(resume.state);
    cursor = { ...resume.cursor };
    curves = resume.curves.map((c) => ({ ...c }));
    running = { ...resume.running };
    rngState = resume.rngState;
  }

  const checkpoint = async (at: TrainCursor, rng: Rng) => {
    if (!hooks.saveCheckpoint) return;
    const state = await trainer.getState();
    await hooks.saveCheckpoint({
      fingerprint,
      cursor: at,
      rngState: rng.state,
      running: { ...running },
      curves: curves.map((c) => ({ ...c })),
      state,
    });
  };

  let stepsRun = 0;
  for (let epoch = cursor.epoch; epoch < config.epochs; epoch++) {
    const midEpoch = epoch === cursor.epoch && cursor.batch > 0;
    const startBatch = midEpoch ? cursor.batch : 0;
    const rng = new Rng(
      midEpoch && rngState !== undefined ? rngState : deriveSeed(config.seed, 'augment', epoch),
    );
    if (!midEpoch) running = { lossSum: 0, correct: 0, seen: 0 };

    const batches = epochBatches(data.train, size, numClasses, config, epoch, startBatch, view, data.context);
    let b = startBatch;
    try {
      // One batch ahead: the next batch is decoded while the current step runs.
      // A read error of the prefetched batch surfaces at its await; until then it must not count as unhandled
      // (Node would end the worker process over it mid-step).
      const prefetch = () => {
        const p = batches.next();
        p.catch(() => undefined);
        return p;
      };
      let next = prefetch();
      for (;;) {
        const item = await next;
        if (item.done) break;
        hooks.signal?.throwIfAborted();
        next = prefetch();
        const batch = item.value;
        // Augment here, not in the prefetching generator, so the RNG state at a checkpoint is exactly "before the next batch".
        if (config.augment) augmentBatch(batch, size, config.augment, rng);
        const r = await trainer.trainStep(batch);
        stepsRun++;
        b++;
        running.lossSum += r.loss * batch.n;
        running.correct += r.correct;
        running.seen += batch.n;
        if (r.contextCorrect !== undefined)
          running.contextCorrect = (running.contextCorrect ?? 0) + r.contextCorrect;
        await hooks.onBatch?.({
          epoch,
          batch: b,
          batchesPerEpoch: perEpoch,
          loss: r.loss,
          acc: running.correct / running.seen,
        });
        if (config.checkpointEvery > 0 && b % config.checkpointEvery === 0 && b < perEpoch) {
          await checkpoint({ epoch, batch: b }, rng);
        }
      }
    } finally {
      await batches.return(undefined);
    }

    const val = await evaluateSource((x, n) => trainer.predict(x, n), data.val, {
      inputSize: size,
      numClasses,
      batchSize: config.batchSize,
      view,
      signal: hooks.signal,
    });
    const metrics: EpochMetrics = {
      epoch,
      trainLoss: running.seen ? running.lossSum / running.seen : 0,
      trainAcc: running.seen ? running.correct / running.seen : 0,
      trainSeen: running.seen,
      valLoss: val.loss,
      valAcc: val.accuracy,
      valSeen: val.n,
      ...(running.contextCorrect !== undefined && running.seen
        ? { trainContextAcc: running.contextCorrect / running.seen }
        : {}),
    };
    curves.push(metrics);
    running = { lossSum: 0, correct: 0, seen: 0 };
    await checkpoint({ epoch: epoch + 1, batch: 0 }, new Rng(deriveSeed(config.seed, 'augment', epoch + 1)));
    await hooks.onEpoch?.(metrics);
  }
  return { fingerprint, curves, stepsRun, resumedFrom: resume ? resume.cursor : null };
}

import type { ArtifactStore } from '../../store/artifact-store';
import { contentKey } from '../../store/keys';
import { putJson, tryGetJson } from '../../store/json';
import type { TrainableModelSpec } from './model-spec';
import { decodeState, encodeState, type StateHeader } from './state-codec';
import type { TrainCheckpoint, TrainConfig } from './train';

/** Bump when training changes what a run produces for the same inputs (loss, loop, augmentation, optimizer math). */
export const TRAIN_CODE_VERSION = 'train-v1';

/** What names a training run; its hash is the run's folder, so a retried or repeated run finds its checkpoints. */
export interface RunInputs {
  model: TrainableModelSpec;
  /** Artifact keys of the training and validation data (dataset or variant) with their splits. */
  data: { train: string; val: string };
  config: TrainConfig;
  /** What trains it (core/backend/engine-id.ts): another engine's run is another artifact. */
  engine: string;
  /**
   * A context head (core/ml/context-head.ts): its label kind, weight, label names and a hash of every training
   * image's label. Absent without one, so runs without a head keep their keys and never share one with a head.
   */
  context?: { label: string; weight: number; names: string[]; labels: string };
}

/** `runs/<hash>` of everything that changes a run's result, code version included. */
export function runKey(inputs: RunInputs): string {
  return contentKey('runs', { ...inputs, code: TRAIN_CODE_VERSION });
}

/** The checkpoint minus its arrays, stored as JSON next to the binary state. */
type CheckpointMeta = Omit<TrainCheckpoint, 'state'> & { stateKey: string; header: StateHeader };

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * Checkpoints of one run in the artifact store: `<run>/ckpt/<epoch>-<batch>/state.bin` then `checkpoint.json`.
 * The JSON is written last and is what discovery looks for, so a crash between the two writes leaves an
 * incomplete checkpoint that is simply not seen. Older checkpoints beyond `keepLast` are deleted (garbage
 * collection: they can never be resumed from once a newer complete one exists).
 */
export class StoreCheckpoints {
  constructor(
    private readonly store: ArtifactStore,
    readonly run: string,
    private readonly keepLast = 2,
  ) {}

  private folder(c: { epoch: number; batch: number }): string {
    return `${this.run}/ckpt/${pad(c.epoch, 4)}-${pad(c.batch, 6)}`;
  }

  async save(checkpoint: TrainCheckpoint): Promise<string> {
    const folder = this.folder(checkpoint.cursor);
    const { header, body } = encodeState(checkpoint.state);
    const { state: _state, ...rest } = checkpoint;
    const meta: CheckpointMeta = { ...rest, stateKey: `${folder}/state.bin`, header };
    await this.store.put(meta.stateKey, body, { contentType: 'application/octet-stream' });
    await putJson(this.store, `${folder}/checkpoint.json`, meta);
    await this.prune();
    return `${folder}/checkpoint.json`;
  }

  /** Keys of complete checkpoints, oldest first. */
  async list(): Promise<string[]> {
    const keys = await this.store.list(`${this.run}/ckpt/`);
    return keys.filter((k) => /\/ckpt\/\d{4}-\d{6}\/checkpoint\.json$/.test(k)).sort();
  }

  /** The newest complete checkpoint, or undefined when the run has none. */
  async latest(): Promise<TrainCheckpoint | undefined> {
    const keys = await this.list();
    for (const key of keys.reverse()) {
      const meta = await tryGetJson<CheckpointMeta>(this.store, key);
      if (!meta) continue; // pruned by a concurrent writer between list and get
      const body = await this.store.get(meta.stateKey);
      const { stateKey: _k, header, ...rest } = meta;
      return { ...rest, state: decodeState(header, body, meta.stateKey) };
    }
    return undefined;
  }

  private async prune(): Promise<void> {
    const keys = await this.list();
    for (const key of keys.slice(0, Math.max(0, keys.length - this.keepLast))) {
      const folder = key.slice(0, -'/checkpoint.json'.length);
      await this.store.delete(key);
      await this.store.delete(`${folder}/state.bin`);
    }
  }
}

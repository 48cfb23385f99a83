import type * as tf from '@tensorflow/tfjs';
import type { ArtifactStore } from '../../store/artifact-store';
import { getJson, putJson } from '../../store/json';
import type { ModelSpec } from './model-spec';
import { buildModel } from './models';
import { writeWeights } from './in-process-trainer';
import { decodeState, encodeState, type StateHeader } from './state-codec';
import type { TrainerState } from './trainer';

/** A trained model as stored: the spec to rebuild it and its weights (no optimizer state). */
export interface ModelArtifact {
  modelSpec: ModelSpec;
  weightsKey: string;
  header: StateHeader;
  /** Backend that trained it, e.g. "wasm (2 workers)". */
  backend: string;
}

/** Writes `<prefix>/weights.bin` then `<prefix>/model.json`; returns the model.json key. */
export async function saveModel(
  store: ArtifactStore,
  prefix: string,
  modelSpec: ModelSpec,
  weights: TrainerState['weights'],
  backend: string,
): Promise<string> {
  const { header, body } = encodeState({ weights, optimizer: [] });
  const weightsKey = `${prefix}/weights.bin`;
  await store.put(weightsKey, body, { contentType: 'application/octet-stream' });
  const key = `${prefix}/model.json`;
  await putJson(store, key, { modelSpec, weightsKey, header, backend } satisfies ModelArtifact);
  return key;
}

export async function loadModelWeights(
  store: ArtifactStore,
  modelKey: string,
): Promise<{ artifact: ModelArtifact; weights: TrainerState['weights'] }> {
  const artifact = await getJson<ModelArtifact>(store, modelKey);
  const body = await store.get(artifact.weightsKey);
  return { artifact, weights: decodeState(artifact.header, body, artifact.weightsKey).weights };
}

/** Rebuilds a stored model on the active tfjs backend, ready for predict and gradients. */
export async function loadModel(
  store: ArtifactStore,
  modelKey: string,
): Promise<{ artifact: ModelArtifact; model: tf.LayersModel }> {
  const { artifact, weights } = await loadModelWeights(store, modelKey);
  const model = buildModel(artifact.modelSpec);
  writeWeights(model, weights);
  return { artifact, model };
}

import * as tf from '@tensorflow/tfjs';
import type { ArtifactStore } from '../../store/artifact-store';
import { putJson } from '../../store/json';
import { sha256Hex } from '../hash';
import type { ClassMap } from './class-map';
import type { FinetuneModelSpec } from './model-spec';
import { ModelInputError, PRETRAINED_CODE_VERSION, type PretrainedArtifact, storedFiles } from './pretrained';
import { loadTfjsLayersModel } from './tfjs-model';

type Layer = tf.LayersModel['layers'][number];

/** The model's classifier: its last Dense layer. */
export function headLayer(model: tf.LayersModel, name = model.name): { layer: Layer; index: number } {
  for (let i = model.layers.length - 1; i >= 0; i--) {
    const layer = model.layers[i]!;
    if (layer.getClassName() === 'Dense') return { layer, index: i };
  }
  throw new ModelInputError(`${name}: no Dense layer to fine-tune as the classifier head`);
}

function activationOf(layer: Layer): unknown {
  return (layer.getConfig() as { activation?: unknown }).activation ?? 'linear';
}

/** A layer name not yet used in the model. */
function freshName(model: tf.LayersModel, base: string): string {
  const taken = new Set(model.layers.map((l) => l.name));
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  return name;
}

/**
 * The model a fine-tune trains, from the loaded pretrained one. `head: 'replace'`: the input of the last Dense
 * layer feeds a new Dense with `numClasses` units (Glorot-uniform with `seed`, zero bias) and whatever came after
 * the old head (a softmax, say) is dropped, so the outputs are logits. `head: 'keep'`: the model as it is, whose
 * outputs must already be logits (a softmax output would be trained as if it were logits). `trainable: 'head'`
 * freezes every layer but the head. Returns the model and its head layer.
 */
export function prepareFinetuneModel(
  base: tf.LayersModel,
  spec: Pick<FinetuneModelSpec, 'head' | 'trainable' | 'numClasses' | 'seed'>,
  name = base.name,
): { model: tf.LayersModel; head: Layer } {
  const old = headLayer(base, name);
  let model = base;
  let head = old.layer;
  if (spec.head === 'replace') {
    head = tf.layers.dense({
      units: spec.numClasses,
      name: freshName(base, 'finetune_head'),
      kernelInitializer: tf.initializers.glorotUniform({ seed: spec.seed }),
      biasInitializer: 'zeros',
    });
    const out = head.apply(old.layer.input) as tf.SymbolicTensor;
    model = tf.model({ inputs: base.inputs, outputs: out, name: `${base.name}_finetune` });
    // The old head (and what followed it) belongs to no model now: free its weights.
    for (const l of base.layers.slice(old.index)) l.dispose();
  } else {
    const after = base.layers.slice(old.index + 1);
    const soft = [old.layer, ...after].find((l) => {
      const a = activationOf(l);
      return l.getClassName() === 'Softmax' || a === 'softmax' || a === 'sigmoid';
    });
    if (soft)
      throw new ModelInputError(
        `${name}: head 'keep' trains the outputs as logits, but layer ${soft.name} applies a softmax/sigmoid; use head 'replace'`,
      );
  }
  if (spec.trainable === 'head') for (const l of model.layers) l.trainable = l === head;
  return { model, head };
}

/** Number of outputs of a single-output classifier. */
export function outputCount(model: tf.LayersModel): number {
  const shape = model.outputs[0]!.shape;
  return shape[shape.length - 1] ?? 0;
}

/** A stored pretrained tfjs descriptor's model, loaded as a trainable LayersModel (GraphModels and ONNX refused). */
export async function loadFinetuneBase(store: ArtifactStore, a: PretrainedArtifact): Promise<tf.LayersModel> {
  if (a.source !== 'tfjs')
    throw new ModelInputError(`${a.uri}: ${a.source} models cannot be fine-tuned (inference only here)`);
  const { bytes, readWeights } = await storedFiles(store, a);
  try {
    return await loadTfjsLayersModel(bytes, readWeights, a.uri);
  } catch (err) {
    throw new ModelInputError((err as Error).message);
  }
}

/**
 * Writes a fine-tuned model as a tfjs LayersModel (`<prefix>/model.json`, `<prefix>/weights.bin`) and a
 * pretrained-model descriptor for it (`<prefix>/pretrained.json`, returned), so every evaluation loads it the way
 * it loads an imported tfjs model: same preprocessing, class map `classMap` (identity after a new head).
 */
export async function saveFinetuned(
  store: ArtifactStore,
  prefix: string,
  model: tf.LayersModel,
  base: PretrainedArtifact & { key: string },
  opts: { name: string; classMap: ClassMap },
): Promise<string> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const data = saved!.weightData!;
  const weights = new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
  const json = Buffer.from(
    JSON.stringify({
      format: 'layers-model',
      generatedBy: saved!.generatedBy,
      convertedBy: null,
      modelTopology: saved!.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: saved!.weightSpecs }],
    }),
  );
  const modelFile = `${prefix}/model.json`;
  const weightsFile = `${prefix}/weights.bin`;
  await store.put(weightsFile, weights, { contentType: 'application/octet-stream' });
  await store.put(modelFile, json, { contentType: 'application/json' });
  const key = `${prefix}/pretrained.json`;
  await putJson(store, key, {
    kind: 'pretrained',
    name: opts.name,
    source: 'tfjs',
    uri: `${base.uri} (fine-tuned)`,
    sha256: sha256Hex(Buffer.concat([json, weights].map((b) => Buffer.from(sha256Hex(b))))),
    bytes: json.byteLength + weights.byteLength,
    modelFile,
    weightFiles: { 'weights.bin': weightsFile },
    preprocess: base.preprocess,
    classMap: opts.classMap,
    codeVersion: PRETRAINED_CODE_VERSION,
    finetunedFrom: base.key,
  } satisfies PretrainedArtifact);
  return key;
}

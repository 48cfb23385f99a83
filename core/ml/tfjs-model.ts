import * as tf from '@tensorflow/tfjs';
import type { RawModel } from './classifier';

/** A tfjs model.json: a LayersModel (`format: layers-model`, Keras topology) or a GraphModel (converter output). */
interface ModelJson extends tf.io.ModelJSON {
  format?: string;
}

export function parseModelJson(bytes: Uint8Array, name: string): ModelJson {
  let json: ModelJson;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8')) as ModelJson;
  } catch (err) {
    throw new Error(`${name}: not JSON (${(err as Error).message})`, { cause: err });
  }
  if (!json || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest))
    throw new Error(`${name}: not a tfjs model.json (needs modelTopology and weightsManifest)`);
  return json;
}

/** Every weight file a model.json names, relative to its folder, in manifest order. */
export function weightPaths(json: ModelJson): string[] {
  return json.weightsManifest.flatMap((g) => g.paths);
}

function isGraphModel(json: ModelJson): boolean {
  return json.format === 'graph-model' || 'node' in json.modelTopology;
}

/** A model.json's topology with its weights, read through `readWeights(path)` (paths listed in the manifest). */
async function modelArtifacts(
  json: ModelJson,
  readWeights: (path: string) => Promise<Uint8Array>,
): Promise<tf.io.ModelArtifacts> {
  return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs = manifest.flatMap((g) => g.weights);
    const buffers = await Promise.all(
      manifest
        .flatMap((g) => g.paths)
        .map(async (p) => {
          const b = await readWeights(p);
          return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
        }),
    );
    return [specs, tf.io.concatenateArrayBuffers(buffers)];
  });
}

/**
 * A tfjs LayersModel (Keras topology) with its weights, ready to train: what fine-tuning needs. A GraphModel
 * (converter output) is frozen inference code and cannot be trained: that fails here, by name.
 */
export async function loadTfjsLayersModel(
  modelJson: Uint8Array,
  readWeights: (path: string) => Promise<Uint8Array>,
  name = 'model.json',
): Promise<tf.LayersModel> {
  const json = parseModelJson(modelJson, name);
  if (isGraphModel(json))
    throw new Error(
      `${name}: a tfjs GraphModel (converter format) cannot be fine-tuned; export a LayersModel (format layers-model)`,
    );
  return tf.loadLayersModel(tf.io.fromMemory(await modelArtifacts(json, readWeights)));
}

/**
 * Loads a tfjs model.json and its weight files (`readWeights(path)` gives the bytes of a path listed in the
 * manifest) on the active tfjs backend. Input: the tensor `run` gets; first output = the scores.
 */
export async function loadTfjsModel(
  modelJson: Uint8Array,
  readWeights: (path: string) => Promise<Uint8Array>,
  name = 'model.json',
): Promise<RawModel> {
  const json = parseModelJson(modelJson, name);
  const artifacts = await modelArtifacts(json, readWeights);
  const graph = isGraphModel(json);
  const model: tf.LayersModel | tf.GraphModel = graph
    ? await tf.loadGraphModel(tf.io.fromMemory(artifacts))
    : await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  return {
    backend: `tfjs ${tf.version.tfjs} ${graph ? 'graph' : 'layers'} model (${tf.getBackend()})`,
    async run(data, dims) {
      const out = tf.tidy(() => {
        const x = tf.tensor(data, dims);
        const y = model.predict(x);
        return y instanceof tf.Tensor ? y : Array.isArray(y) ? y[0]! : Object.values(y)[0]!;
      });
      try {
        if (out.shape.length !== 2 || out.shape[0] !== dims[0])
          throw new Error(`${name}: output shape [${out.shape.join(', ')}], expected [n, classes]`);
        return { data: (await out.data()) as Float32Array, numOutputs: out.shape[1] };
      } finally {
        out.dispose();
      }
    },
    dispose: () => void model.dispose(),
  };
}

import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpecValidationError } from '../../common/errors';
import { modelDirs } from '../../config/config';
import type { ArtifactStore } from '../../store/artifact-store';
import { getOrCreateJson, getJson } from '../../store/json';
import { contentKey } from '../../store/keys';
import { sha256Hex } from '../hash';
import type { ClassMap } from './class-map';
import { type Classifier, pretrainedClassifier, type RawModel } from './classifier';
import { loadOnnxModel } from './onnx-model';
import type { Preprocess } from './preprocess';
import type { PretrainedModelInput } from './pretrained-spec';
import { loadTfjsModel, parseModelJson, weightPaths } from './tfjs-model';

/** Bump when importing or running pretrained models changes what they compute. */
export const PRETRAINED_CODE_VERSION = 'pretrained-v1';

/** `models/<hash>.json`: a stored copy of a pretrained model's files and how to run it. */
export interface PretrainedArtifact {
  kind: 'pretrained';
  name: string;
  source: 'onnx' | 'tfjs';
  uri: string;
  /** sha256 of the files' sha256 hex digests (model, then weights in manifest order): the model's identity. */
  sha256: string;
  bytes: number;
  /** Store key of the .onnx file or the model.json. */
  modelFile: string;
  /** tfjs: manifest path -> store key. */
  weightFiles: Record<string, string>;
  preprocess: Preprocess;
  classMap: ClassMap;
  codeVersion: string;
  /** A model fine-tuned here (core/ml/finetune.ts): the descriptor key of the model it started from. */
  finetunedFrom?: string;
}

/**
 * A problem with the model the user named (missing file, HTTP 4xx, not a model, bad weight path): retrying
 * cannot fix it. Anything else (the store, the network, an HTTP 5xx) is left to retries.
 */
export class ModelInputError extends Error {
  override name = 'ModelInputError';
}

/** The bytes at a uri: `store:<key>`, `http(s)://`, `file://` or a local path. */
async function readUri(store: ArtifactStore, uri: string): Promise<Uint8Array> {
  if (uri.startsWith('store:')) {
    const key = uri.slice('store:'.length);
    if (!(await store.stat(key))) throw new ModelInputError(`${uri}: no such artifact in ${store.location}`);
    return store.get(key);
  }
  if (/^https?:\/\//.test(uri)) {
    const res = await fetch(uri);
    if (!res.ok) {
      const msg = `${uri}: HTTP ${res.status} ${res.statusText}`;
      throw res.status >= 500 || res.status === 429 ? new Error(msg) : new ModelInputError(msg);
    }
    return new Uint8Array(await res.arrayBuffer());
  }
  const file = uri.startsWith('file://') ? fileURLToPath(uri) : uri;
  const real = await realpath(file).catch((err: NodeJS.ErrnoException) => {
    throw new ModelInputError(`${uri}: cannot read the model file (${err.code ?? err.message})`);
  });
  const dirs = modelDirs();
  const allowed = await Promise.all(dirs.map((d) => realpath(d).catch(() => path.resolve(d))));
  if (!allowed.some((d) => real.startsWith(d + path.sep)))
    throw new ModelInputError(
      `${uri}: local model files are read only from the model folders (${dirs.join(', ')}; set BGSTUDY_MODEL_DIRS)`,
    );
  if (!(await stat(real)).isFile()) throw new ModelInputError(`${uri}: not a regular file`);
  return readFile(real).catch((err: NodeJS.ErrnoException) => {
    throw new ModelInputError(`${uri}: cannot read the model file (${err.code ?? err.message})`);
  });
}

/**
 * An ONNX file is a protobuf ModelProto whose first field is ir_version (field 1, varint: byte 0x08). Anything
 * else (a text file, an image, /etc/hostname) is refused by its content before it is copied into the store.
 */
function checkOnnx(bytes: Uint8Array, uri: string): void {
  if (bytes.byteLength === 0) throw new ModelInputError(`${uri}: empty ONNX file`);
  if (bytes[0] !== 0x08)
    throw new ModelInputError(`${uri}: not an ONNX model (an ONNX file starts with its ir_version field)`);
}

/** A weight file named in a model.json, beside it (never outside its folder). */
export function siblingUri(uri: string, rel: string): string {
  if (rel.startsWith('/') || rel.split(/[\\/]/).includes('..') || /^[a-z]+:/i.test(rel))
    throw new ModelInputError(`${uri}: weight path "${rel}" must be relative and stay beside model.json`);
  if (/^https?:\/\//.test(uri)) return new URL(rel, uri).toString();
  if (uri.startsWith('store:')) return `store:${path.posix.join(path.posix.dirname(uri.slice(6)), rel)}`;
  return path.join(path.dirname(uri.startsWith('file://') ? fileURLToPath(uri) : uri), rel);
}

/**
 * Copies a pretrained model's files into the store under their content hash and writes its descriptor
 * (`models/<hash of sha256, preprocess, class map, code version>.json`). Rerunning with the same bytes and
 * settings finds the descriptor and writes nothing.
 */
export async function importPretrained(
  store: ArtifactStore,
  m: PretrainedModelInput,
): Promise<{ key: string; artifact: PretrainedArtifact; reused: boolean }> {
  const model = await readUri(store, m.uri);
  const weights: [string, Uint8Array][] = [];
  if (m.source === 'tfjs') {
    let paths: string[];
    try {
      paths = weightPaths(parseModelJson(model, m.uri));
    } catch (err) {
      throw new ModelInputError((err as Error).message);
    }
    for (const p of paths) weights.push([p, await readUri(store, siblingUri(m.uri, p))]);
  } else checkOnnx(model, m.uri);
  const hash = sha256Hex(
    Buffer.concat([model, ...weights.map(([, b]) => b)].map((b) => sha256Hex(b)).map((h) => Buffer.from(h))),
  );
  const key = `${contentKey('models', {
    sha256: hash,
    source: m.source,
    preprocess: m.preprocess,
    classMap: m.classMap,
    code: PRETRAINED_CODE_VERSION,
  })}.json`;
  const dir = `models/files/${hash.slice(0, 32)}`;
  // The files are keyed by their bytes alone (shared by every preprocessing of the same model): written once.
  const putOnce = async (k: string, b: Uint8Array) => {
    if (!(await store.stat(k))) await store.put(k, b, { contentType: 'application/octet-stream' });
  };
  const { value, reused } = await getOrCreateJson<PretrainedArtifact>(store, key, async () => {
    const modelFile = `${dir}/${m.source === 'onnx' ? 'model.onnx' : 'model.json'}`;
    await putOnce(modelFile, model);
    const weightFiles: Record<string, string> = {};
    for (const [i, [p, b]] of weights.entries()) {
      weightFiles[p] = `${dir}/weights-${i}.bin`;
      await putOnce(weightFiles[p], b);
    }
    return {
      kind: 'pretrained',
      name: m.name,
      source: m.source,
      uri: m.uri,
      sha256: hash,
      bytes: model.byteLength + weights.reduce((n, [, b]) => n + b.byteLength, 0),
      modelFile,
      weightFiles,
      preprocess: m.preprocess,
      classMap: m.classMap,
      codeVersion: PRETRAINED_CODE_VERSION,
    };
  });
  return { key, artifact: value, reused };
}

/** A stored model's file and its weight files (by manifest path), read from the store. */
export async function storedFiles(
  store: ArtifactStore,
  a: PretrainedArtifact,
): Promise<{ bytes: Uint8Array; readWeights: (path: string) => Promise<Uint8Array> }> {
  const bytes = await store.get(a.modelFile);
  const weights = new Map<string, Uint8Array>();
  for (const [p, k] of Object.entries(a.weightFiles)) weights.set(p, await store.get(k));
  const readWeights = async (p: string) => {
    const w = weights.get(p);
    if (!w) throw new Error(`${a.uri}: weight file ${p} was not imported`);
    return w;
  };
  return { bytes, readWeights };
}

/** The raw runner of a stored pretrained model (onnxruntime or tfjs). */
export async function loadPretrainedRaw(
  store: ArtifactStore,
  a: PretrainedArtifact,
  onnx: { providers?: string[]; threads?: number } = {},
): Promise<RawModel> {
  const { bytes, readWeights } = await storedFiles(store, a);
  try {
    if (a.source === 'onnx') return await loadOnnxModel(bytes, { ...onnx, name: a.uri });
    return await loadTfjsModel(bytes, readWeights, a.uri);
  } catch (err) {
    // The bytes are in hand: a model that does not load is the model's fault.
    throw new ModelInputError((err as Error).message);
  }
}

/** A stored pretrained model as a Classifier over the dataset's `classes`. */
export async function loadPretrainedClassifier(
  store: ArtifactStore,
  key: string,
  classes: string[],
): Promise<{ artifact: PretrainedArtifact; classifier: Classifier }> {
  const artifact = await getJson<PretrainedArtifact>(store, key);
  if (artifact.kind !== 'pretrained') throw new Error(`${key} is not a pretrained model descriptor`);
  const raw = await loadPretrainedRaw(store, artifact).catch((err: unknown) => {
    if (err instanceof ModelInputError)
      throw new SpecValidationError(`model ${artifact.name}: ${err.message}`);
    throw err;
  });
  const classifier = pretrainedClassifier(raw, artifact.preprocess, artifact.classMap, classes);
  // One blank image resolves the class map against these classes: a mismatch fails here, by name, for good.
  const s = artifact.preprocess.inputSize;
  try {
    await classifier.predict(new Float32Array(s * s * 3), 1);
  } catch (err) {
    await classifier.dispose();
    throw new SpecValidationError(`model ${artifact.name} (${artifact.uri}): ${(err as Error).message}`);
  }
  return { artifact, classifier };
}

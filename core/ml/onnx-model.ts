import { existsSync } from 'node:fs';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { engineSettings } from '../backend/engine-settings';
import type { RawModel } from './classifier';

/** The execution providers tried, best first; the first one that creates a session wins. */
const PREFERRED = ['tensorrt', 'cuda', 'cpu'] as const;

/** onnxruntime-node, loaded on first use (only evaluation of an ONNX model needs its native binding). */
async function ort(): Promise<typeof Ort> {
  return import('onnxruntime-node');
}

/**
 * Providers this install can use: CPU always; CUDA/TensorRT only where their provider libraries were installed
 * beside the binding (onnxruntime-node's optional download), so a CPU-only install never logs failed GPU loads.
 * BGSTUDY_ONNX_PROVIDERS (e.g. "cuda,cpu") overrides.
 */
export async function availableProviders(): Promise<string[]> {
  const forced = engineSettings().onnxProviders;
  if (forced) return forced.split(',').map((p) => p.trim());
  const listed = new Set((await ort()).listSupportedBackends().map((b) => b.name));
  const dir = path.join(
    path.dirname(require.resolve('onnxruntime-node/package.json')),
    'bin',
    'napi-v6',
    process.platform,
    process.arch,
  );
  return PREFERRED.filter(
    (p) => p === 'cpu' || (listed.has(p) && existsSync(path.join(dir, `libonnxruntime_providers_${p}.so`))),
  );
}

export interface OnnxOptions {
  /** Force providers (e.g. ['cpu'] in tests and benchmarks); default: GPU ones where available, then CPU. */
  providers?: string[];
  /** Threads of the CPU provider (0 or absent: onnxruntime's default, one per core). */
  threads?: number;
  /** A name for errors (the file or store key). */
  name?: string;
}

/**
 * An ONNX classifier (one image input, first output = logits) on onnxruntime-node. A GPU provider that fails to
 * start (no CUDA on this machine) falls back to the next, ending at CPU; the one used is named in `backend`.
 */
export async function loadOnnxModel(bytes: Uint8Array, opts: OnnxOptions = {}): Promise<RawModel> {
  const { InferenceSession, Tensor, env } = await ort();
  const name = opts.name ?? 'ONNX model';
  const errors: string[] = [];
  let session: Ort.InferenceSession | undefined;
  let used = '';
  for (const ep of opts.providers ?? (await availableProviders())) {
    try {
      session = await InferenceSession.create(bytes, {
        executionProviders: ep === 'cpu' ? ['cpu'] : [ep, 'cpu'],
        graphOptimizationLevel: 'all',
        ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
      });
      used = ep;
      break;
    } catch (err) {
      errors.push(`${ep}: ${(err as Error).message}`);
    }
  }
  if (!session) throw new Error(`${name}: onnxruntime could not load it (${errors.join('; ')})`);
  const s = session;
  if (s.inputNames.length !== 1)
    throw new Error(`${name}: expected one image input, found ${s.inputNames.join(', ') || 'none'}`);
  const input = s.inputNames[0]!;
  const output = s.outputNames[0]!;
  return {
    backend: `onnxruntime-node ${env.versions.node ?? env.versions.common} (${used})`,
    async run(data, dims) {
      const feeds = { [input]: new Tensor('float32', data, dims) };
      const result = await s.run(feeds, [output]);
      const t = result[output]!;
      if (t.type !== 'float32' || t.dims.length !== 2 || t.dims[0] !== dims[0])
        throw new Error(
          `${name}: output ${output} is ${t.type} [${t.dims.join(', ')}], expected float32 [n, classes]`,
        );
      return { data: t.data as Float32Array, numOutputs: t.dims[1]! };
    },
    dispose: () => s.release(),
  };
}

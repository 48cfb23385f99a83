import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadEngineSettings } from '../../config/engine';
import { configureEngine, engineSettings } from '../../core/backend/engine-settings';
import { defaultWorkers } from '../../core/backend/parallel-trainer';
import { requestedBackend } from '../../core/backend/select-backend';

test('every engine variable is read into the settings core uses, unset ones left to their defaults', () => {
  const env = {
    BGSTUDY_BACKEND: 'wasm',
    BGSTUDY_WORKERS: '3',
    BGSTUDY_TORCH_DEVICE: 'cpu',
    BGSTUDY_TORCH_PRECISION: 'bf16',
    BGSTUDY_TORCH_ADDON: '/opt/addon.node',
    BGSTUDY_ONNX_PROVIDERS: 'cuda,cpu',
    CUDA_VISIBLE_DEVICES: '-1',
    UNRELATED: 'x',
  };
  assert.deepEqual(loadEngineSettings(env), {
    backend: 'wasm',
    workers: '3',
    torchDevice: 'cpu',
    torchPrecision: 'bf16',
    torchAddon: '/opt/addon.node',
    onnxProviders: 'cuda,cpu',
    cudaVisibleDevices: '-1',
  });
  assert.deepEqual(loadEngineSettings({}), {});
  try {
    configureEngine(loadEngineSettings(env));
    assert.equal(requestedBackend(), 'wasm');
    assert.equal(defaultWorkers(), 3);
    configureEngine(loadEngineSettings({ BGSTUDY_WORKERS: '0' }));
    assert.throws(
      () => defaultWorkers(),
      /workers must be a positive integer \(BGSTUDY_WORKERS or --workers\)/,
    );
  } finally {
    configureEngine({});
  }
  assert.deepEqual(engineSettings(), {});
});

test('core reads no environment variable (only sets two defaults native libraries read)', () => {
  const root = path.resolve(__dirname, '..', '..', 'core');
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const reads: string[] = [];
  for (const f of files)
    readFileSync(path.join(root, f), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (!line.includes('process.env')) return;
        // libtensorflow's log level and Dawn's EGL platform, set (if unset) before the native library loads
        if (/process\.env\.(TF_CPP_MIN_LOG_LEVEL|EGL_PLATFORM) \?\?= '[a-z0-9]+';/.test(line)) return;
        reads.push(`core/${f}:${i + 1}: ${line.trim()}`);
      });
  assert.deepEqual(reads, []);
});

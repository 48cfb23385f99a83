/**
 * `npm run bench:onnx`: challenge-style inference throughput (forward passes/s at batch 64, 224 px) of the same
 * model on onnxruntime-node CPU and on PyTorch CPU, in one run. The model is a torchvision-layout ResNet-18
 * with seeded random weights that bench/reference/onnx_torch.py builds, times in PyTorch and exports to
 * bench/out/resnet18.onnx (not committed). The ONNX side runs through the evaluation path the challenge uses
 * (pretrainedClassifier: normalization + NCHW layout in TS, then the session), after checking that it gives
 * PyTorch's logits. Writes its section of bench/RESULTS.md.
 * Options: --seconds N (per side, default 20), --threads N (default: every core).
 */
import { configureEngineFromEnv } from '../config/engine';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pretrainedClassifier } from '../core/ml/classifier';
import { loadOnnxModel } from '../core/ml/onnx-model';
import { preprocessSchema, toModelInput } from '../core/ml/preprocess';
import { machineLine, writeSection } from './results-file';

// The engine settings (BGSTUDY_BACKEND and the like) are read once, here at the edge.
configureEngineFromEnv();

const root = path.resolve(__dirname, '..');
const outDir = path.join(__dirname, 'out');
const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const seconds = Number(opt('seconds', '20'));
const threads = Number(opt('threads', String(os.availableParallelism())));
const BATCH = 64;
const SIZE = 224;

function torchSide(): { torch: string; threads: number; ips: number; images: number } {
  const r = spawnSync(
    '/usr/bin/python3',
    ['bench/reference/onnx_torch.py', outDir, String(seconds), String(threads)],
    { cwd: root, encoding: 'utf8', timeout: (seconds * 10 + 300) * 1000 },
  );
  const line = r.stdout
    ?.split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) throw new Error(`PyTorch reference failed: ${r.error?.message ?? r.stderr}`);
  return JSON.parse(line) as { torch: string; threads: number; ips: number; images: number };
}

async function main(): Promise<void> {
  const load0 = os.loadavg()[0]!.toFixed(2);
  console.log(`PyTorch: export + ${seconds} s of batch ${BATCH} at ${SIZE}px, ${threads} threads`);
  const torch = torchSide();
  console.log(`  ${torch.ips.toFixed(1)} images/s`);

  const raw = await loadOnnxModel(readFileSync(path.join(outDir, 'resnet18.onnx')), {
    providers: ['cpu'],
    threads,
  });
  const pp = preprocessSchema.parse({
    inputSize: SIZE,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  });

  // Same model? The probe images (NCHW in [0, 1]) as views (NHWC) through our preprocessing.
  const probe = new Float32Array(readFileSync(path.join(outDir, 'probe.bin')).buffer.slice(0));
  const want = (
    JSON.parse(readFileSync(path.join(outDir, 'probe-logits.json'), 'utf8')) as number[][]
  ).flat();
  const hw = SIZE * SIZE;
  const views = new Float32Array(probe.length);
  for (let b = 0; b < 2; b++)
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < hw; p++) views[b * hw * 3 + p * 3 + c] = probe[b * hw * 3 + c * hw + p]!;
  const got = (await raw.run(toModelInput(views, 2, pp), [2, 3, SIZE, SIZE])).data;
  const maxDiff = want.reduce((m, v, i) => Math.max(m, Math.abs(v - got[i]!)), 0);
  console.log(`  ONNX vs PyTorch logits: max |diff| ${maxDiff.toExponential(2)}`);
  if (maxDiff > 1e-3) throw new Error(`onnxruntime disagrees with PyTorch (max |diff| ${maxDiff})`);

  // The challenge's inner loop: a batch of composites (views) -> scores.
  const clf = pretrainedClassifier(
    raw,
    pp,
    'identity',
    Array.from({ length: 1000 }, (_, i) => `c${i}`),
  );
  const x = Float32Array.from({ length: BATCH * hw * 3 }, (_, i) => ((i * 2654435761) % 1000) / 1000);
  await clf.predict(x, BATCH); // warm-up
  let images = 0;
  const t0 = performance.now();
  while (images < 2 * BATCH || performance.now() - t0 < seconds * 1000) {
    await clf.predict(x, BATCH);
    images += BATCH;
  }
  const ortIps = images / ((performance.now() - t0) / 1000);
  await clf.dispose();
  const ratio = ortIps / torch.ips;
  console.log(`ONNX Runtime: ${ortIps.toFixed(1)} images/s (${ratio.toFixed(2)}x PyTorch)`);

  const ortVersion = (
    JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }
  ).version;
  writeSection(
    'onnx',
    `## Pretrained-model inference: ONNX Runtime vs PyTorch (\`npm run bench:onnx\`)

${new Date().toISOString().slice(0, 10)}, ${machineLine()}; load average ${load0} at start (other agents were
using the machine's cores during the run, so absolute numbers are low and noisy; both sides ran back to back
under the same load). Challenge-style throughput: a torchvision-layout ResNet-18 (seeded random weights,
1000 classes), batch ${BATCH}, ${SIZE}px, ImageNet normalization included on both sides, ${threads} thread${threads === 1 ? '' : 's'} each,
~${seconds} s per side. ONNX exported by PyTorch ${torch.torch} (opset 13); before timing, onnxruntime's logits
match PyTorch's to ${maxDiff.toExponential(1)}.

| backend | forward passes (images)/s | vs PyTorch |
|---|---|---|
| PyTorch ${torch.torch} CPU (${torch.threads} threads, inference_mode) | ${torch.ips.toFixed(1)} | 1.00x |
| onnxruntime-node ${ortVersion} CPU EP (${threads} intra-op threads), via \`pretrainedClassifier\` | ${ortIps.toFixed(1)} | ${ratio.toFixed(2)}x |
`,
  );
  console.log('bench/RESULTS.md updated');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * The GPU check of the libtorch engine, meant to run once on a GPU machine (bench/gpu/run.sh runs its bundle
 * with a carried Node): builds the addon against that machine's PyTorch, checks it on the GPU against its
 * CPU form (which CI checks against the tfjs models) and against tfjs itself for the small CNN, then measures
 * training and evaluation img/s of small_cnn@64, ResNet-18@112 and ResNet-50@224 in fp32 and bf16 autocast,
 * each beside PyTorch on the same model, batch and precision (bench/reference/train_torch.py). Without a GPU
 * it runs the same steps on the CPU at tiny sizes (how it is tested off the GPU machine).
 * Options: --out DIR (results.json, results.md), --tiny, --seconds S, --budget S (stop measuring after S).
 */
import { configureEngineFromEnv } from '../../config/engine';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { softmaxCrossEntropy } from '../../core/ml/in-process-trainer';
import type { Architecture, ModelSpec } from '../../core/ml/model-spec';
import { buildModel } from '../../core/ml/models';
import { ensureTorchAddon, torchPython } from '../../infra/torch-native';

// The engine settings (BGSTUDY_BACKEND and the like) are read once, here at the edge.
configureEngineFromEnv();

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const root = process.cwd();
const out = path.resolve(opt('out', path.join(root, 'bench', 'out', 'gpu')));
const here = path.dirname(process.argv[1]!);
const started = Date.now();
const budget = Number(opt('budget', '390'));
const elapsed = () => (Date.now() - started) / 1000;
const lines: string[] = [];
const say = (l: string) => {
  lines.push(l);
  console.log(l);
};

/** A Python that imports PyTorch (infra/torch-native.ts torchPython); python3 where none does (its rows then fail). */
function python(): string {
  return torchPython() ?? 'python3';
}

function gpuName(): string | undefined {
  const r = spawnSync(
    'nvidia-smi',
    ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'],
    {
      encoding: 'utf8',
    },
  );
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : undefined;
}

/** Deterministic pixels in [0, 1). */
function pixels(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2 ** 32;
  }
  return x;
}

/** max |a - b| / max |b| per array, the floor at 1e-3 of the largest array's scale (true zeros hold only noise). */
function worst(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  const maxAbs = (v: ArrayLike<number>) => {
    let m = 0;
    for (let k = 0; k < v.length; k++) m = Math.max(m, Math.abs(v[k]!));
    return m;
  };
  const floor = 1e-3 * Math.max(...b.map(maxAbs));
  let e = 0;
  a.forEach((x, i) => {
    let d = 0;
    for (let k = 0; k < x.length; k++) d = Math.max(d, Math.abs(x[k]! - b[i]![k]!));
    e = Math.max(e, d / Math.max(maxAbs(b[i]!), floor));
  });
  return e;
}

interface Row {
  model: string;
  batch: number;
  precision: string;
  engine: string;
  trainIps?: number;
  evalIps?: number;
  /** Input gradients (saliency's pass; one SmoothGrad copy) img/s, engine only. */
  gradIps?: number;
  note?: string;
}

async function timed(step: () => Promise<unknown>, seconds: number, minSteps = 3): Promise<number> {
  const t0 = performance.now();
  let steps = 0;
  while (steps < minSteps || performance.now() - t0 < seconds * 1000) {
    await step();
    steps++;
  }
  return steps / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const tiny = args.includes('--tiny');
  const seconds = Number(opt('seconds', tiny ? '1' : '6'));
  say(`# bgstudy GPU check, ${new Date().toISOString()}`);
  say(
    `machine: ${gpuName() ?? 'no NVIDIA GPU'}; ${os.cpus().length} cores (${os.cpus()[0]?.model}); load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  // 1. Build against this machine's libtorch (PyTorch's, found through the first python that imports it).
  const py = torchPython();
  if (py) process.env.BGSTUDY_PYTHON = py;
  say(`python with PyTorch: ${py ?? 'none found (python3, python, /usr/bin/python3; BGSTUDY_PYTHON)'}`);
  const build = path.join(out, 'addon');
  process.env.BGSTUDY_TORCH_ADDON = path.join(build, 'bgstudy_torch.node');
  configureEngineFromEnv();
  const t0 = Date.now();
  const built = await ensureTorchAddon('required', (l) => say(`build: ${l}`), {
    source: path.join(root, 'native', 'torch', 'bgstudy_torch.cc'),
    build,
    headers: path.join(here, 'node-api-headers'),
  });
  say(`build: ${built} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  // Imported after the build so the addon path is set.
  const { TorchTrainer } = await import('../../core/backend/torch-trainer');
  const { loadTorchAddon } = await import('../../core/backend/torch-addon');
  const info = loadTorchAddon().info();
  const device = info.cuda ? 'cuda' : 'cpu';
  const pyTorch = spawnSync(python(), ['-c', 'import torch;print(torch.__version__)'], { encoding: 'utf8' });
  say(`libtorch ${info.torch}, device ${device}; PyTorch ${pyTorch.stdout?.trim() || 'not importable'}`);
  await tf.setBackend('cpu');

  // 2. Equivalence: the device engine against libtorch on the CPU (same seeded weights; true fp32, TF32 off),
  //    and the small CNN against tfjs itself.
  const N = 4;
  const eqCases: [Architecture, number][] = tiny
    ? [
        ['small_cnn', 16],
        ['resnet18', 16],
        ['resnet50', 16],
        ['mobilenet_v2', 16],
        ['efficientnet_b0', 16],
        ['shufflenet_v2', 16],
      ]
    : [
        ['small_cnn', 32],
        ['resnet18', 64],
        ['resnet50', 64],
        ['mobilenet_v2', 64],
        ['efficientnet_b0', 64],
        ['shufflenet_v2', 64],
      ];
  const equivalence: Record<string, unknown>[] = [];
  for (const [arch, size] of eqCases) {
    const spec: ModelSpec = { arch, inputSize: size, numClasses: 9, seed: 2 };
    const x = pixels(N * size * size * 3, 7);
    const y = Int32Array.of(1, 3, 0, 8);
    const sgd = { name: 'sgd' as const, learningRate: 0.1 };
    const cpu = new TorchTrainer(spec, sgd, { device: 'cpu', precision: 'fp32' });
    const dev = new TorchTrainer(spec, sgd, { device, precision: 'fp32', tf32: false });
    const a = dev.gradients(x, y, N);
    const b = cpu.gradients(x, y, N);
    const row: Record<string, unknown> = {
      model: `${arch}@${size}`,
      loss: Math.abs(a.loss - b.loss) / b.loss,
      gradients: worst(a.grads, b.grads),
      logits: worst([await dev.predict(x, N)], [await cpu.predict(x, N)]),
      inputGradients: worst([await dev.inputGradients(x, N, y)], [await cpu.inputGradients(x, N, y)]),
    };
    if (arch === 'small_cnn') {
      const model = buildModel(spec);
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(
        () =>
          softmaxCrossEntropy(
            model.apply(tf.tensor4d(x, [N, size, size, 3]), { training: true }) as tf.Tensor2D,
            tf.tensor1d(y, 'int32'),
          ),
        vars,
      );
      const ref = vars.map((v) => grads[v.name]!.dataSync() as Float32Array);
      const refLoss = value.dataSync()[0]!;
      row.vsTfjsLoss = Math.abs(a.loss - refLoss) / refLoss;
      row.vsTfjsGradients = worst(a.grads, ref);
      model.dispose();
    }
    await Promise.all([cpu.dispose(), dev.dispose()]);
    equivalence.push(row);
    say(
      `equivalence ${device} vs cpu, ${row.model}: ` +
        Object.entries(row)
          .filter(([k]) => k !== 'model')
          .map(([k, v]) => `${k} ${(v as number).toExponential(1)}`)
          .join(', '),
    );
  }

  // 3. Throughput beside PyTorch, same model, batch, precision; the batch is copied from host memory every step.
  const models: [Architecture, number, number][] = tiny
    ? [
        ['small_cnn', 32, 8],
        ['resnet18', 32, 8],
        ['resnet50', 32, 4],
      ]
    : [
        ['small_cnn', 64, 256],
        ['resnet18', 112, 256],
        ['resnet50', 224, 128],
      ];
  const rows: Row[] = [];
  for (const [arch, size, batch] of models) {
    for (const precision of ['fp32', 'bf16'] as const) {
      const model = `${arch}@${size}`;
      if (device === 'cpu' && precision === 'bf16' && arch !== 'small_cnn') continue; // CPU bf16: minutes a step
      if (elapsed() > budget) {
        rows.push({ model, batch, precision, engine: 'skipped', note: `past the ${budget} s budget` });
        continue;
      }
      const spec: ModelSpec = { arch, inputSize: size, numClasses: 9, seed: 1 };
      const x = pixels(batch * size * size * 3, 3);
      const y = Int32Array.from({ length: batch }, (_, i) => i % 9);
      const t = new TorchTrainer(spec, { name: 'adam', learningRate: 1e-3 }, { device, precision });
      try {
        for (let i = 0; i < 3; i++) await t.trainStep({ x, y, n: batch });
        const trainIps = batch * (await timed(() => t.trainStep({ x, y, n: batch }), seconds));
        await t.predict(x, batch);
        const evalIps = batch * (await timed(() => t.predict(x, batch), seconds / 2));
        // Evaluation, the challenge and saliency run these two calls (core/backend/torch-classifier.ts).
        const gradIps = batch * (await timed(() => t.inputGradients(x, batch, y), seconds / 4));
        rows.push({ model, batch, precision, engine: t.backend, trainIps, evalIps, gradIps });
      } catch (err) {
        rows.push({
          model,
          batch,
          precision,
          engine: 'libtorch',
          note: String((err as Error).message).slice(0, 200),
        });
      } finally {
        await t.dispose();
      }
      say(`measured ${model} b${batch} ${precision} libtorch: ${JSON.stringify(rows.at(-1))}`);
      const r = spawnSync(
        python(),
        [
          path.join(root, 'bench', 'reference', 'train_torch.py'),
          ...['--arch', arch, '--size', String(size), '--batch', String(batch), '--classes', '9'],
          ...['--threads', String(os.availableParallelism()), '--seconds', String(seconds)],
          ...['--device', device, '--amp', precision],
        ],
        { encoding: 'utf8', timeout: (30 * seconds + 120) * 1000 },
      );
      const line = r.stdout
        ?.split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      if (r.status === 0 && line) {
        const p = JSON.parse(line) as { torch: string; train_ips: number; eval_ips: number };
        rows.push({
          model,
          batch,
          precision,
          engine: `PyTorch ${p.torch} (${device})`,
          trainIps: p.train_ips,
          evalIps: p.eval_ips,
        });
      } else {
        rows.push({
          model,
          batch,
          precision,
          engine: 'PyTorch',
          note: `did not run: ${(r.stderr ?? String(r.error)).trim().split('\n').at(-1)}`,
        });
      }
      say(`measured ${model} b${batch} ${precision} PyTorch: ${JSON.stringify(rows.at(-1))}`);
    }
  }

  const f = (v?: number) => (v === undefined ? '-' : v.toFixed(v < 10 ? 2 : 0));
  const md = [
    `GPU check (bench/gpu/run.sh), ${new Date().toISOString().slice(0, 10)}: ${gpuName() ?? 'no GPU, CPU at tiny sizes'}; libtorch ${info.torch}.`,
    'Batch copied from host memory every step in both engines; Adam; fp32 = TF32 convolutions (PyTorch default).',
    '',
    '| model | batch | precision | engine | train img/s | eval img/s | input-gradient img/s | train vs PyTorch | note |',
    '| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) => {
      const ref = rows.find(
        (o) => o.model === r.model && o.precision === r.precision && o.engine.startsWith('PyTorch'),
      );
      const ratio =
        r.engine.startsWith('libtorch') && r.trainIps && ref?.trainIps
          ? `${(r.trainIps / ref.trainIps).toFixed(2)}x`
          : '';
      return `| ${r.model} | ${r.batch} | ${r.precision} | ${r.engine} | ${f(r.trainIps)} | ${f(r.evalIps)} | ${f(r.gradIps)} | ${ratio} | ${r.note ?? ''} |`;
    }),
    '',
    'Equivalence on the device (true fp32) against libtorch on the CPU, max |a-b| / max |b| per array:',
    '',
    ...equivalence.map((e) => `- ${JSON.stringify(e)}`),
  ].join('\n');
  writeFileSync(path.join(out, 'results.md'), `${md}\n`);
  writeFileSync(
    path.join(out, 'results.json'),
    JSON.stringify({ info, device, equivalence, rows, log: lines }, null, 2),
  );
  console.log(`\n${md}\n\nwritten: ${path.join(out, 'results.md')} (${elapsed().toFixed(0)} s in all)`);
}

main().catch((err: Error) => {
  console.error(err.stack ?? String(err));
  process.exit(1);
});

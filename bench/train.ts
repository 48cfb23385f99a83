/**
 * `npm run bench:train`: training and evaluation images/s of the small CNN at 64px and ResNet-18 at 112px
 * (batch 32, Adam) on every tfjs backend that runs here, next to the PyTorch reference
 * (bench/reference/train_torch.py with /usr/bin/python3, same architecture, batch and threads) run in the
 * same bench run; writes bench/RESULTS.md. Each measurement runs in its own process.
 * The libtorch engine (core/backend/torch-trainer.ts, on the CPU here) is measured beside them where setup built it.
 * Options: --quick (shorter runs), --models small_cnn@64,resnet18@112, --seconds N, --out FILE,
 * --backends libtorch,tfjs-node (only these).
 * The cpu backend (~1 img/s here) runs only with --with-cpu; software WebGPU only for models <= 64px.
 */
import { configureEngineFromEnv } from '../config/engine';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendName } from '../core/backend/select-backend';
import { TFJS_NODE_KERNELS } from '../core/backend/tfjs-node-kernels';
import { WASM_TRAINING_KERNELS } from '../core/backend/wasm-kernels';
import type { Architecture } from '../core/ml/model-spec';
import type { MeasureRequest, MeasureResult } from './train-measure';

// The engine settings (BGSTUDY_BACKEND and the like) are read once, here at the edge.
configureEngineFromEnv();

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const quick = args.includes('--quick');
const seconds = Number(opt('seconds', quick ? '4' : '10'));
const cores = os.availableParallelism();
const models = opt('models', 'small_cnn@64,resnet18@112')
  .split(',')
  .map((m) => {
    const [arch, size] = m.split('@');
    return { arch: arch as Architecture, size: Number(size) };
  });
const BATCH = 32;

interface Row {
  label: string;
  trainIps?: number;
  evalIps?: number;
  note: string;
}

function run(cmd: string, argv: string[], timeoutS: number): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, argv, {
    cwd: root,
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    env: { ...process.env, BGSTUDY_BACKEND: '' },
  });
  const lastJson = r.stdout
    ?.split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (r.error) return { ok: false, out: '', err: `${r.error.message}` };
  return {
    ok: r.status === 0 && !!lastJson,
    out: lastJson ?? '',
    err: (r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? '',
  };
}

function torchReference(arch: Architecture, size: number, threads: number): Row {
  const r = run(
    '/usr/bin/python3',
    [
      'bench/reference/train_torch.py',
      '--arch',
      arch,
      '--size',
      String(size),
      '--batch',
      String(BATCH),
      '--threads',
      String(threads),
      '--seconds',
      String(seconds),
    ],
    20 * seconds + 120,
  );
  if (!r.ok) return { label: 'PyTorch (reference)', note: `did not run: ${r.err}` };
  const j = JSON.parse(r.out) as { torch: string; threads: number; train_ips: number; eval_ips: number };
  return {
    label: `PyTorch ${j.torch} (${j.threads} thread${j.threads === 1 ? '' : 's'})`,
    trainIps: j.train_ips,
    evalIps: j.eval_ips,
    note: 'reference',
  };
}

function tfjs(arch: Architecture, size: number, backend: BackendName, workers: number): Row {
  const req: MeasureRequest = { arch, size, batch: BATCH, backend, workers, seconds };
  const label =
    backend === 'libtorch'
      ? `libtorch x${workers} threads`
      : `tfjs ${backend}${backend === 'wasm' || backend === 'cpu' ? ` x${workers}` : ''}`;
  const r = run(
    process.execPath,
    ['--import', 'tsx', 'bench/train-measure.ts', JSON.stringify(req)],
    30 * seconds + 300,
  );
  if (!r.ok)
    return {
      label,
      note: r.err.startsWith('UNAVAILABLE')
        ? `not usable: ${r.err.slice(12)}`
        : `failed: ${r.err || 'timed out'}`,
    };
  const j = JSON.parse(r.out) as MeasureResult;
  return { label, trainIps: j.trainIps, evalIps: j.evalIps, note: j.backend };
}

const fmt = (v?: number) => (v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const ratio = (v?: number, ref?: number) => (v === undefined || !ref ? '-' : `${(v / ref).toFixed(2)}x`);

function main(): void {
  const started = new Date().toISOString();
  const load0 = os.loadavg()[0]!.toFixed(2);
  const sections: string[] = [];
  for (const { arch, size } of models) {
    console.log(`== ${arch} @ ${size}px, batch ${BATCH}`);
    // The reference uses every core; one thread too, next to the single-process wasm row.
    const rows: Row[] = [
      torchReference(arch, size, cores),
      ...(cores > 1 ? [torchReference(arch, size, 1)] : []),
    ];
    for (const r of rows)
      console.log(`  ${r.label}: train ${fmt(r.trainIps)} img/s, eval ${fmt(r.evalIps)} img/s`);
    const only = opt('backends', '');
    const configs: [BackendName, number][] = (
      [
        ['libtorch', cores],
        ['tfjs-node-gpu', 1],
        ['tfjs-node', 1],
        ['webgpu', 1],
        ['wasm', 1],
        ...(cores > 1 ? ([['wasm', cores]] as [BackendName, number][]) : []),
        ...(args.includes('--with-cpu') ? ([['cpu', cores]] as [BackendName, number][]) : []),
      ] as [BackendName, number][]
    ).filter(([b]) => !only || only.split(',').includes(b));
    for (const [backend, workers] of configs) {
      if (backend === 'webgpu' && size > 64 && !args.includes('--webgpu-all')) {
        rows.push({
          label: 'tfjs webgpu',
          note: 'skipped above 64px here (software adapter; --webgpu-all to run)',
        });
        continue;
      }
      const row = tfjs(arch, size, backend, workers);
      rows.push(row);
      console.log(
        `  ${row.label}: train ${fmt(row.trainIps)} img/s, eval ${fmt(row.evalIps)} img/s  ${row.note}`,
      );
    }
    // Ratios are to the faster PyTorch configuration: on a loaded machine its multi-threaded run can
    // collapse (OpenMP threads wait on each other), which would flatter tfjs.
    const torchRows = rows.filter((r) => r.label.startsWith('PyTorch') && r.trainIps !== undefined);
    const ref: Row = {
      label: 'best PyTorch',
      note: '',
      trainIps: Math.max(...torchRows.map((r) => r.trainIps!)),
      evalIps: Math.max(...torchRows.map((r) => r.evalIps!)),
    };
    sections.push(
      [
        `### ${arch} at ${size}px, batch ${BATCH}`,
        '',
        '| implementation | train img/s | vs PyTorch | eval img/s | vs PyTorch | backend details |',
        '|---|---:|---:|---:|---:|---|',
        ...rows.map(
          (r) =>
            `| ${r.label} | ${fmt(r.trainIps)} | ${ratio(r.trainIps, ref.trainIps)} | ${fmt(r.evalIps)} | ${ratio(r.evalIps, ref.evalIps)} | ${r.note.replace(/, projectKernels=[^)]*/, '').replace(/\|/g, '/')} |`,
        ),
        '',
      ].join('\n'),
    );
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const doc = [
    '<!-- train:start -->',
    '## Training (`npm run bench:train`)',
    '',
    `Machine: ${cpu}, ${cores} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}.`,
    `Run: ${started}, ${seconds} s per measurement (after 2 warm-up steps); load average ${load0} at start, ${os.loadavg()[0]!.toFixed(2)} at end.`,
    'Each tfjs row is its own process; "wasm xN" is the ParallelTrainer over N worker threads (one wasm backend each),',
    '"wasm x1" one process. PyTorch runs bench/reference/train_torch.py (same architecture, batch, Adam) with threads =',
    'cores and with one thread; ratios are to the faster of the two. A load average above ~1 at the start means other',
    'processes shared the cores: such numbers are noisy, and multi-threaded rows suffer most.',
    `wasm runs with the project's kernels: ${WASM_TRAINING_KERNELS.join(', ')} (core/backend/wasm-kernels.ts).`,
    `tfjs-node runs with the project's kernels: ${TFJS_NODE_KERNELS.join(', ')} (core/backend/tfjs-node-kernels.ts), on the`,
    "libtensorflow its row names (npm run setup builds it from PyPI's tensorflow-cpu wheel where npm's install could not download one).",
    '',
    ...sections,
  ].join('\n');
  const block = [doc, '<!-- train:end -->'].join('\n');
  // Only this section of the shared results file is replaced; other benchmarks own the rest.
  const out = opt('out', path.join(root, 'bench/RESULTS.md'));
  const old = existsSync(out) ? readFileSync(out, 'utf8') : '# Benchmarks\n';
  const marked = /<!-- train:start -->[\s\S]*<!-- train:end -->/;
  writeFileSync(out, marked.test(old) ? old.replace(marked, block) : `${old.trimEnd()}\n\n${block}\n`);
  console.log(`written ${out}`);
}

main();

/**
 * `npm run bench:temporal`: what durability costs. The same study runs twice on fresh local stores:
 * (a) its activities called in a plain loop in this process, in the workflow's order and concurrency;
 * (b) StudyWorkflow on a local Temporal dev server with in-process workers.
 * Overhead = (b - a) / a. Then (c): the same spec started again on (b)'s server and store once it has
 * finished, as a schedule's trigger would: its wall time and the files it wrote (goal: none). (The resume cost after a killed worker is bounded and asserted by
 * test/integration/training-crash.test.ts: at most one checkpoint interval of batches is redone.)
 * Options: --preset NAME | --spec FILE (default: the quick preset); --gpu-activities N (the GPU worker's slots,
 * default BGSTUDY_GPU_ACTIVITIES or 1; the plain loop gets the same); --pairs N (default 1): N pairs, alternating which
 * of (a) and (b) goes first, since the first study in a process also pays for loading the engine and warming the JIT.
 * Writes the "temporal" section of bench/RESULTS.md.
 */
import pLimit from 'p-limit';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readSpecFile } from '../cli/spec-file';
import { startStudy } from '../client/start-study';
import { parseStudySpec } from '../core/spec/study-spec';
import { FsArtifactStore } from '../store/fs-store';
import { cpuActivities, gpuActivities } from '../workers/activities';
import { installRuntime } from '../workers/runtime';
import { startScratchEnv } from '../workers/scratch-env';
import { mapLimit } from '../common/map-limit';
import { runInputOf } from '../workflows/run-inputs';
import type { RunSummary } from '../workflows/run-workflow';
import { callActivity, filesUnder } from './harness';
import { machineLine, writeSection } from './results-file';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

// The workers' activity slots (workers/create-worker.ts: BGSTUDY_CPU_ACTIVITIES, default 2, and
// BGSTUDY_GPU_ACTIVITIES, default 1); --gpu-activities sets the GPU one for both sides.
if (opt('gpu-activities')) process.env.BGSTUDY_GPU_ACTIVITIES = opt('gpu-activities');
const cpuSlots = pLimit(Number(process.env.BGSTUDY_CPU_ACTIVITIES ?? 2));
const gpuSlots = pLimit(Number(process.env.BGSTUDY_GPU_ACTIVITIES ?? 1));

/**
 * Runs one activity function with a mock activity context (heartbeats go nowhere), as a plain call would, in
 * one of its queue's slots: the plain loop gets the same concurrency as the workers.
 */
async function call<R>(queue: 'cpu' | 'gpu', fn: () => Promise<R>): Promise<R> {
  return (queue === 'cpu' ? cpuSlots : gpuSlots)(() => callActivity(fn));
}

/** The workflow's DAG as a plain loop: same activities, same order, same concurrency limits. */
async function plainLoop(rawSpec: unknown, root: string): Promise<number> {
  const store = new FsArtifactStore(path.join(root, 'store'));
  const cpu = cpuActivities({ store });
  const gpu = gpuActivities({ store });
  const t0 = performance.now();
  const { plan, specKey } = await call('cpu', () => cpu.registerStudy(rawSpec));
  const dataset = await call('cpu', () => cpu.prepareDataset(plan.dataset));
  const keys: Record<string, string> = {};
  await mapLimit(plan.variants, plan.execution.variantConcurrency, async (v) => {
    keys[v.id] = (
      await call('cpu', () =>
        cpu.materializeVariant({
          datasetManifestKey: dataset.manifestKey,
          variant: v.spec,
          seed: v.seed,
        }),
      )
    ).manifestKey;
  });
  // The inputs the workflow hands each RunWorkflow, then RunWorkflow's steps in its order.
  const runs: RunSummary[] = [];
  await mapLimit(plan.runs, plan.execution.runConcurrency, async (run) => {
    const input = runInputOf(plan, run, keys, dataset.classes.length, {
      gpuTaskQueue: '',
      heartbeatTimeout: 0,
    });
    const modelSpec = input.train?.modelSpec;
    let trained = await call('gpu', () =>
      input.pretrained ? gpu.importModel(input.pretrained) : gpu.trainModel(input.train!),
    );
    const base = trained.modelKey;
    if (input.finetune)
      trained = await call('gpu', () => gpu.finetuneModel({ ...input.finetune!, baseModelKey: base }));
    // As RunWorkflow (patched 'batched-evaluation'): one evaluateModelOn over every test variant.
    const outs = await call('gpu', () =>
      gpu.evaluateModelOn({
        modelKey: trained.modelKey,
        modelSpec,
        variants: input.tests.flatMap((t) => t.variants),
      }),
    );
    let next = 0;
    const tests = input.tests.map((t) => {
      const evaluations = t.variants.map(() => outs[next++]!);
      return {
        label: t.label,
        accuracy: evaluations.reduce((a, e) => a + e.accuracy, 0) / evaluations.length,
        evaluations,
      };
    });
    const challengeIn = input.challenge;
    const challenge = challengeIn
      ? await call('gpu', () => gpu.runChallenge({ modelKey: trained.modelKey, modelSpec, ...challengeIn }))
      : null;
    // As RunWorkflow (patched 'batched-saliency'): one computeSaliencyOn over every saliency variant.
    const saliencyIn = input.saliency;
    const saliency =
      saliencyIn && saliencyIn.variants.length
        ? await call('gpu', () =>
            gpu.computeSaliencyOn({
              modelKey: trained.modelKey,
              modelSpec,
              samples: saliencyIn.samples,
              ...(saliencyIn.method ? { method: saliencyIn.method } : {}),
              variants: saliencyIn.variants,
            }),
          )
        : [];
    runs.push({ runId: run.runId, label: run.label, train: trained, tests, challenge, saliency });
  });
  await call('cpu', () =>
    cpu.aggregateResults({ plan, specKey, dataset, variantKeys: keys, runs, cancelled: false }),
  );
  return (performance.now() - t0) / 1000;
}

/** Every file under `dir` with its size and modification time, to see what a run wrote. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const file of await filesUnder(dir)) {
    const s = await stat(file);
    out.set(file, `${s.size} ${s.mtimeMs}`);
  }
  return out;
}

/**
 * The study under the workflow, then the same spec started again once it has finished (what a schedule's
 * nightly trigger does): every stage is cached, so the rerun should write nothing.
 */
async function underWorkflow(
  rawSpec: unknown,
  root: string,
): Promise<{ first: number; rerun: number; rerunWrites: number }> {
  const env = await startScratchEnv(root, 'bench');
  const once = async () => {
    const t0 = performance.now();
    await (
      await startStudy(env.client, rawSpec, {
        taskQueue: 'bench',
        workflowId: 'bench',
        workflowOptions: { gpuTaskQueue: 'bench-gpu' },
      })
    ).result();
    return (performance.now() - t0) / 1000;
  };
  try {
    const first = await once();
    const storeDir = path.join(root, 'store');
    const before = await snapshot(storeDir);
    const rerun = await once();
    const after = await snapshot(storeDir);
    const rerunWrites = [...after].filter(([f, v]) => before.get(f) !== v).length;
    return { first, rerun, rerunWrites };
  } finally {
    await env.stop();
  }
}

async function main(): Promise<void> {
  installRuntime();
  const specFile = opt('spec');
  const spec = parseStudySpec(await readSpecFile({ spec: specFile, preset: opt('preset') ?? 'quick' }));
  const label = specFile ? path.basename(specFile) : `preset ${opt('preset') ?? 'quick'}`;
  const work = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-bench-'));
  try {
    const load0 = os.loadavg()[0]!.toFixed(2);
    const pairs = Number(opt('pairs') ?? 1);
    const rows: { order: string; plain: number; wf: number; rerun: number; rerunWrites: number }[] = [];
    for (let i = 0; i < pairs; i++) {
      const dir = path.join(work, `pair-${i}`);
      const runPlain = async () => {
        console.log(`pair ${i + 1}: plain loop (${label})...`);
        const s = await plainLoop(spec, path.join(dir, 'plain'));
        console.log(`  ${s.toFixed(1)} s`);
        return s;
      };
      const runWf = async () => {
        console.log(`pair ${i + 1}: under the workflow...`);
        const r = await underWorkflow(spec, path.join(dir, 'workflow'));
        console.log(
          `  ${r.first.toFixed(1)} s; unchanged rerun ${r.rerun.toFixed(1)} s, ${r.rerunWrites} files written`,
        );
        return r;
      };
      const plainFirst = i % 2 === 0;
      const plain = plainFirst ? await runPlain() : NaN;
      const r = await runWf();
      const plainAfter = plainFirst ? plain : await runPlain();
      rows.push({
        order: plainFirst ? 'loop first' : 'workflow first',
        plain: plainAfter,
        wf: r.first,
        rerun: r.rerun,
        rerunWrites: r.rerunWrites,
      });
      await rm(dir, { recursive: true, force: true });
    }
    const pct = (r: { plain: number; wf: number }) => ((r.wf - r.plain) / r.plain) * 100;
    const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0);
    const overheads = rows.map(pct);
    const totalOverhead = ((sum((r) => r.wf) - sum((r) => r.plain)) / sum((r) => r.plain)) * 100;
    const load1 = os.loadavg()[0]!.toFixed(2);
    const md = [
      '## Temporal overhead (`npm run bench:temporal`)',
      '',
      `Measured ${new Date().toISOString()} on ${machineLine()}; study: ${label} (${spec.train.length} train entries), local file store, training backend chosen automatically; command: \`npm run bench:temporal -- ${args.join(' ')}\`.`,
      `Load average ${load0} at start, ${load1} at end${Number(load0) > 2.5 || Number(load1) > 2.5 ? ' (other processes were using the cores: treat as indicative)' : ''}.`,
      '',
      '| pair | order | activities in a plain loop (s) | StudyWorkflow, dev server, in-process workers (s) | overhead | unchanged rerun (s) | files the rerun wrote |',
      '|---|---|---|---|---|---|---|',
      ...rows.map(
        (r, i) =>
          `| ${i + 1} | ${r.order} | ${r.plain.toFixed(1)} | ${r.wf.toFixed(1)} | ${pct(r).toFixed(1)} % | ${r.rerun.toFixed(1)} | ${r.rerunWrites} |`,
      ),
      `| **all** | | ${sum((r) => r.plain).toFixed(1)} | ${sum((r) => r.wf).toFixed(1)} | **${totalOverhead.toFixed(1)} %** (range ${Math.min(...overheads).toFixed(1)} to ${Math.max(...overheads).toFixed(1)} %; goal < 2 %) | max ${Math.max(...rows.map((r) => r.rerun)).toFixed(1)} (goal < 5) | ${sum((r) => r.rerunWrites)} (goal 0) |`,
    ].join('\n');
    writeSection('temporal', md);
    console.log(md);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * `npm run bench:temporal`: what durability costs. The same study runs twice on fresh local stores:
 * (a) its activities called in a plain loop in this process, in the workflow's order and concurrency;
 * (b) StudyWorkflow on a local Temporal dev server with in-process workers.
 * Overhead = (b - a) / a. Then (c): the same spec started again on (b)'s server and store once it has
 * finished, as a schedule's trigger would: its wall time and the files it wrote (goal: none). (The resume cost after a killed worker is bounded and asserted by
 * test/integration/training-crash.test.ts: at most one checkpoint interval of batches is redone.)
 * Options: --preset NAME | --spec FILE (default: the quick preset). Writes the "temporal" section of bench/RESULTS.md.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
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
import { machineLine, writeSection } from './results-file';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

/** Runs one activity function with a mock activity context (heartbeats go nowhere), as a plain call would. */
async function call<R>(fn: () => Promise<R>): Promise<R> {
  return new MockActivityEnvironment().run(fn);
}

/** The workflow's DAG as a plain loop: same activities, same order, same concurrency limits. */
async function plainLoop(rawSpec: unknown, root: string): Promise<number> {
  const store = new FsArtifactStore(path.join(root, 'store'));
  const cpu = cpuActivities({ store });
  const gpu = gpuActivities({ store });
  const t0 = performance.now();
  const { plan, specKey } = await call(() => cpu.registerStudy(rawSpec));
  const dataset = await call(() => cpu.prepareDataset(plan.dataset));
  const keys: Record<string, string> = {};
  await mapLimit(plan.variants, plan.execution.variantConcurrency, async (v) => {
    keys[v.id] = (
      await call(() =>
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
    let trained = await call(() =>
      input.pretrained ? gpu.importModel(input.pretrained) : gpu.trainModel(input.train!),
    );
    const base = trained.modelKey;
    if (input.finetune)
      trained = await call(() => gpu.finetuneModel({ ...input.finetune!, baseModelKey: base }));
    // As RunWorkflow (patched 'batched-evaluation'): one evaluateModelOn over every test variant.
    const outs = await call(() =>
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
      ? await call(() => gpu.runChallenge({ modelKey: trained.modelKey, modelSpec, ...challengeIn }))
      : null;
    // As RunWorkflow (patched 'batched-saliency'): one computeSaliencyOn over every saliency variant.
    const saliencyIn = input.saliency;
    const saliency =
      saliencyIn && saliencyIn.variants.length
        ? await call(() =>
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
  await call(() =>
    cpu.aggregateResults({ plan, specKey, dataset, variantKeys: keys, runs, cancelled: false }),
  );
  return (performance.now() - t0) / 1000;
}

/** Every file under `dir` with its size and modification time, to see what a run wrote. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
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
    console.log(`plain loop (${label})...`);
    const plain = await plainLoop(spec, path.join(work, 'plain'));
    console.log(`  ${plain.toFixed(1)} s\nunder the workflow...`);
    const { first: wf, rerun, rerunWrites } = await underWorkflow(spec, path.join(work, 'workflow'));
    console.log(`  ${wf.toFixed(1)} s; unchanged rerun ${rerun.toFixed(1)} s, ${rerunWrites} files written`);
    const overhead = ((wf - plain) / plain) * 100;
    const md = [
      '## Temporal overhead (`npm run bench:temporal`)',
      '',
      `Measured ${new Date().toISOString()} on ${machineLine()}; study: ${label} (${spec.train.length} train entries), local file store, training backend chosen automatically.`,
      `Load average ${load0} at start, ${os.loadavg()[0]!.toFixed(2)} at end${Number(load0) > 2.5 ? ' (other processes were using the cores: treat as indicative)' : ''}.`,
      '',
      '| how | wall time (s) |',
      '|---|---|',
      `| activities in a plain loop (same order and concurrency) | ${plain.toFixed(1)} |`,
      `| StudyWorkflow on a local dev server, in-process workers | ${wf.toFixed(1)} |`,
      `| **overhead** | **${overhead.toFixed(1)} %** (goal < 2 %) |`,
      `| the same spec started again once finished (every stage cached) | ${rerun.toFixed(1)} (goal < 5), files written: ${rerunWrites} (goal 0) |`,
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

/**
 * `npm run bench:scale`: how each cost grows as the work grows (issue #21), in three parts (`--part`, default all):
 *
 * - `data`: synthetic datasets of `--images` (default 1000,10000,100000) at `--size` px (default 64): prepare and
 *   the 8 Xiao variants (one process, activities called directly on a local store), then one epoch of training
 *   (a second process, as a GPU worker would): images/s of each stage, each process's peak RSS, store bytes per
 *   image.
 * - `runs`: studies of `--runs` (default 3,30,300) tiny training runs (one epoch, 16 px) under StudyWorkflow on a
 *   dev server: history events and bytes of the study and per child, workflow-task latency, each run's idle time
 *   between activities, the report activity's time and its input's size.
 * - `workers`: one study of `--worker-runs` runs (default 8) on 1, then 2, GPU-queue workers in their own
 *   processes (`bgstudy worker --queue gpu`): runs per hour.
 *
 * Growth is called "linear or better" when the per-unit figure of the largest size is within 1.5x of the smallest's.
 * Writes one section of bench/RESULTS.md per part (`scale-data`, `scale-runs`, `scale-workers`), with a Vega-Lite
 * spec of the data curves.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startStudy } from '../client/start-study';
import { mapLimit } from '../common/map-limit';
import { XIAO_VARIANTS } from '../core/variants/variant-spec';
import { FsArtifactStore } from '../store/fs-store';
import { cpuActivities, gpuActivities } from '../workers/activities';
import { installRuntime } from '../workers/runtime';
import { startScratchEnv } from '../workers/scratch-env';
import { runInputOf } from '../workflows/run-inputs';
import { callActivity, folderBytes } from './harness';
import { machineLine, writeSection } from './results-file';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const list = (name: string, fallback: string) => (opt(name) ?? fallback).split(',').map(Number);

const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;

/** "linear" when the per-unit figure of the largest size stays within 1.5x of the smallest's. */
function growth(first: number, last: number, perUnitRises: boolean): string {
  const r = last / first;
  const worse = perUnitRises ? r : 1 / r;
  return `${r.toFixed(2)}x (${worse <= 1.5 ? 'linear or better' : 'faster than linear'})`;
}

// ---------------------------------------------------------------- data

function dataSpec(images: number, size: number) {
  const classes = 9;
  const perClass = Math.max(2, Math.round(images / classes));
  const train = Math.round(perClass * 0.8);
  return {
    version: 1,
    name: `scale-${images}`,
    dataset: { source: 'synthetic', classes, perClass: { train, val: perClass - train }, size, seed: 1 },
    variants: XIAO_VARIANTS,
    train: [{ model: 'small_cnn', on: ['original'], epochs: 1, batch: 64 }],
    evaluate: { on: ['original'] },
  };
}

interface DataPoint {
  images: number;
  prepareImgPerS: number;
  variantImgPerS: number;
  dataPeakRssMiB: number;
  storeBytesPerImage: number;
  trainImgPerS: number;
  trainPeakRssMiB: number;
}

/** In a child process: the data stages (`--stage data`) or the training epoch (`--stage train`) on `root`. */
async function dataStage(stage: string, images: number, size: number, root: string): Promise<void> {
  installRuntime();
  const store = new FsArtifactStore(path.join(root, 'store'));
  const cpu = cpuActivities({ store });
  const { plan } = await callActivity(() => cpu.registerStudy(dataSpec(images, size)));
  const t0 = performance.now();
  const dataset = await callActivity(() => cpu.prepareDataset(plan.dataset));
  const t1 = performance.now();
  const keys: Record<string, string> = {};
  await mapLimit(plan.variants, plan.execution.variantConcurrency, async (v) => {
    keys[v.id] = (
      await callActivity(() =>
        cpu.materializeVariant({ datasetManifestKey: dataset.manifestKey, variant: v.spec, seed: v.seed }),
      )
    ).manifestKey;
  });
  const t2 = performance.now();
  const made = (dataset.counts.train ?? 0) + (dataset.counts.val ?? 0);
  if (stage === 'data') {
    console.log(
      JSON.stringify({
        images: made,
        prepareImgPerS: made / ((t1 - t0) / 1000),
        variantImgPerS: (plan.variants.length * made) / ((t2 - t1) / 1000),
        dataPeakRssMiB: peakRssMiB(),
        storeBytesPerImage: (await folderBytes(path.join(root, 'store'))) / made,
      }),
    );
    return;
  }
  // Training: every stage above is cached by now (this process only read the manifests back).
  const gpu = gpuActivities({ store });
  const input = runInputOf(plan, plan.runs[0]!, keys, dataset.classes.length, {
    gpuTaskQueue: '',
    heartbeatTimeout: 0,
  });
  const t3 = performance.now();
  await callActivity(() => gpu.trainModel(input.train!));
  const seconds = (performance.now() - t3) / 1000;
  console.log(
    JSON.stringify({ trainImgPerS: (dataset.counts.train ?? 0) / seconds, trainPeakRssMiB: peakRssMiB() }),
  );
}

function child(extra: string[]): Record<string, number> {
  const out = execFileSync(process.execPath, [...process.execArgv, __filename, ...extra], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
}

async function dataPart(): Promise<string[]> {
  const size = Number(opt('size') ?? 64);
  const points: DataPoint[] = [];
  for (const n of list('images', '1000,10000,100000')) {
    const root = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-scale-'));
    try {
      console.log(`data: ${n} images at ${size} px...`);
      const d = child(['--stage', 'data', '--n', String(n), '--size', String(size), '--root', root]);
      const t = child(['--stage', 'train', '--n', String(n), '--size', String(size), '--root', root]);
      const p = { ...d, ...t } as unknown as DataPoint;
      console.log(`  ${JSON.stringify(p)}`);
      points.push(p);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
  const [a, z] = [points[0]!, points.at(-1)!];
  const vega = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: {
      values: points.flatMap((p) => [
        { images: p.images, measure: 'prepare images/s', value: Math.round(p.prepareImgPerS) },
        { images: p.images, measure: 'variant images/s', value: Math.round(p.variantImgPerS) },
        { images: p.images, measure: 'training images/s', value: Math.round(p.trainImgPerS) },
        { images: p.images, measure: 'data worker peak RSS (MiB)', value: Math.round(p.dataPeakRssMiB) },
        { images: p.images, measure: 'GPU worker peak RSS (MiB)', value: Math.round(p.trainPeakRssMiB) },
        { images: p.images, measure: 'store bytes per image', value: Math.round(p.storeBytesPerImage) },
      ]),
    },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'images', type: 'quantitative', scale: { type: 'log' } },
      y: { field: 'value', type: 'quantitative' },
      row: { field: 'measure', type: 'nominal' },
    },
    resolve: { scale: { y: 'independent' } },
  };
  const f = (x: number) => x.toFixed(0);
  return [
    `### Dataset size (synthetic, 9 classes, ${size} px, the 8 Xiao variants, one epoch of small_cnn, local folder store)`,
    '',
    "Data stages and training each in a fresh process, so each peak RSS is that stage's own.",
    '',
    '| images | prepare (img/s) | variants (img/s) | training (img/s) | data worker peak RSS (MiB) | GPU worker peak RSS (MiB) | store bytes / image |',
    '|---|---|---|---|---|---|---|',
    ...points.map(
      (p) =>
        `| ${p.images} | ${f(p.prepareImgPerS)} | ${f(p.variantImgPerS)} | ${f(p.trainImgPerS)} | ${f(p.dataPeakRssMiB)} | ${f(p.trainPeakRssMiB)} | ${f(p.storeBytesPerImage)} |`,
    ),
    points.length > 1
      ? `| growth, last / first (per image) | ${growth(a.prepareImgPerS, z.prepareImgPerS, false)} | ${growth(a.variantImgPerS, z.variantImgPerS, false)} | ${growth(a.trainImgPerS, z.trainImgPerS, false)} | ${(z.dataPeakRssMiB / a.dataPeakRssMiB).toFixed(2)}x for ${(z.images / a.images).toFixed(0)}x the images | ${(z.trainPeakRssMiB / a.trainPeakRssMiB).toFixed(2)}x | ${growth(a.storeBytesPerImage, z.storeBytesPerImage, true)} |`
      : '',
    '',
    '```json vega-lite',
    JSON.stringify(vega),
    '```',
  ];
}

// ---------------------------------------------------------------- runs

const tinySpec = (runs: number, name: string, size = 16, perClass = { train: 8, val: 4 }) => ({
  version: 1,
  name,
  dataset: { source: 'synthetic', classes: 3, perClass, size, seed: 1 },
  variants: ['original'],
  train: [
    {
      model: 'small_cnn',
      on: ['original'],
      epochs: 1,
      batch: 8,
      seed: Array.from({ length: runs }, (_, i) => i + 1),
    },
  ],
  evaluate: { on: ['original'] },
  execution: { runConcurrency: 4 },
});

const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']) =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

interface HistoryStats {
  events: number;
  bytes: number;
  /** workflow task scheduled -> completed, ms, each. */
  taskLatencies: number[];
  /** activity scheduled -> completed, ms, by type. */
  activities: { type: string; ms: number; inputBytes: number }[];
  /** The largest payload in the history (workflow, activity and child inputs and results), bytes. */
  maxPayload: number;
  start: number;
  end: number;
}

async function historyStats(client: Client, workflowId: string): Promise<HistoryStats> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const at = new Map<string, number>();
  const scheduled = new Map<string, { type: string; at: number; inputBytes: number }>();
  const out: HistoryStats = {
    events: events.length,
    bytes: temporal.api.history.v1.History.encode(history).finish().length,
    taskLatencies: [],
    activities: [],
    maxPayload: 0,
    start: ms(events[0]?.eventTime),
    end: ms(events.at(-1)?.eventTime),
  };
  type Payloads = temporal.api.common.v1.IPayloads | null | undefined;
  const size = (p: Payloads) => (p?.payloads ?? []).reduce((n, x) => n + (x.data?.length ?? 0), 0);
  for (const e of events) {
    const id = String(e.eventId);
    for (const p of [
      e.workflowExecutionStartedEventAttributes?.input,
      e.workflowExecutionCompletedEventAttributes?.result,
      e.activityTaskScheduledEventAttributes?.input,
      e.activityTaskCompletedEventAttributes?.result,
      e.startChildWorkflowExecutionInitiatedEventAttributes?.input,
      e.childWorkflowExecutionCompletedEventAttributes?.result,
    ])
      out.maxPayload = Math.max(out.maxPayload, size(p));
    if (e.workflowTaskScheduledEventAttributes) at.set(id, ms(e.eventTime));
    const done = e.workflowTaskCompletedEventAttributes;
    const from = done && at.get(String(done.scheduledEventId));
    if (from !== undefined && from !== null && done) out.taskLatencies.push(ms(e.eventTime) - from);
    const s = e.activityTaskScheduledEventAttributes;
    if (s)
      scheduled.set(id, {
        type: s.activityType?.name ?? '?',
        at: ms(e.eventTime),
        inputBytes: size(s.input),
      });
    const c = e.activityTaskCompletedEventAttributes;
    const a = c && scheduled.get(String(c.scheduledEventId));
    if (a) out.activities.push({ type: a.type, ms: ms(e.eventTime) - a.at, inputBytes: a.inputBytes });
  }
  return out;
}

async function childIds(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId)
    .filter((id): id is string => !!id);
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(0.95 * (xs.length - 1))] ?? NaN;

interface RunsPoint {
  runs: number;
  wall: number;
  studyEvents: number;
  studyKiB: number;
  childEvents: number;
  childKiB: number;
  taskMsMean: number;
  taskMsP95: number;
  idlePerRunS: number;
  reportS: number;
  reportInputKiB: number;
  maxPayloadKiB: number;
}

async function runsPart(): Promise<string[]> {
  const points: RunsPoint[] = [];
  for (const n of list('runs', '3,30,300')) {
    const root = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-scale-runs-'));
    const env = await startScratchEnv(root, 'scale');
    try {
      console.log(`runs: a study of ${n} runs...`);
      const t0 = performance.now();
      const handle = await startStudy(env.client, tinySpec(n, `scale-runs-${n}`), {
        taskQueue: 'scale',
        workflowId: `scale-runs-${n}`,
        workflowOptions: { gpuTaskQueue: 'scale-gpu' },
      });
      await handle.result();
      const wall = (performance.now() - t0) / 1000;
      const study = await historyStats(env.client, handle.workflowId);
      const children = await mapLimit(await childIds(env.client, handle.workflowId), 8, (id) =>
        historyStats(env.client, id),
      );
      // A run's idle time: its child's wall span minus the time its activities were running.
      const idle = children.map((c) => (c.end - c.start - c.activities.reduce((a, x) => a + x.ms, 0)) / 1000);
      const report = study.activities.find((a) => a.type === 'aggregateResults');
      const p: RunsPoint = {
        runs: n,
        wall,
        studyEvents: study.events,
        studyKiB: study.bytes / 1024,
        childEvents: mean(children.map((c) => c.events)),
        childKiB: mean(children.map((c) => c.bytes)) / 1024,
        taskMsMean: mean([study, ...children].flatMap((h) => h.taskLatencies)),
        taskMsP95: p95([study, ...children].flatMap((h) => h.taskLatencies)),
        idlePerRunS: mean(idle),
        reportS: (report?.ms ?? NaN) / 1000,
        reportInputKiB: (report?.inputBytes ?? NaN) / 1024,
        maxPayloadKiB: Math.max(study.maxPayload, ...children.map((c) => c.maxPayload)) / 1024,
      };
      console.log(`  ${JSON.stringify(p)}`);
      points.push(p);
    } finally {
      await env.stop();
      await rm(root, { recursive: true, force: true });
    }
  }
  const [a, z] = [points[0]!, points.at(-1)!];
  const g = (f: (p: RunsPoint) => number) =>
    points.length > 1 ? growth(f(a) / a.runs, f(z) / z.runs, true) : '-';
  const gFlat = (f: (p: RunsPoint) => number) => (points.length > 1 ? growth(f(a), f(z), true) : '-');
  const f1 = (x: number) => x.toFixed(1);
  return [
    '### Study size (tiny runs: 3 classes, 16 px, one epoch; runConcurrency 4; in-process workers)',
    '',
    '| runs | wall (s) | study history: events / KiB | per child: events / KiB | workflow task latency, mean / p95 (ms) | idle per run between activities (s) | report activity (s) | report input (KiB) | largest payload (KiB) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...points.map(
      (p) =>
        `| ${p.runs} | ${f1(p.wall)} | ${p.studyEvents} / ${f1(p.studyKiB)} | ${f1(p.childEvents)} / ${f1(p.childKiB)} | ${p.taskMsMean.toFixed(0)} / ${p.taskMsP95.toFixed(0)} | ${p.idlePerRunS.toFixed(2)} | ${f1(p.reportS)} | ${f1(p.reportInputKiB)} | ${f1(p.maxPayloadKiB)} |`,
    ),
    points.length > 1
      ? `| growth, last / first (per run; per child and latency: as is) | ${g((p) => p.wall)} | ${g((p) => p.studyEvents)} | ${gFlat((p) => p.childEvents)} | ${gFlat((p) => p.taskMsMean)} | ${gFlat((p) => p.idlePerRunS)} | ${g((p) => p.reportS)} | ${g((p) => p.reportInputKiB)} | ${g((p) => p.maxPayloadKiB)} |`
      : '',
    '',
    "The plan reaches the study in pages of at most 256 KiB (`planRuns`), each run's summary stays in the store and the",
    'report input holds one key per run: no payload passes 256 KiB + a key per run. `test/unit/payload-sizes.test.ts`',
    'sizes every payload of the largest study a spec may plan (4,400 runs; `core/spec/history-limits.ts` refuses more).',
  ];
}

// ---------------------------------------------------------------- workers

async function studyOnGpuWorkers(workers: number, runs: number): Promise<number> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-scale-workers-'));
  const env = await startScratchEnv(root, 'scale');
  // The study's GPU queue is served only by worker processes of our own, on the same store folder.
  const procs = Array.from({ length: workers }, () =>
    spawn(
      process.execPath,
      [
        path.join(__dirname, '..', 'bin', 'bgstudy.cjs'),
        'worker',
        '--queue',
        'gpu',
        '--task-queue',
        'scale-ext-gpu',
      ],
      {
        stdio: 'ignore',
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: env.address,
          BGSTUDY_STORE: 'fs',
          BGSTUDY_STORE_DIR: path.join(root, 'store'),
          BGSTUDY_HOME: path.join(root, `home-${Math.random().toString(36).slice(2)}`),
        },
      },
    ),
  );
  try {
    const spec = tinySpec(runs, `scale-workers-${workers}`, 32, { train: 60, val: 20 });
    const t0 = performance.now();
    await (
      await startStudy(
        env.client,
        { ...spec, train: [{ ...spec.train[0]!, epochs: 2 }] },
        {
          taskQueue: 'scale',
          workflowId: `scale-workers-${workers}`,
          workflowOptions: { gpuTaskQueue: 'scale-ext-gpu' },
        },
      )
    ).result();
    return (performance.now() - t0) / 1000;
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(
      procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))),
    );
    await env.stop();
    await rm(root, { recursive: true, force: true });
  }
}

async function workersPart(): Promise<string[]> {
  const runs = Number(opt('worker-runs') ?? 8);
  const rows: string[] = [];
  const perHour: number[] = [];
  for (const w of [1, 2]) {
    console.log(`workers: ${runs} runs on ${w} GPU worker process(es)...`);
    const s = await studyOnGpuWorkers(w, runs);
    perHour.push((runs / s) * 3600);
    rows.push(`| ${w} | ${s.toFixed(1)} | ${perHour.at(-1)!.toFixed(0)} |`);
  }
  return [
    `### GPU-queue workers (${runs} runs: 3 classes, 32 px, 180 train images, 2 epochs; one study, separate worker processes)`,
    '',
    '| GPU workers | wall (s) | runs / hour |',
    '|---|---|---|',
    ...rows,
    `| 2 / 1 | | ${(perHour[1]! / perHour[0]!).toFixed(2)}x (${os.availableParallelism()} cores here: each worker already trains on every core) |`,
  ];
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const stage = opt('stage');
  if (stage) return dataStage(stage, Number(opt('n')), Number(opt('size')), opt('root')!);
  installRuntime();
  const part = opt('part') ?? 'all';
  const parts: [string, () => Promise<string[]>][] = [
    ['data', dataPart],
    ['runs', runsPart],
    ['workers', workersPart],
  ];
  // Each part has its own section of RESULTS.md, so one part can be measured again alone.
  for (const [name, measure] of parts) {
    if (part !== 'all' && part !== name) continue;
    const load0 = os.loadavg()[0]!.toFixed(2);
    const body = await measure();
    const md = [
      `## Scale: ${name} (\`npm run bench:scale -- --part ${name}\`)`,
      '',
      `Measured ${new Date().toISOString()} on ${machineLine()}; command: \`npm run bench:scale -- ${args.join(' ')}\`.`,
      `Load average ${load0} at start, ${os.loadavg()[0]!.toFixed(2)} at end${Number(load0) > 2.5 ? ' (other processes were using the cores: treat as indicative)' : ''}.`,
      '',
      ...body,
    ].join('\n');
    writeSection(`scale-${name}`, md);
    console.log(md);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

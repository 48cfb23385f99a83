/**
 * `npm run bench:quick`: how long the quick study (what `npm start` runs) takes, and where the time goes. It
 * runs the preset under StudyWorkflow on a fresh dev server and store with in-process workers, as `bgstudy run`
 * does, then reads every workflow history of the study (the study and its child runs) and sums each stage:
 * its wall span (first activity scheduled to last completed) and its busy time (the sum of its activities'
 * durations, which overlap when activities run side by side). Run it alone: the figure is meant for a quiet
 * machine. Options: --preset NAME | --spec FILE. Writes the "quick" section of bench/RESULTS.md.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readSpecFile } from '../cli/spec-file';
import { startStudy } from '../client/start-study';
import type { Estimate } from '../core/stats/intervals';
import type { StudyResults } from '../core/report/results';
import { parseStudySpec } from '../core/spec/study-spec';
import { getJson } from '../store/json';
import { installRuntime } from '../workers/runtime';
import { startScratchEnv } from '../workers/scratch-env';
import { machineLine, writeSection } from './results-file';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

/** The stage an activity belongs to, in the order a study runs them. */
const STAGES: [RegExp, string][] = [
  [/^(registerStudy|planRuns|lookupSearchAttributes|registerSearchAttributes)/i, 'plan'],
  [/^prepareDataset/i, 'dataset'],
  [/^(materializeVariant|checkLeaks)/i, 'variants'],
  [/^(trainModel|importModel|finetuneModel)/i, 'training'],
  [/^evaluate/i, 'evaluation'],
  [/^runChallenge/i, 'challenge'],
  [/^computeSaliency/i, 'saliency'],
  [/^(storeRunSummary|aggregateResults)/i, 'report'],
];
const stageOf = (type: string) => STAGES.find(([re]) => re.test(type))?.[1] ?? type;

interface Span {
  stage: string;
  start: number;
  end: number;
}

const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']) =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** Every completed activity of a workflow and, recursively, of its children. */
async function activitySpans(client: Client, workflowId: string): Promise<Span[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, { type: string; at: number }>();
  const spans: Span[] = [];
  const children: string[] = [];
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(id, { type: s.activityType?.name ?? '?', at: ms(e.eventTime) });
    const c = e.activityTaskCompletedEventAttributes;
    const from = c && scheduled.get(String(c.scheduledEventId));
    if (from) spans.push({ stage: stageOf(from.type), start: from.at, end: ms(e.eventTime) });
    const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
    if (child) children.push(child);
  }
  for (const child of children) spans.push(...(await activitySpans(client, child)));
  return spans;
}

async function main(): Promise<void> {
  installRuntime();
  const preset = opt('preset') ?? 'quick';
  const specFile = opt('spec');
  const spec = parseStudySpec(await readSpecFile({ spec: specFile, preset }));
  const label = specFile ? path.basename(specFile) : `preset ${preset}`;
  const work = await mkdtemp(path.join(os.tmpdir(), 'bgstudy-bench-quick-'));
  const load0 = os.loadavg()[0]!.toFixed(2);
  const env = await startScratchEnv(work, 'bench');
  try {
    console.log(`running the ${label} study...`);
    const t0 = performance.now();
    const handle = await startStudy(env.client, spec, {
      taskQueue: 'bench',
      workflowId: 'bench-quick',
      workflowOptions: { gpuTaskQueue: 'bench-gpu' },
    });
    const out = await handle.result();
    const wall = (performance.now() - t0) / 1000;
    const spans = await activitySpans(env.client, handle.workflowId);
    const stages = [...new Set([...STAGES.map(([, s]) => s), ...spans.map((s) => s.stage)])]
      .map((stage) => {
        const of = spans.filter((s) => s.stage === stage);
        if (!of.length) return undefined;
        const span = (Math.max(...of.map((s) => s.end)) - Math.min(...of.map((s) => s.start))) / 1000;
        const busy = of.reduce((a, s) => a + s.end - s.start, 0) / 1000;
        return { stage, n: of.length, span, busy };
      })
      .filter((s) => s !== undefined);
    // what the study found, so a change of the preset's sizes shows whether it stays in Xiao's regime
    const results = out.resultsKey ? await getJson<StudyResults>(env.store, out.resultsKey) : undefined;
    // One seed has no spread to show: its value alone, said so (not a [x, x] interval).
    const found = (results?.seedGroups ?? []).map((g) => {
      const pm = (e: Estimate | null | undefined) =>
        !e
          ? '-'
          : g.seeds.length < 2
            ? `${(100 * e.value).toFixed(1)} (1 seed)`
            : `${(100 * e.value).toFixed(1)} [${(100 * e.lo).toFixed(1)}, ${(100 * e.hi).toFixed(1)}]`;
      return `| ${g.arch} on ${g.trainVariant} | ${g.seeds.length} | ${pm(g.accuracy.original)} | ${pm(g.accuracy.only_bg_t)} | ${pm(g.accuracy.mixed_rand)} | ${pm(g.bgGap)} |`;
    });
    const runs = spec.train.reduce(
      (a, t) => a + t.on.length * (Array.isArray(t.seed) ? t.seed.length : 1),
      0,
    );
    const md = [
      '## The quick study, stage by stage (`npm run bench:quick`)',
      '',
      `Measured ${new Date().toISOString()} on ${machineLine()}; study: ${label} (${runs} training runs), under`,
      `StudyWorkflow on a local dev server with in-process workers and a local file store, as \`npm start\` runs it`,
      `(without the first-run setup); training backend chosen automatically. Load average ${load0} at start,`,
      `${os.loadavg()[0]!.toFixed(2)} at end${Number(load0) > 1.5 ? ' (other processes were using the cores)' : ''}.`,
      '',
      `**Wall time: ${wall.toFixed(1)} s** (goal < 300 s on 2 cores).`,
      '',
      '| stage | activities | wall span (s) | busy (s, summed over parallel activities) |',
      '|---|---|---|---|',
      ...stages.map((s) => `| ${s.stage} | ${s.n} | ${s.span.toFixed(1)} | ${s.busy.toFixed(1)} |`),
      '',
      'What it found (accuracy in %, mean and 95% t interval over seeds):',
      '',
      '| trained | seeds | original | only_bg_t | mixed_rand | BG-Gap |',
      '|---|---|---|---|---|---|',
      ...found,
    ].join('\n');
    writeSection('quick', md);
    console.log(md);
  } finally {
    await env.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

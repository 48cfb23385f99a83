import cliProgress from 'cli-progress';
import { etaOf, type RunStatus } from '../client/progress-details';
import type { StudyProgress } from '../workflows';

/** One line per stage ("runs       3/8 ETA 2m10s") and one per run in flight: what `status` and logs print. */
export function progressLines(p: StudyProgress, runs: RunStatus[], now = Date.now()): string[] {
  const lines = Object.entries(p.stages).map(([stage, s]) => {
    const eta = stage === p.stage ? etaOf(p, runs, now) : '';
    return `${stage.padEnd(10)} ${s.done}/${s.total}${eta ? ` ${eta}` : ''}`;
  });
  for (const r of runs) lines.push(`  ${r.label}: ${r.detail}`);
  return lines;
}

const RUN_STEPS = 1000;

/**
 * Shows a study's progress: on a terminal, one bar per stage (the current one with its ETA) and one per
 * training or evaluation in flight, named by what it trains; elsewhere (CI logs, pipes) plain lines, printed
 * when a stage moves or a run changes phase, not on every batch.
 */
export class ProgressView {
  private readonly multi: cliProgress.MultiBar | undefined;
  private readonly stageBars = new Map<string, cliProgress.SingleBar>();
  private readonly runBars = new Map<string, cliProgress.SingleBar>();
  private printed = new Set<string>();

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    if (out.isTTY) {
      this.multi = new cliProgress.MultiBar(
        {
          format: ' {name} [{bar}] {progress} {detail}',
          hideCursor: true,
          clearOnComplete: false,
          autopadding: true,
          barsize: 24,
          stream: out,
        },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  update(p: StudyProgress, runs: RunStatus[]): void {
    if (this.multi) this.draw(this.multi, p, runs);
    else this.print(p, runs);
  }

  private draw(multi: cliProgress.MultiBar, p: StudyProgress, runs: RunStatus[]): void {
    const width = Math.max(10, ...runs.map((r) => r.label.length));
    for (const [stage, s] of Object.entries(p.stages)) {
      let bar = this.stageBars.get(stage);
      const payload = {
        name: stage.padEnd(width),
        progress: `${s.done}/${s.total}`,
        detail: stage === p.stage ? etaOf(p, runs) : '',
      };
      if (!bar) {
        bar = multi.create(s.total, s.done, payload);
        this.stageBars.set(stage, bar);
      }
      bar.setTotal(s.total);
      bar.update(s.done, payload);
    }
    const live = new Set(runs.map((r) => r.id));
    for (const [id, bar] of this.runBars)
      if (!live.has(id)) {
        multi.remove(bar);
        this.runBars.delete(id);
      }
    for (const r of runs) {
      const payload = {
        name: r.label.padEnd(width),
        progress: `${Math.round(r.fraction * 100)}%`.padStart(4),
        detail: r.detail,
      };
      const value = Math.round(r.fraction * RUN_STEPS);
      const bar = this.runBars.get(r.id);
      if (bar) bar.update(value, payload);
      else this.runBars.set(r.id, multi.create(RUN_STEPS, value, payload));
    }
  }

  private print(p: StudyProgress, runs: RunStatus[]): void {
    // Keys without batch numbers: a line is printed when a stage moves or a run changes phase.
    const stages = Object.entries(p.stages)
      .map(([k, s]) => `${k} ${s.done}/${s.total}`)
      .join(', ');
    const keys = [`[${p.stage}] ${stages}`, ...runs.map((r) => `${r.id} ${r.phase}`)];
    const eta = etaOf(p, runs);
    if (!this.printed.has(keys[0]!)) this.out.write(`${keys[0]}${eta ? ` | ${eta}` : ''}\n`);
    runs.forEach((r, i) => {
      if (!this.printed.has(keys[i + 1]!)) this.out.write(`  ${r.label}: ${r.detail}\n`);
    });
    this.printed = new Set(keys);
  }

  stop(): void {
    this.multi?.stop();
  }
}

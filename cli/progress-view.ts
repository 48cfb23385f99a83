import cliProgress from 'cli-progress';
import type { StudyProgress } from '../workflows';

/**
 * Shows a study's progress query: one bar per stage on a terminal (the current stage carries the ETA and
 * what each running run is doing), one line per change elsewhere (CI logs, pipes).
 */
export class ProgressView {
  private readonly multi: cliProgress.MultiBar | undefined;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private lastLine = '';

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    if (out.isTTY) {
      this.multi = new cliProgress.MultiBar(
        {
          format: ' {stage} [{bar}] {value}/{total} {detail}',
          hideCursor: true,
          clearOnComplete: false,
          stream: out,
        },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  /** `details`: first the ETA of the current stage, then one line per running run. */
  update(p: StudyProgress, details: string[]): void {
    const [eta = '', ...runs] = details;
    if (this.multi) {
      for (const [stage, s] of Object.entries(p.stages)) {
        let bar = this.bars.get(stage);
        if (!bar) {
          bar = this.multi.create(s.total, 0, { stage: stage.padEnd(10), detail: '' });
          this.bars.set(stage, bar);
        }
        bar.setTotal(s.total);
        bar.update(s.done, { detail: stage === p.stage ? [eta, ...runs].filter(Boolean).join(' | ') : '' });
      }
      return;
    }
    const stages = Object.entries(p.stages)
      .map(([k, s]) => `${k} ${s.done}/${s.total}`)
      .join(', ');
    // Heartbeat numbers change every batch: print a line when the stages move, not on every batch.
    const line = `[${p.stage}] ${stages}`;
    if (line !== this.lastLine) this.out.write(`${[line, eta, ...runs].filter(Boolean).join(' | ')}\n`);
    this.lastLine = line;
  }

  stop(): void {
    this.multi?.stop();
  }
}

import cliProgress from 'cli-progress';
import type { ShardProgress } from '../core/data/shard-writer';

/** Shard progress of a prepare or materialize: a bar per split on a terminal, a line per shard elsewhere. */
export function shardProgressPrinter(
  label: string,
  out: NodeJS.WriteStream = process.stderr,
): { onProgress: (p: ShardProgress) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | undefined;
  let current = '';
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onProgress: (p) => {
      if (!out.isTTY) {
        out.write(
          `${label} ${p.split}: shard ${p.shardsDone}/${p.shards} (${p.imagesDone} images)${p.reused ? ' reused' : ''}\n`,
        );
        return;
      }
      if (current !== p.split) {
        stop();
        current = p.split;
        bar = new cliProgress.SingleBar(
          {
            format: ` ${label} ${p.split.padEnd(7)} [{bar}] {value}/{total} shards`,
            stream: out,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.shards, 0);
      }
      bar?.update(p.shardsDone);
      if (p.shardsDone === p.shards) stop();
    },
    stop,
  };
}

import { activityInfo, cancellationSignal, heartbeat, log } from '@temporalio/activity';
import type { ShardProgress } from '../core/data/shard-writer';

/** Heartbeat details of the data activities: the last finished shard (finished shards are also found in the store). */
export interface ShardCursor {
  split: string;
  shardsDone: number;
  shards: number;
}

/**
 * An onProgress callback that heartbeats after every shard and stops at a shard boundary when the activity is
 * cancelled. A retry resumes by finding the finished shards in the store; the cursor is logged so the resume
 * point shows in the worker log.
 */
export function shardHeartbeat(what: string): (p: ShardProgress) => void {
  const previous = activityInfo().heartbeatDetails as ShardCursor | undefined;
  if (previous?.split)
    log.info(`${what}: resuming after ${previous.split} shard ${previous.shardsDone}/${previous.shards}`);
  return (p) => {
    const cursor: ShardCursor = { split: p.split, shardsDone: p.shardsDone, shards: p.shards };
    heartbeat(cursor);
    const signal = cancellationSignal();
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(`${what} cancelled`);
  };
}

import { activityInfo, heartbeat, log } from '@temporalio/activity';
import type { ShardProgress } from '../core/data/shard-writer';
import { stopSignal } from './attempt-guard';
import { resumeCursor, shardCursorSchema, type ShardCursor } from './cursors';

/**
 * An onProgress callback that heartbeats after every shard and stops at a shard boundary when the activity is
 * cancelled or cut off from Temporal (./attempt-guard.ts). A retry resumes by finding the finished shards in the store; the cursor is logged so the resume
 * point shows in the worker log.
 */
export function shardHeartbeat(
  what: string,
  beat: (details: unknown) => void = heartbeat,
): (p: ShardProgress) => void {
  const details: unknown = activityInfo().heartbeatDetails;
  const previous = resumeCursor(shardCursorSchema, details, (issues) => {
    log.warn(
      `${what}: previous heartbeat is not a shard cursor (${issues}); finished shards are found in the store`,
    );
  });
  if (previous)
    log.info(`${what}: resuming after ${previous.split} shard ${previous.shardsDone}/${previous.shards}`);
  return (p) => {
    const cursor: ShardCursor = { split: p.split, shardsDone: p.shardsDone, shards: p.shards };
    beat(cursor);
    const signal = stopSignal();
    if (signal?.aborted)
      throw signal.reason instanceof Error ? signal.reason : new Error(`${what} cancelled`);
  };
}

/** How often keepingAlive repeats the last heartbeat (well inside any heartbeat timeout a study would set). */
export const KEEP_ALIVE_MS = 15_000;

/**
 * Runs `work`, repeating the last details it sent through `beat` every `everyMs`. Work that is alive but slower
 * than the heartbeat timeout between two progress points (GrabCut on a shard of large images, a slow source) is
 * then not taken for a dead worker and restarted over and over; a killed worker still stops heartbeating, and
 * work that blocks the event loop (nothing here does: decoding and GrabCut run off the main thread) still times out.
 */
export async function keepingAlive<T>(
  work: (beat: (details: unknown) => void) => Promise<T>,
  everyMs = KEEP_ALIVE_MS,
): Promise<T> {
  let last: unknown = activityInfo().heartbeatDetails;
  const beat = (details: unknown) => {
    last = details;
    heartbeat(details);
  };
  const timer = setInterval(() => heartbeat(last), everyMs);
  try {
    return await work(beat);
  } finally {
    clearInterval(timer);
  }
}

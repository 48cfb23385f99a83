import { z } from 'zod';

/**
 * Heartbeat details are resume cursors: a retry reads back what the last attempt sent. They are validated, not
 * cast: details from another code version or another activity start the work over instead of resuming wrongly.
 */

const count = z.number().int().min(0);

/** Data activities: the last finished shard (finished shards are also found in the store). */
export const shardCursorSchema = z.object({ split: z.string(), shardsDone: count, shards: count });
export type ShardCursor = z.infer<typeof shardCursorSchema>;

/** The previous attempt's cursor when it fits `schema`; undefined when there is none or it does not fit. */
export function resumeCursor<T>(
  schema: z.ZodType<T>,
  details: unknown,
  onMismatch: (issues: string) => void = () => {},
): T | undefined {
  if (details === undefined || details === null) return undefined;
  const parsed = schema.safeParse(details);
  if (parsed.success) return parsed.data;
  onMismatch(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  return undefined;
}

import type { SkippedFile } from './manifest';

/** Entries listed one by one in a skip list; the rest are counted in one closing entry (as box tables do). */
export const MAX_LISTED_SKIPS = 100;

/**
 * A list of skipped entries whose memory does not grow with the number of entries: the first
 * MAX_LISTED_SKIPS are kept by name, the rest only counted. An archive of a million refused links costs the
 * same as one of a hundred.
 */
export class SkipList {
  private readonly listed: SkippedFile[] = [];
  private more = 0;

  constructor(private readonly what: string) {}

  add(entry: SkippedFile): void {
    if (this.listed.length < MAX_LISTED_SKIPS) this.listed.push(entry);
    else this.more++;
  }

  get count(): number {
    return this.listed.length + this.more;
  }

  /** The listed entries, then (when some were only counted) one entry saying how many more there were. */
  toList(source: string): SkippedFile[] {
    if (this.more === 0) return [...this.listed];
    return [
      ...this.listed,
      {
        file: source,
        reason: `${this.more} more ${this.what} (only the first ${MAX_LISTED_SKIPS} are listed)`,
      },
    ];
  }
}

import type { ItemMeta, SkippedFile } from '../data/manifest';
import type { MaskFlag } from './mask-checks';
import type { MaskChecksSpec, MaskSourceName } from './mask-spec';

/** One mask source's findings for one image. */
export interface MaskSourceInfo {
  /** Foreground share. */
  fg: number;
  components: number;
  flags: MaskFlag[];
  /** IoU against the provided mask (absent for `provided` itself, and when there is none). */
  iou?: number;
  /** The policy inverted this mask (flagged all-borders: likely swapped polarity). */
  inverted?: boolean;
  /** This image had no usable provided mask and carries this one (`masks.fallback`). */
  fallback?: boolean;
  /** The source could not make a mask for this image (e.g. GrabCut failed), and why. */
  error?: string;
  /** For a flagged mask: the file it came from (the mask file, or the image / box annotation it was made from). */
  file?: string;
}

/** Per image: every mask source computed for it. */
export type MaskInfo = Partial<Record<MaskSourceName, MaskSourceInfo>>;

export interface IouStats {
  n: number;
  mean: number;
  median: number;
  min: number;
  /** 10th percentile: the bad tail. */
  p10: number;
}

export interface MaskSourceSummary {
  source: MaskSourceName;
  /** Images this source made a mask for. */
  masks: number;
  /** Images it could not make one for (see errors in the items). */
  errors: number;
  meanFg: number;
  /** Masks carrying each flag. */
  flags: Partial<Record<MaskFlag, number>>;
  /** IoU against the provided masks, over images that have both. */
  iou?: IouStats;
}

export interface FlaggedMask {
  id: string;
  /** The mask file, or the image or annotation the mask was made from. */
  file?: string;
  source: MaskSourceName;
  flags: MaskFlag[];
  /** For the mask the dataset uses: what the policy did; compared sources are only reported. */
  action: 'kept' | 'inverted' | 'skipped' | 'reported';
}

/** The masks section of a dataset manifest (all flagged masks) and of PreparedDataset (the first few). */
export interface MaskSummary {
  /** The mask the shards carry. */
  use: MaskSourceName;
  sources: MaskSourceName[];
  /** Where boxes came from (`voc-xml`, `csv`, `json`, `mask`), when a box-based source was computed. */
  boxes?: string;
  grabcut?: { iterations: number; margin: number };
  checks: MaskChecksSpec;
  perSource: MaskSourceSummary[];
  flaggedCount: number;
  flagged: FlaggedMask[];
  notesCount: number;
  notes: { id: string; note: string }[];
}

function iouStats(xs: number[]): IouStats | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return {
    n: s.length,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    median: q(0.5),
    min: s[0]!,
    p10: q(0.1),
  };
}

/** Aggregates the per-image mask findings of a dataset's items and mask-skipped images. */
export function summarizeMasks(args: {
  use: MaskSourceName;
  sources: MaskSourceName[];
  boxes?: string;
  grabcut?: { iterations: number; margin: number };
  checks: MaskChecksSpec;
  items: ItemMeta[];
  skipped: SkippedFile[];
}): MaskSummary {
  const rows: { id: string; masks: MaskInfo; skipped: boolean }[] = [
    // an item without `masks` had only its provided mask, unflagged (see makeMaskedBatch)
    ...args.items.map((i) => ({
      id: i.id,
      masks: i.masks ?? { provided: { fg: i.fgFraction, components: 1, flags: [] } },
      skipped: false,
    })),
    ...args.skipped
      .filter((s) => s.masks)
      .map((s) => ({ id: s.id ?? s.file, masks: s.masks!, skipped: true })),
  ];
  const perSource: MaskSourceSummary[] = args.sources.map((source) => {
    const infos = rows.map((r) => r.masks[source]).filter((m): m is MaskSourceInfo => m !== undefined);
    const made = infos.filter((m) => m.error === undefined);
    const flags: Partial<Record<MaskFlag, number>> = {};
    for (const m of made) for (const f of m.flags) flags[f] = (flags[f] ?? 0) + 1;
    const iou = iouStats(made.flatMap((m) => (m.iou === undefined ? [] : [m.iou])));
    return {
      source,
      masks: made.length,
      errors: infos.length - made.length,
      meanFg: made.reduce((a, m) => a + m.fg, 0) / Math.max(1, made.length),
      flags,
      ...(iou ? { iou } : {}),
    };
  });
  const flagged: FlaggedMask[] = [];
  for (const r of rows) {
    for (const source of args.sources) {
      const m = r.masks[source];
      if (!m || m.flags.length === 0) continue;
      const action =
        source !== args.use && !m.fallback
          ? 'reported'
          : r.skipped
            ? 'skipped'
            : m.inverted
              ? 'inverted'
              : 'kept';
      flagged.push({ id: r.id, ...(m.file ? { file: m.file } : {}), source, flags: m.flags, action });
    }
  }
  const notes = args.items.flatMap((i) => (i.notes ?? []).map((note) => ({ id: i.id, note })));
  return {
    use: args.use,
    sources: args.sources,
    ...(args.boxes ? { boxes: args.boxes } : {}),
    ...(args.grabcut ? { grabcut: args.grabcut } : {}),
    checks: args.checks,
    perSource,
    flaggedCount: flagged.length,
    flagged,
    notesCount: notes.length,
    notes,
  };
}

/** The summary with at most `n` flagged masks and notes listed (for Temporal payloads and reports). */
export function truncateMaskSummary(s: MaskSummary, n = 20): MaskSummary {
  return { ...s, flagged: s.flagged.slice(0, n), notes: s.notes.slice(0, n) };
}

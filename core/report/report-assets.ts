import sharp from 'sharp';
import type { DataManifest } from '../data/manifest';
import { allItems } from '../data/manifest-items';
import type { Sample } from '../data/sample';
import { openSampleSource } from '../data/sample-source';
import type { ArtifactStore } from '../../store/artifact-store';
import { getJson } from '../../store/json';
import type { StudyResults } from './results';

/** Images the HTML report embeds, as data: URIs, read from the store once per rendering. */
export interface ReportAssets {
  /** The same val images (one per class, by id) under every variant; null when nothing could be read. */
  samples: {
    ids: { id: string; className: string }[];
    rows: { variant: string; images: (string | null)[] }[];
  } | null;
  /** Saliency grid key -> PNG data URI and pixel size (null when missing from the store). */
  saliency: Record<string, EmbeddedImage | null>;
  /** What could not be loaded, shown in the report. */
  problems: string[];
}

export interface EmbeddedImage {
  src: string;
  width: number;
  height: number;
}

export const EMPTY_ASSETS: ReportAssets = { samples: null, saliency: {}, problems: [] };

const MAX_SIDE = 112;

/** One sample as a PNG data URI, shrunk to at most MAX_SIDE (small images stay sharp through CSS pixelation). */
export async function sampleDataUri(s: Sample): Promise<string> {
  let img = sharp(Buffer.from(s.rgb), { raw: { width: s.width, height: s.height, channels: 3 } });
  if (Math.max(s.width, s.height) > MAX_SIDE)
    img = img.resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside' });
  const png = await img.png({ compressionLevel: 9 }).toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** The first val item of each class (up to `perClass` each, `max` in all), as positions in split order. */
export function pickSamples(
  items: { id: string; label: number }[],
  classes: number,
  perClass = 1,
  max = 12,
): { index: number; id: string; label: number }[] {
  const taken = new Map<number, number>();
  const out: { index: number; id: string; label: number }[] = [];
  items.forEach((it, index) => {
    const n = taken.get(it.label) ?? 0;
    if (n >= perClass || it.label >= classes) return;
    taken.set(it.label, n + 1);
    out.push({ index, id: it.id, label: it.label });
  });
  return out.sort((a, b) => a.label - b.label || a.index - b.index).slice(0, max);
}

async function readAt(
  src: { iterate(o: { skip: number }): AsyncIterable<Sample> },
  index: number,
): Promise<Sample | undefined> {
  // skip jumps over whole shards without reading them, so this loads one shard per sample at most
  for await (const s of src.iterate({ skip: index })) return s;
  return undefined;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

/** A saliency grid PNG (SaliencyOutput.gridKey) as a data URI with its size (from the IHDR chunk). */
export async function saliencyImage(store: ArtifactStore, key: string): Promise<EmbeddedImage> {
  const body = await store.get(key);
  if (body.length < 24 || !body.subarray(0, 4).equals(PNG_SIGNATURE)) throw new Error(`${key} is not a PNG`);
  return {
    src: `data:image/png;base64,${body.toString('base64')}`,
    width: body.readUInt32BE(16),
    height: body.readUInt32BE(20),
  };
}

/**
 * Reads a few val samples of every variant (the same ids across variants, picked from the first variant) and
 * every saliency grid PNG. Missing or unreadable artifacts become `problems`, never a failed report.
 */
export async function loadReportAssets(
  store: ArtifactStore,
  results: StudyResults,
  options: { perClass?: number; maxSamples?: number } = {},
): Promise<ReportAssets> {
  const problems: string[] = [];
  let samples: ReportAssets['samples'] = null;
  // one row per label (the first pairing), in the accuracy table's column order
  const rank = (label: string) => {
    const i = results.columns.indexOf(label);
    return i < 0 ? results.columns.length : i;
  };
  const withKeys = results.variants
    .filter((v, i, all) => v.manifestKey && all.findIndex((w) => w.label === v.label) === i)
    .sort((a, b) => rank(a.label) - rank(b.label));
  if (withKeys.length) {
    try {
      const first = await getJson<DataManifest>(store, withKeys[0]!.manifestKey!);
      const firstVal = first.splits.val;
      const picked = pickSamples(
        firstVal ? await allItems(store, firstVal) : [],
        first.classes.length,
        options.perClass ?? 1,
        options.maxSamples ?? 12,
      );
      const rows: NonNullable<ReportAssets['samples']>['rows'] = [];
      for (const v of withKeys) {
        try {
          const src = await openSampleSource(store, v.manifestKey!, 'val', { cacheBytes: 64 * 1024 * 1024 });
          const val = src.manifest.splits.val;
          const items = val ? await allItems(store, val) : [];
          const images: (string | null)[] = [];
          for (const p of picked) {
            // variants keep the dataset's ids and order; look the id up in case a variant skipped images
            const at = items[p.index]?.id === p.id ? p.index : items.findIndex((it) => it.id === p.id);
            const s = at >= 0 ? await readAt(src, at) : undefined;
            images.push(s && s.id === p.id ? await sampleDataUri(s) : null);
          }
          rows.push({ variant: v.label, images });
        } catch (err) {
          problems.push(`samples of ${v.label} (${v.manifestKey}): ${(err as Error).message}`);
        }
      }
      samples = {
        ids: picked.map((p) => ({ id: p.id, className: first.classes[p.label] ?? String(p.label) })),
        rows,
      };
    } catch (err) {
      problems.push(`sample grid: ${(err as Error).message}`);
    }
  }
  const saliency: Record<string, EmbeddedImage | null> = {};
  for (const row of results.rows)
    for (const s of row.saliency) {
      if (s.gridKey in saliency) continue;
      try {
        saliency[s.gridKey] = await saliencyImage(store, s.gridKey);
      } catch (err) {
        saliency[s.gridKey] = null;
        problems.push(`saliency grid ${s.gridKey}: ${(err as Error).message}`);
      }
    }
  return { samples, saliency, problems };
}

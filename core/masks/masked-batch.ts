import path from 'node:path';
import type { ArtifactStore } from '../../store/artifact-store';
import {
  BadInputError,
  type DecodeLimits,
  decodeMask,
  decodeRgb,
  resizeMask,
  resizeRgb,
} from '../data/decode';
import type { ItemMeta, SkippedFile } from '../data/manifest';
import { maskBBox } from '../data/mask-stats';
import type { Sample } from '../data/sample';
import { mapLimit } from '../../common/map-limit';
import type { ShardBatch } from '../data/shard-writer';
import { type Box, boxAfterCover, boxMask, clipBox } from './boxes';
import type { GrabCutJob } from './grabcut';
import { cachedGrabCut } from './grabcut-cache';
import type { GrabCutPool } from './grabcut-pool';
import { checkMask, FLAG_MEANING, invertMask, type MaskFlag, maskIoU, UNUSABLE_FLAGS } from './mask-checks';
import { maskSourcesOf, type MaskSourceName, type MaskSpec } from './mask-spec';
import type { MaskInfo, MaskSourceInfo } from './mask-summary';

/** One image of a real dataset as the mask stage sees it: its files, and its boxes when annotations gave any. */
export interface MaskedEntry {
  id: string;
  label: number;
  image: string;
  /** The provided mask file, when the source has masks. */
  mask?: string;
  /** Boxes from annotations (voc-xml, csv, json), in the coordinates of the image file. */
  boxes?: Box[];
  /** The annotation the boxes came from (named in reports). */
  boxFile?: string;
}

export interface MaskBatchContext {
  spec: MaskSpec;
  /** Resize (cover, centre crop) to this square side. */
  size?: number;
  /** Where GrabCut batches are cached (content-keyed); without it they are computed every time. */
  store?: ArtifactStore;
  /** The GrabCut pool (created on first use by the caller). */
  grabcut: () => GrabCutPool;
  /** Images decoded at once. */
  inFlight?: number;
  /** Resource limits of the source spec (maxPixels), for images and masks. */
  limits?: DecodeLimits;
}

interface Decoded {
  e: MaskedEntry;
  width: number;
  height: number;
  rgb: Uint8Array;
  /** The provided mask, resized; undefined when there is none or it is unusable (see `providedInfo`). */
  provided?: Uint8Array;
  providedInfo?: MaskSourceInfo;
  boxes?: Box[];
  notes: string[];
}

const LEGACY_REASON: Partial<Record<MaskFlag, string>> = {
  empty: 'mask has no foreground pixels',
  full: 'mask has no background pixels (all foreground)',
};

const describe = (flags: MaskFlag[]) =>
  flags.map((f) => LEGACY_REASON[f] ?? `${f}: ${FLAG_MEANING[f]}`).join('; ');

/**
 * Decodes a shard's images and makes, checks and compares their masks: the provided ones, GrabCut from the boxes
 * (cached by content, on worker threads), the filled boxes. The samples carry the `use` source's mask; every
 * image's findings go into its manifest item (`masks`, `notes`); unusable or (by policy) flagged images are
 * skipped with a reason naming the file. Never throws for bad input.
 */
export async function makeMaskedBatch(entries: MaskedEntry[], ctx: MaskBatchContext): Promise<ShardBatch> {
  const { spec } = ctx;
  const skipped: SkippedFile[] = [];
  const decoded: Decoded[] = [];
  const results = await mapLimit(entries, ctx.inFlight ?? 4, (e) => decodeEntry(e, ctx));
  for (const r of results) {
    if ('skipped' in r) skipped.push(r.skipped);
    else decoded.push(r);
  }
  const needs = (s: MaskSourceName) => spec.use === s || spec.compare.includes(s);
  const fromMask = !spec.boxes || spec.boxes.format === 'mask';

  // the provided masks first: they may be inverted by policy, and may give the boxes
  for (const d of decoded) {
    if (!d.provided) continue;
    const c = checkMask(d.provided, d.width, d.height, spec.checks);
    d.providedInfo = {
      fg: c.fg,
      components: c.components,
      flags: c.flags,
      ...(c.flags.length ? { file: d.e.mask } : {}),
    };
    if (spec.checks.policy === 'invert' && c.flags.includes('all-borders')) {
      d.provided = invertMask(d.provided);
      d.providedInfo.inverted = true;
    }
    if (fromMask && (needs('box') || needs('grabcut')) && !c.flags.some((f) => UNUSABLE_FLAGS.includes(f)))
      d.boxes = [maskBBox(d.provided, d.width, d.height)];
  }

  // an image without a usable provided mask carries the fallback source's mask (masks.fallback)
  const usable = (d: Decoded) =>
    d.provided !== undefined && !d.providedInfo?.flags.some((f) => UNUSABLE_FLAGS.includes(f));
  const useOf = (d: Decoded): MaskSourceName =>
    spec.fallback !== undefined && !usable(d) ? spec.fallback : spec.use;
  const computes = (d: Decoded, s: MaskSourceName) => needs(s) || useOf(d) === s;

  const grab = new Map<Decoded, { mask?: Uint8Array; error?: string }>();
  if (needs('grabcut') || spec.fallback === 'grabcut') {
    const todo = decoded.filter((d) => d.boxes?.length && computes(d, 'grabcut'));
    const jobs: GrabCutJob[] = todo.map((d) => ({
      width: d.width,
      height: d.height,
      rgb: d.rgb,
      boxes: d.boxes!,
      params: spec.grabcut,
    }));
    const { results: out } = await cachedGrabCut(ctx.store, ctx.grabcut, jobs);
    todo.forEach((d, i) => grab.set(d, out[i]!));
  }

  const samples: Sample[] = [];
  const extras: Partial<ItemMeta>[] = [];
  const sources = (d: Decoded) =>
    maskSourcesOf(spec, d.e.mask !== undefined).filter((s) => s === 'provided' || computes(d, s));
  for (const d of decoded) {
    const info: MaskInfo = {};
    const masks: Partial<Record<MaskSourceName, Uint8Array>> = {};
    for (const s of sources(d)) {
      if (s === 'provided') {
        if (d.providedInfo) info.provided = d.providedInfo;
        if (d.provided && !d.providedInfo?.flags.some((f) => UNUSABLE_FLAGS.includes(f)))
          masks.provided = d.provided;
        continue;
      }
      let mask: Uint8Array | undefined;
      let error: string | undefined;
      if (!d.boxes?.length) error = 'no usable box';
      else if (s === 'box') mask = boxMask(d.boxes, d.width, d.height);
      else ({ mask, error } = grab.get(d) ?? { error: 'GrabCut was not run' });
      if (!mask) {
        info[s] = { fg: 0, components: 0, flags: [], error: `${s}: ${error}` };
        continue;
      }
      const c = checkMask(mask, d.width, d.height, spec.checks);
      info[s] = {
        fg: c.fg,
        components: c.components,
        flags: c.flags,
        ...(c.flags.length ? { file: d.e.boxFile ?? d.e.image } : {}),
      };
      masks[s] = mask;
    }
    if (masks.provided)
      for (const s of sources(d))
        if (s !== 'provided' && masks[s]) info[s]!.iou = maskIoU(masks[s], masks.provided);

    const use = useOf(d);
    if (use !== spec.use && info[use]) info[use].fallback = true;
    const used = info[use];
    const file = use === 'provided' && d.e.mask ? d.e.mask : d.e.image;
    const skip = (reason: string) => skipped.push({ file, reason, id: d.e.id, masks: info });
    if (!used) {
      skip(`no ${use} mask`);
      continue;
    }
    if (used.error !== undefined) {
      skip(used.error);
      continue;
    }
    if (used.flags.includes('size-mismatch')) {
      skip(d.notes.find((n) => n.startsWith('mask is')) ?? describe(used.flags));
      continue;
    }
    if (used.flags.some((f) => UNUSABLE_FLAGS.includes(f))) {
      skip(`${use === 'provided' ? '' : `${use} `}${describe(used.flags)}`);
      continue;
    }
    if (used.flags.length && spec.checks.policy === 'skip') {
      skip(`mask check (${use}): ${describe(used.flags)}; policy skip`);
      continue;
    }
    samples.push({
      id: d.e.id,
      label: d.e.label,
      width: d.width,
      height: d.height,
      rgb: d.rgb,
      mask: masks[use]!,
    });
    const notes = d.notes.filter((n) => !n.startsWith('mask is'));
    // a clean provided mask alone says nothing fgFraction does not: left out, it keeps big manifests small
    const plain = Object.keys(info).length === 1 && info.provided?.flags.length === 0;
    extras.push({ ...(plain ? {} : { masks: info }), ...(notes.length ? { notes } : {}) });
  }
  return { samples, extras, skipped };
}

async function decodeEntry(
  e: MaskedEntry,
  ctx: MaskBatchContext,
): Promise<Decoded | { skipped: SkippedFile }> {
  const { spec, size } = ctx;
  try {
    const img = await decodeRgb(e.image, ctx.limits);
    const { width, height } = img;
    const notes: string[] = [];
    let provided: Uint8Array | undefined;
    let providedInfo: MaskSourceInfo | undefined;
    if (e.mask) {
      const raw = await decodeMask(e.mask, ctx.limits);
      if (raw.width !== width || raw.height !== height) {
        notes.push(
          `mask is ${raw.width}x${raw.height} but its image ${path.basename(e.image)} is ${width}x${height}`,
        );
        providedInfo = { fg: 0, components: 0, flags: ['size-mismatch'], file: e.mask };
      } else provided = raw.mask;
    }
    let boxes: Box[] | undefined;
    if (e.boxes) {
      boxes = [];
      for (const b of e.boxes) {
        const c = clipBox(b, width, height);
        if (c.note) notes.push(`${e.boxFile ? `${e.boxFile}: ` : ''}${c.note}`);
        if (c.box) boxes.push(c.box);
      }
    }
    let rgb = img.rgb;
    if (size && (width !== size || height !== size)) {
      rgb = await resizeRgb(rgb, width, height, size);
      if (provided) provided = await resizeMask(provided, width, height, size);
      if (boxes) {
        const n = boxes.length;
        boxes = boxes
          .map((b) => boxAfterCover(b, width, height, size))
          .filter((b): b is Box => b !== undefined);
        if (boxes.length < n)
          notes.push(`${n - boxes.length} box(es) fall outside the centre crop to ${size}x${size}`);
      }
    }
    if (boxes && boxes.length === 0 && spec.use !== 'provided')
      return {
        skipped: {
          file: e.boxFile ?? e.image,
          reason: `no usable box: ${notes.join('; ') || 'none given'}`,
          id: e.id,
        },
      };
    return {
      e,
      width: size ?? width,
      height: size ?? height,
      rgb,
      provided,
      providedInfo,
      boxes,
      notes,
    };
  } catch (err) {
    if (err instanceof BadInputError) return { skipped: { file: err.file, reason: err.reason } };
    throw err;
  }
}

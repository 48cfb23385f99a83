import { SpecValidationError } from '../../common/errors';
import type { ItemMeta } from './manifest';
import type { SyntheticSource } from './source-spec';
import { drawSynthetic, syntheticClassNames } from './synthetic';
import { BG_FAMILIES } from './synthetic-backgrounds';

/**
 * Context labels of a context head (core/ml/context-head.ts): the label names (the head's outputs, in order) and,
 * per image id of the dataset, the index of its label. A variant's image takes the label of the dataset image
 * whose background it shows (`bgFrom` for a paired variant, else its own id): see `contextOfItems`.
 */
export interface ContextLabels {
  names: string[];
  byId: Map<string, number>;
  /** Where the labels came from, for error messages: a file name or "synthetic background". */
  origin: string;
}

/** Synthetic `background`: the background family the generator drew (recorded in the dataset manifest). */
export function backgroundContext(items: readonly ItemMeta[]): ContextLabels {
  const names = BG_FAMILIES.map((f) => f.name);
  const byId = new Map<string, number>();
  for (const item of items) {
    const k = item.bgFamily === undefined ? -1 : names.indexOf(item.bgFamily);
    if (k < 0)
      throw new Error(`dataset item ${item.id} records no known background family (${item.bgFamily})`);
    byId.set(item.id, k);
  }
  return { names, byId, origin: 'synthetic background family' };
}

/** `train/03_star/000012` -> its unit (index * K + label), the generator's own numbering (core/data/synthetic.ts). */
function unitOf(id: string, classes: number): number {
  const m = /^train\/(\d+)_[^/]+\/(\d+)$/.exec(id);
  if (!m) throw new Error(`not a synthetic train image id: ${id}`);
  return Number(m[2]) * classes + Number(m[1]);
}

/**
 * Synthetic `cooccurring`: the class of the co-occurring object drawn beside the image's object, or `none`. Not
 * in the manifest, so recomputed: the generator is a pure function of (spec, split, unit), and the id checks
 * that the unit is the image.
 */
export function cooccurringContext(spec: SyntheticSource, items: readonly ItemMeta[]): ContextLabels {
  const names = [...syntheticClassNames(spec), 'none'];
  const byId = new Map<string, number>();
  for (const item of items) {
    const draw = drawSynthetic(spec, 'train', unitOf(item.id, spec.classes));
    if (draw.sample.id !== item.id)
      throw new Error(`synthetic image ${item.id} redrawn as ${draw.sample.id}`);
    byId.set(item.id, draw.distractor ? draw.sample.label : spec.classes);
  }
  return { names, byId, origin: 'synthetic co-occurring object' };
}

/**
 * A user's per-image label file: JSON (an object image id -> label) or CSV (`id,label` per line; a first line
 * `id,label` or `id,context` is a header; blank lines and `#` comments skipped; an id containing a comma is
 * quoted). Throws SpecValidationError naming the file and line of the first problem.
 */
export function parseContextFile(text: string, file: string): ContextLabels {
  const labels = new Map<string, string>();
  const add = (id: string, label: string, where: string) => {
    if (!id) throw new SpecValidationError(`${where}: empty image id`);
    if (!label) throw new SpecValidationError(`${where}: image ${id} has an empty label`);
    const before = labels.get(id);
    if (before !== undefined && before !== label)
      throw new SpecValidationError(`${where}: image ${id} labelled again ("${before}", now "${label}")`);
    labels.set(id, label);
  };
  if (/^\s*[{[]/.test(text)) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new SpecValidationError(`${file}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      throw new SpecValidationError(`${file}: a JSON label file is one object, image id -> label`);
    for (const [id, label] of Object.entries(json)) {
      if (typeof label !== 'string' && typeof label !== 'number')
        throw new SpecValidationError(`${file}: image ${id}: the label must be a string or a number`);
      add(id, String(label), file);
    }
  } else {
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      const where = `${file}:${i + 1}`;
      if (!line || line.startsWith('#')) return;
      const cells = splitCsvLine(line, where);
      if (cells.length !== 2)
        throw new SpecValidationError(`${where}: expected "image id,label", got ${cells.length} field(s)`);
      const [id, label] = cells.map((c) => c.trim()) as [string, string];
      if (i === 0 && id.toLowerCase() === 'id' && ['label', 'context'].includes(label.toLowerCase())) return;
      add(id, label, where);
    });
  }
  const names = [...new Set(labels.values())].sort();
  if (names.length < 2)
    throw new SpecValidationError(
      `${file}: a context label needs at least 2 different labels, found ${names.length} (${names.join(', ')})`,
    );
  const byId = new Map<string, number>();
  for (const [id, label] of labels) byId.set(id, names.indexOf(label));
  return { names, byId, origin: file };
}

/** One CSV line's cells (RFC 4180 quotes). */
function splitCsvLine(line: string, where: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  if (quoted) throw new SpecValidationError(`${where}: unclosed quote`);
  cells.push(cell);
  return cells;
}

/**
 * Per training image (a variant's items, same ids as the dataset's), the context label of the background it
 * shows: its own image's, or for a paired variant (mixed_*) its donor's (`bgFrom`). An image without a label
 * is an error naming the label source and the first images missing.
 */
export function contextOfItems(items: readonly ItemMeta[], labels: ContextLabels): Map<string, number> {
  const out = new Map<string, number>();
  const missing: string[] = [];
  for (const item of items) {
    const from = item.bgFrom ?? item.id;
    // a file may name an image without its split (`dog/n02085620_10074` for `train/dog/n02085620_10074`):
    // a folder dataset draws the split itself
    const k = labels.byId.get(from) ?? labels.byId.get(from.slice(from.indexOf('/') + 1));
    if (k === undefined) missing.push(from === item.id ? item.id : `${from} (background of ${item.id})`);
    else out.set(item.id, k);
  }
  if (missing.length)
    throw new SpecValidationError(
      `${labels.origin}: no context label for ${missing.length} of ${items.length} training images, e.g. ${missing.slice(0, 5).join(', ')}`,
    );
  return out;
}

import { z } from 'zod';
import imagenetToIn9 from './class-maps/imagenet-to-in9.json';

/**
 * How a pretrained model's outputs become the dataset's classes:
 * - `identity`: output i is dataset class i (a model trained on the same label space);
 * - `imagenet-in9`: the reference's ImageNet-1k -> IN-9 table (core/ml/class-maps/imagenet-to-in9.json);
 * - an object `{ "<output index>": "<dataset class name>" }`: outputs not named belong to no class.
 * As in the reference, the prediction is the argmax over all outputs, then mapped; an output outside every
 * class is a wrong answer (never silently re-ranked among the mapped ones).
 */
export const classMapSchema = z.union([
  z.enum(['identity', 'imagenet-in9']),
  z.record(z.string().regex(/^\d+$/, 'keys are model output indices'), z.string().min(1)),
]);
export type ClassMap = z.output<typeof classMapSchema>;

/** The shipped table with its provenance (MadryLab/backgrounds_challenge in_to_in9.json). */
export const IMAGENET_TO_IN9 = imagenetToIn9 as {
  provenance: { source: string; commit: string; note: string };
  classes: string[];
  aliases: Record<string, string[]>;
  map: number[];
};

const norm = (s: string) => s.trim().toLowerCase();

/** Index of a named class in `classes` (case-insensitive; "NN_" folder prefixes and the table's aliases allowed). */
function findClass(name: string, classes: string[]): number {
  const names = [name, ...(IMAGENET_TO_IN9.aliases[name] ?? [])].map(norm);
  return classes.findIndex((c) => {
    const n = norm(c);
    return names.includes(n) || names.includes(n.replace(/^\d+_/, ''));
  });
}

/**
 * Output index -> dataset class index (-1: no class), for a model with `numOutputs` outputs. Throws, naming
 * the names, when a dataset class cannot be predicted at all or a mapped name is not a dataset class.
 */
export function resolveClassMap(map: ClassMap, numOutputs: number, classes: string[]): Int32Array {
  const table = new Int32Array(numOutputs).fill(-1);
  if (map === 'identity') {
    if (numOutputs !== classes.length)
      throw new Error(
        `class map identity: the model has ${numOutputs} outputs, the dataset ${classes.length} classes (${classes.join(', ')})`,
      );
    return table.map((_, i) => i);
  }
  const named: [number, string][] =
    map === 'imagenet-in9'
      ? IMAGENET_TO_IN9.map.flatMap((c, i) =>
          c >= 0 ? [[i, IMAGENET_TO_IN9.classes[c]!] as [number, string]] : [],
        )
      : Object.entries(map).map(([i, name]) => [Number(i), name]);
  if (map === 'imagenet-in9' && numOutputs !== IMAGENET_TO_IN9.map.length)
    throw new Error(`class map imagenet-in9 needs a 1000-output ImageNet model, this one has ${numOutputs}`);
  const unknown = new Set<string>();
  for (const [i, name] of named) {
    if (i >= numOutputs)
      throw new Error(`class map: output ${i} does not exist (the model has ${numOutputs})`);
    const c = findClass(name, classes);
    if (c < 0) unknown.add(name);
    else table[i] = c;
  }
  const label = typeof map === 'string' ? map : 'given';
  if (unknown.size)
    throw new Error(
      `class map ${label}: ${[...unknown].join(', ')} not among the dataset's classes (${classes.join(', ')})`,
    );
  const unreachable = classes.filter((_, c) => !table.includes(c));
  if (unreachable.length)
    throw new Error(`class map ${label}: no model output maps to ${unreachable.join(', ')}`);
  return table;
}

/**
 * n rows of `m` model outputs -> n rows of k + 1 class scores: column c is the largest output mapped to class c,
 * column k the largest output mapped to none. The argmax of a row is therefore exactly "argmax over all
 * outputs, then map" (k meaning "none of the classes"), ties aside.
 */
export function mapScores(
  logits: Float32Array,
  n: number,
  m: number,
  table: Int32Array,
  k: number,
): Float32Array {
  const out = new Float32Array(n * (k + 1)).fill(-Infinity);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < m; i++) {
      const c = table[i]!;
      const j = r * (k + 1) + (c < 0 ? k : c);
      const v = logits[r * m + i]!;
      if (v > out[j]!) out[j] = v;
    }
  }
  return out;
}

import { z } from 'zod';
import { PALETTE, type PaletteColor } from './palette';
import {
  VARIANTS,
  type VariantName,
  type VariantSpec,
  type VariantSpecInput,
  variantEntry,
} from './registry';

export { PALETTE, type PaletteColor, type VariantName, type VariantSpec, type VariantSpecInput };

type SimpleName = Extract<(typeof VARIANTS)[number], { params: null }>['name'];

/** The eight variants of Xiao et al.'s ImageNet-9 release, as its folders spell them. */
export const XIAO_VARIANTS = VARIANTS.filter((v) => v.upstream).map((v) => v.name) as SimpleName[];

/** Variants without parameters: Xiao's, plus the slides' generic backgrounds. */
export const SIMPLE_VARIANTS = VARIANTS.flatMap((v) => (v.params === null ? [v.name] : [])) as [
  SimpleName,
  ...SimpleName[],
];
const PARAM_SCHEMAS = VARIANTS.flatMap((v) => (v.params === null ? [] : [v.params]));

const simple = z.object({ name: z.enum(SIMPLE_VARIANTS) }).strict();
const variantObjectSchema = z.union([simple, ...PARAM_SCHEMAS]);

/** One concrete variant: a name and one value per parameter, e.g. `{ name: 'bg_blur', sigma: 4 }`. */
export const variantSpecSchema: z.ZodType<VariantSpec, VariantSpecInput> = z.union([
  z.enum(SIMPLE_VARIANTS).transform((name) => ({ name })),
  variantObjectSchema,
]);

/** Every name: the ones without parameters first, then those with. */
export const ALL_VARIANT_NAMES = [
  ...SIMPLE_VARIANTS,
  ...VARIANTS.flatMap((v) => (v.params === null ? [] : [v.name])),
] as [VariantName, ...VariantName[]];

/** Variants whose output depends on a seeded pairing with another image (the seed is part of their key). */
export function usesPairing(name: VariantName): boolean {
  return variantEntry(name).pairing !== 'none';
}

/** Short readable label, e.g. `bg_blur(sigma=4)`, for logs and reports. */
export function variantLabel(spec: VariantSpec): string {
  const params = Object.entries(spec)
    .filter(([k]) => k !== 'name')
    .map(([k, v]) => `${k}=${String(v)}`);
  return params.length ? `${spec.name}(${params.join(',')})` : spec.name;
}

/** One of each variant with typical parameters (what `bgstudy variants <key> all` makes). */
export const ALL_VARIANTS_DEFAULT: VariantSpecInput[] = VARIANTS.map((v) => v.example);

/**
 * Parses the command-line form of a variant: `name` or `name:key=value,key=value`
 * (e.g. `bg_blur:sigma=4`, `fg_mask_quality:op=erode,k=2`); numbers are converted.
 */
export function parseVariantArg(arg: string): VariantSpec {
  const [name, params] = arg.split(':', 2);
  const obj: Record<string, unknown> = { name };
  for (const kv of params ? params.split(',') : []) {
    const [k, v] = kv.split('=', 2);
    if (!k || v === undefined) throw new Error(`variant "${arg}": expected key=value, got "${kv}"`);
    obj[k] = v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  if (!(ALL_VARIANT_NAMES as readonly string[]).includes(name ?? ''))
    throw new Error(`unknown variant "${name}" (known: ${ALL_VARIANT_NAMES.join(', ')})`);
  // parse against the one member schema of this name, so errors name the bad parameter
  const parsed = (variantEntry(name!).params ?? simple).safeParse(obj);
  if (!parsed.success)
    throw new Error(
      `variant "${arg}": ${parsed.error.issues.map((i) => `${i.path.join('.') || 'name'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data as VariantSpec;
}

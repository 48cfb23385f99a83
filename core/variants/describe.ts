import { z } from 'zod';
import { VARIANTS } from './registry';

/** One parameter of a variant, as its schema states it. */
export interface ParamInfo {
  name: string;
  /** e.g. `number in (0, 64]`, `integer in [0, 256]`, `one of erode, dilate`. */
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

export interface VariantInfo {
  name: string;
  definition: string;
  /** Where a paired variant's donor backgrounds come from; null when it is not paired. */
  pairedWith: string | null;
  upstream: boolean;
  params: ParamInfo[];
  example: unknown;
}

interface JsonSchemaProp {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
  description?: string;
}

function typeOf(p: JsonSchemaProp): string {
  if (p.enum) return `one of ${p.enum.join(', ')}`;
  const lo = p.exclusiveMinimum ?? p.minimum;
  const hi = p.exclusiveMaximum ?? p.maximum;
  if (lo === undefined && hi === undefined) return p.type ?? 'any';
  const open = p.exclusiveMinimum !== undefined ? '(' : '[';
  const close = p.exclusiveMaximum !== undefined ? ')' : ']';
  return `${p.type} in ${open}${lo ?? '-inf'}, ${hi ?? 'inf'}${close}`;
}

/** Every variant of the registry with its definition and parameters (read from its zod schema). */
export function describeVariants(): VariantInfo[] {
  return VARIANTS.map((v) => {
    const schema = v.params
      ? (z.toJSONSchema(v.params, { io: 'input' }) as {
          properties: Record<string, JsonSchemaProp>;
          required?: string[];
        })
      : { properties: {}, required: [] };
    const params = Object.entries(schema.properties)
      .filter(([k]) => k !== 'name')
      .map(([k, p]) => ({
        name: k,
        type: typeOf(p),
        required: (schema.required ?? []).includes(k),
        ...(p.default !== undefined ? { default: p.default } : {}),
        ...(p.description ? { description: p.description } : {}),
      }));
    return {
      name: v.name,
      definition: v.definition,
      pairedWith:
        v.pairing === 'split'
          ? 'an image of the same split'
          : v.pairing === 'generic'
            ? 'an image of the class-free generic pool'
            : null,
      upstream: v.upstream,
      params,
      example: v.example,
    };
  });
}

/** The table `bgstudy variants list` prints. */
export function variantsText(infos: VariantInfo[]): string {
  const width = Math.max(...infos.map((i) => i.name.length)) + 2;
  const pad = ' '.repeat(width);
  const lines: string[] = [];
  for (const v of infos) {
    const notes = [v.upstream ? 'Xiao et al.' : '', v.pairedWith ? `paired with ${v.pairedWith}` : '']
      .filter(Boolean)
      .join('; ');
    lines.push(`${v.name.padEnd(width)}${v.definition}${notes ? ` (${notes})` : ''}`);
    for (const p of v.params) {
      const when = p.required ? 'required' : `default ${JSON.stringify(p.default)}`;
      lines.push(`${pad}  ${p.name}: ${p.type}, ${when}${p.description ? `: ${p.description}` : ''}`);
    }
  }
  return lines.join('\n');
}

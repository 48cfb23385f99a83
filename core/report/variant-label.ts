/** A report label such as `bg_blur(sigma=2)` taken apart (the inverse of core/variants variantLabel). */
export interface ParsedLabel {
  name: string;
  params: Record<string, string | number>;
}

export function parseVariantLabel(label: string): ParsedLabel {
  const m = /^([a-z_]+)(?:\((.*)\))?$/.exec(label);
  if (!m) return { name: label, params: {} };
  const params: Record<string, string | number> = {};
  for (const part of (m[2] ?? '').split(',').filter(Boolean)) {
    const [k, v = ''] = part.split('=');
    const n = Number(v);
    params[k!] = v !== '' && Number.isFinite(n) ? n : v;
  }
  return { name: m[1]!, params };
}

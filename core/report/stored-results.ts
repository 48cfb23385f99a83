import { variantSpecSchema } from '../variants/variant-spec';
import type { StudyResults, StudyVariant } from './results';
import { parseVariantLabel } from './variant-label';

/**
 * A stored results.json as the report reads it. Documents written before variants carried their spec have
 * only the label (`bg_blur(sigma=2)`): the spec is read back from it here, once, so the report never parses
 * labels. A label that names no valid variant is refused naming it.
 */
export function readStudyResults(raw: StudyResults, where = 'results.json'): StudyResults {
  // Nothing to read back where a document lists no variants (stand-ins that carry only what is looked up).
  if (!Array.isArray(raw.variants)) return raw;
  const variants = raw.variants.map((v: Omit<StudyVariant, 'spec'> & { spec?: unknown }): StudyVariant => {
    const { name, params } = parseVariantLabel(v.label);
    const parsed = variantSpecSchema.safeParse(v.spec ?? { name, ...params });
    if (!parsed.success)
      throw new Error(`${where}: variant ${v.id} ("${v.label}") is not a variant this code knows`);
    return { ...v, spec: parsed.data };
  });
  return { ...raw, variants };
}

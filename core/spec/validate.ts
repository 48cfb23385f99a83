import { planStudy } from './plan';
import { parseStudySpec, type StudySpec } from './study-spec';

/**
 * A whole study spec checked before anything reaches Temporal: the schema (every field's type and bounds), then
 * the plan (sweep values against each variant's bounds, `train.on` / `evaluate.on` / `finetune.on` naming
 * variants the spec has, model names unique). Throws SpecValidationError naming each bad field by its path;
 * what the workflow would refuse later in registerStudy is refused here, by the client and the CLI.
 */
export function validateStudySpec(raw: unknown): StudySpec {
  const spec = parseStudySpec(raw);
  planStudy(spec);
  return spec;
}

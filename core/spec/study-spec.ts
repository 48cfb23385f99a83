import { z } from 'zod';
import { SpecValidationError } from '../../common/errors';

/** Version 1 of the study spec. Later fields are added here; `version` changes only on a breaking change. */
export const studySpecSchema = z
  .object({
    version: z.literal(1),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", at most 64'),
    description: z.string().optional(),
  })
  .passthrough();

export type StudySpec = z.infer<typeof studySpecSchema>;

/** Parses a spec, throwing SpecValidationError whose message names every bad field by its path. */
export function parseStudySpec(raw: unknown): StudySpec {
  const result = studySpecSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map(
    (i) => `  - ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`,
  );
  throw new SpecValidationError(`invalid study spec:\n${lines.join('\n')}`);
}

import { z, ZodError } from 'zod';
import { SpecValidationError } from '../common/errors';

/** Validates an activity input; a bad one fails for good (SpecValidationError is non-retryable). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, activity: string): z.output<S> {
  try {
    return schema.parse(input);
  } catch (err) {
    if (err instanceof ZodError) throw new SpecValidationError(`invalid ${activity} input: ${err.message}`);
    throw err;
  }
}

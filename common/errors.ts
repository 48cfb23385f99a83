/**
 * Domain errors. Temporal records a thrown error's class name as its failure type, so these names are the
 * keys listed in `nonRetryableErrorTypes`: an invalid spec or a corrupt input will not get better on retry.
 */
export class SpecValidationError extends Error {
  override name = 'SpecValidationError';
}

export class ArtifactNotFoundError extends Error {
  override name = 'ArtifactNotFoundError';
  constructor(readonly key: string) {
    super(`artifact not found: ${key}`);
  }
}

/** A key that could escape its prefix or folder: a bug or hostile input, never fixed by a retry. */
export class InvalidArtifactKeyError extends Error {
  override name = 'InvalidArtifactKeyError';
}

export class StoreAuthError extends Error {
  override name = 'StoreAuthError';
}

export class BinaryNotFoundError extends Error {
  override name = 'BinaryNotFoundError';
}

export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
}

/** Error types an activity retry cannot fix. */
export const NON_RETRYABLE_ERRORS = ['SpecValidationError', 'StoreAuthError', 'InvalidArtifactKeyError'];

/** Why a backend cannot be used here; initBackend's auto mode moves on to the next one. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

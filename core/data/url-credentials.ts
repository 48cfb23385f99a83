/**
 * Whether a URL as written carries a user or password. Asked of the WHATWG parser itself (what fetch will use),
 * not of a pattern: for http(s) it also reads `https:/u:p@host`, `https:u:p@host` and `https:\\u:p@host` as
 * `https://u:p@host`, forms a `://` pattern misses. Strings that are not URLs (local paths) carry none.
 */
export function hasUrlCredentials(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.username !== '' || url.password !== '';
}

/** The refusal message of a spec field holding such a URL; it never repeats the value. */
export const URL_CREDENTIALS_MESSAGE =
  'must not carry credentials (user:password@): the spec is stored in manifests, histories and reports; ' +
  'use a presigned URL or credentials from the environment instead';

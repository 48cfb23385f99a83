/**
 * Names that come from a dataset (folders, files, archive entries) end up in item ids, class lists, manifests and
 * reports. They are checked here so that no name can smuggle a path separator, a control character or an
 * invisible twin of another class into them.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A name as a report shows it: control characters escaped, at most 300 characters. */
export function printableName(name: string): string {
  const s = name.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

/** Longest folder or file name accepted (bytes of UTF-8), the common file-system limit. */
export const MAX_NAME_BYTES = 255;

/**
 * Why a folder or file name from a dataset cannot be used, or undefined when it can. Names are compared in
 * Unicode NFC (`canonicalName`), so a macOS (NFD) folder matches the class a spec names; two names that only
 * differ in normalization are a clash, reported by the listing.
 */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'empty name';
  if (name === '.' || name === '..') return `"${name}" is not a name`;
  if (/[/\\]/.test(name)) return 'name contains a path separator';
  if (HAS_CONTROL.test(name)) return 'name contains control characters';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `name is longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

/** The form names are compared and stored in. */
export function canonicalName(name: string): string {
  return name.normalize('NFC');
}

/** Longest object name S3 accepts (bytes of UTF-8). */
const MAX_OBJECT_NAME_BYTES = 1024;

/**
 * Why an object name under a dataset's s3:// prefix cannot be mirrored into a folder, or undefined when it can.
 * The dataset-name rule, not the artifact-key rule (store/keys.ts): datasets name their files as people do,
 * with spaces and any script (IN-9's own `02_wheeled vehicle`); what is refused is what cannot be a relative
 * path of plain names (empty, `.` or `..` segments, control characters, over-long names).
 */
export function objectNameProblem(key: string): string | undefined {
  if (Buffer.byteLength(key, 'utf8') > MAX_OBJECT_NAME_BYTES)
    return `name is longer than ${MAX_OBJECT_NAME_BYTES} bytes`;
  for (const segment of key.split('/')) {
    const problem = nameProblem(segment);
    if (problem) return `"${printableName(segment)}": ${problem}`;
  }
  return undefined;
}

/** objectNameProblem as a check that throws, for stores that read a dataset's objects (store/s3-prefix-opener.ts). */
export function assertObjectName(key: string): void {
  const problem = objectNameProblem(key);
  if (problem)
    throw new Error(`object name "${printableName(key)}" is not a plain relative path: ${problem}`);
}

import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const PRESETS_DIR = path.resolve(__dirname, '..', 'presets');

/** Reads a spec from `--spec file.json` or `--preset name` (presets/<name>.json), with errors naming the file. */
export async function readSpecFile(options: { spec?: string; preset?: string }): Promise<unknown> {
  const file = options.spec
    ? path.resolve(options.spec)
    : path.join(PRESETS_DIR, `${options.preset ?? 'quick'}.json`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT' ? `spec file not found: ${file}` : `cannot read ${file}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** The preset a spec came from (none with --spec): recorded as the study's BgStudyPreset search attribute. */
export function presetOption(options: { spec?: string; preset?: string }): { preset?: string } {
  return options.spec ? {} : { preset: options.preset ?? 'quick' };
}

import { readFile } from 'node:fs/promises';
import { SpecValidationError } from '../../common/errors';
import { parseContextFile } from '../data/context-labels';
import type { StudySpec } from './study-spec';

/**
 * The per-image context label files a spec names (`train.N.context.file`), read and parsed before the study
 * starts, so a missing or malformed file is refused by the client, naming the field, the file and the line.
 * Whether it covers every training image is known once the dataset is prepared: the training activity checks
 * that (core/data/context-labels.ts contextOfItems), naming the file and the images without a label.
 */
export async function checkContextFiles(spec: StudySpec): Promise<void> {
  const problems: string[] = [];
  for (const [i, t] of spec.train.entries()) {
    const file = t.context?.file;
    if (!file) continue;
    const field = `train.${i}.context.file`;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      problems.push(`  - ${field}: ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
      continue;
    }
    try {
      parseContextFile(text, file);
    } catch (err) {
      if (!(err instanceof SpecValidationError)) throw err;
      problems.push(`  - ${field}: ${err.message}`);
    }
  }
  if (problems.length) throw new SpecValidationError(`invalid study spec:\n${problems.join('\n')}`);
}

import reference from './xiao-2021-reference.json';

/** One published row of Xiao et al. (2021) Table 2, in % as printed. */
export interface PaperRow {
  id: string;
  model: string;
  arch: string;
  trainVariant: string;
  trainSet: 'IN-9' | 'IN-9L';
  accuracy: Record<string, number>;
  bgGap: number;
  challenge?: { adversarialAccuracy: number; cleanAccuracy?: number };
}

export interface PaperReference {
  provenance: {
    paper: string;
    url: string;
    code: string;
    where: string;
    transcribed: string;
    dataset: string;
    unit: string;
  };
  rows: PaperRow[];
}

/** The published numbers the report compares with (data file: xiao-2021-reference.json, with provenance). */
export const XIAO_2021 = reference as PaperReference;

/**
 * The published row measuring the same thing as one of ours: same architecture, same training variant,
 * trained on IN-9 (IN-9L when asked). Architectures the paper did not train (small_cnn, resnet18, ...) have none.
 */
export function paperRowFor(
  row: { arch: string; trainVariant: string },
  trainSet: PaperRow['trainSet'] = 'IN-9',
  ref: PaperReference = XIAO_2021,
): PaperRow | undefined {
  return ref.rows.find(
    (p) => p.arch === row.arch && p.trainVariant === row.trainVariant && p.trainSet === trainSet,
  );
}

/** A published cell as a fraction (like ours): a test column, `bg_gap` or `challenge`; undefined when not published. */
export function paperValue(p: PaperRow, column: string): number | undefined {
  const v =
    column === 'bg_gap'
      ? p.bgGap
      : column === 'challenge'
        ? p.challenge?.adversarialAccuracy
        : p.accuracy[column];
  return v === undefined ? undefined : v / 100;
}

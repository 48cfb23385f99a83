import { paperRowFor, paperValue, type PaperRow } from './paper-reference';
import type { StudyResults } from './results';

/** Accuracy or a gap as the paper prints it: % with one decimal ('' when not measured). */
export function formatPct(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '' : (100 * x).toFixed(1);
}

export interface TableCell {
  /** Column id: a test column label, `bg_gap` or `challenge`. */
  column: string;
  /** Our value as a fraction; null when not measured. */
  value: number | null;
  text: string;
  /** The paper's value for the same (model, train variant, column), when compared and published. */
  paper: number | null;
  paperText: string;
}

export interface TableRow {
  runId: string;
  model: string;
  trainVariant: string;
  seed: number;
  cells: TableCell[];
  paperRow: PaperRow | null;
}

export interface AccuracyTable {
  /** Column ids in order: the test columns, then `bg_gap` and `challenge`. */
  columns: string[];
  headers: string[];
  rows: TableRow[];
}

/**
 * The Xiao et al. Table 2 layout: one row per (model, train variant, seed), one column per test variant, then
 * BG-Gap and the backgrounds-challenge adversarial accuracy; the paper's number beside ours when compared.
 */
export function accuracyTable(r: StudyResults, trainSet: PaperRow['trainSet'] = 'IN-9'): AccuracyTable {
  const columns = [...r.columns, 'bg_gap', 'challenge'];
  const headers = [...r.columns, 'BG-Gap', 'Challenge (adv.)'];
  const rows = r.rows.map((row) => {
    const paperRow = r.compareWithPaper ? (paperRowFor(row, trainSet) ?? null) : null;
    const cells = columns.map((column): TableCell => {
      const v =
        column === 'bg_gap'
          ? row.bgGap
          : column === 'challenge'
            ? (row.challenge?.adversarialAccuracy ?? null)
            : (row.accuracy[column] ?? null);
      const paper = paperRow ? (paperValue(paperRow, column) ?? null) : null;
      return { column, value: v, text: formatPct(v), paper, paperText: formatPct(paper) };
    });
    return {
      runId: row.runId,
      model: row.arch,
      trainVariant: row.trainVariant,
      seed: row.seed,
      cells,
      paperRow,
    };
  });
  return { columns, headers, rows };
}

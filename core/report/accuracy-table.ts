import { XIAO_VARIANTS } from './experiments';
import { paperRowFor, paperValue, type PaperRow } from './paper-reference';
import { formatP, modelText, type StudyResults } from './results';

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
  /** 95% interval (bootstrap over images; paired for BG-Gap; Wilson for the challenge); null when unknown. */
  interval: { lo: number; hi: number } | null;
  /** The interval as text, e.g. "[94.9, 96.2]", and what it is (a tooltip): '' when unknown. */
  intervalText: string;
  intervalTitle: string;
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
 * Splits the test columns in two tables that fit a screen: Xiao et al.'s variants (in the paper's order, with
 * BG-Gap and the challenge) and every other test variant (the slides' factors) in study order.
 */
export function tableColumns(r: StudyResults): { xiao: string[]; other: string[] } {
  const xiao = XIAO_VARIANTS.filter((v) => r.columns.includes(v));
  return { xiao, other: r.columns.filter((c) => !xiao.includes(c)) };
}

/**
 * The Xiao et al. Table 2 layout: one row per (model, train variant, seed), one column per test variant (all of
 * them, or `testColumns`), then BG-Gap and the backgrounds-challenge adversarial accuracy (unless `extras` is
 * false); the paper's number beside ours when the study asks for the comparison.
 */
export function accuracyTable(
  r: StudyResults,
  options: { testColumns?: string[]; extras?: boolean; trainSet?: PaperRow['trainSet'] } = {},
): AccuracyTable {
  const tests = options.testColumns ?? r.columns;
  const extras = options.extras ?? true;
  const trainSet = options.trainSet ?? 'IN-9';
  const columns = [...tests, ...(extras ? ['bg_gap', 'challenge'] : [])];
  const headers = [...tests, ...(extras ? ['BG-Gap', 'Challenge (adv.)'] : [])];
  const rows = r.rows.map((row) => {
    const paperRow = r.compareWithPaper ? (paperRowFor(row, trainSet) ?? null) : null;
    const cells = columns.map((column): TableCell => {
      let v: number | null;
      let interval: TableCell['interval'] = null;
      let title = '';
      let extra = '';
      if (column === 'bg_gap') {
        v = row.bgGap;
        const t = row.bgGapTest ?? null;
        if (t) {
          interval = t;
          extra = ` p=${formatP(t.p)}`;
          title = `paired over ${t.n} foregrounds (${t.discordant} discordant; pairings ${t.pairings.same} same, ${t.pairings.rand} rand): 95% paired bootstrap; p = exact sign-flip mid-p ${formatP(t.p)} (exact ${formatP(t.pExact)})`;
        }
      } else if (column === 'challenge') {
        v = row.challenge?.adversarialAccuracy ?? null;
        const ch = row.challenge;
        if (ch?.interval) {
          interval = ch.interval;
          extra = ` ${ch.foregrounds}×${ch.backgrounds}`;
          title = `Wilson 95% over ${ch.foregrounds} foregrounds, each on ${ch.backgrounds} backgrounds (pool); clean accuracy ${formatPct(ch.cleanAccuracy)}%`;
        }
      } else {
        v = row.accuracy[column] ?? null;
        const ci = row.accuracyInterval?.[column] ?? null;
        if (ci) {
          interval = ci;
          title = `95% bootstrap over ${ci.n} test images`;
        }
      }
      const paper = paperRow ? (paperValue(paperRow, column) ?? null) : null;
      return {
        column,
        value: v,
        text: formatPct(v),
        interval,
        intervalText: interval ? `[${formatPct(interval.lo)}, ${formatPct(interval.hi)}]${extra}` : '',
        intervalTitle: title,
        paper,
        paperText: formatPct(paper),
      };
    });
    return {
      runId: row.runId,
      model: modelText(row),
      trainVariant: row.trainVariant,
      seed: row.seed,
      cells,
      paperRow,
    };
  });
  return { columns, headers, rows };
}

import type { TopLevelSpec } from 'vega-lite/build/index';
import type { ExperimentSection } from './experiments';
import { modelText, type ResultRow, type SeedGroup } from './results';

/** Vega-Lite specs of every chart in the report (pure data in, spec out; vega-svg.ts renders them). */

const BASE = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  background: 'white',
  config: {
    font: 'Helvetica, Arial, sans-serif',
    axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
    legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 0 },
    axisBand: { labelLimit: 0 },
    title: { fontSize: 13, anchor: 'start' as const },
  },
};

const ACC_AXIS = { format: '.0%', title: 'accuracy' };

/** Readable name of a run in legends: `small_cnn on mixed_rand (seed 1)`. */
export function runName(r: Pick<ResultRow, 'arch' | 'trainVariant' | 'seed' | 'context'>): string {
  return `${modelText(r)} on ${r.trainVariant} (seed ${r.seed})`;
}

/** `bg_color(color=gray)` -> `color=gray` on an axis that is about one factor; plain names stay. */
export function shortLabel(label: string): string {
  return /^[a-z_]+\((.*)\)$/.exec(label)?.[1] ?? label;
}

/**
 * Training and validation loss and accuracy per epoch of several runs on shared axes: colour = run,
 * dash = train/validation, one panel per metric.
 */
export function curvesChart(rows: ResultRow[]): TopLevelSpec {
  const values = rows.flatMap((r) =>
    r.curves.flatMap((c) => [
      { run: runName(r), metric: 'loss', split: 'train', epoch: c.epoch, value: c.trainLoss },
      { run: runName(r), metric: 'loss', split: 'validation', epoch: c.epoch, value: c.valLoss },
      { run: runName(r), metric: 'accuracy', split: 'train', epoch: c.epoch, value: c.trainAcc },
      { run: runName(r), metric: 'accuracy', split: 'validation', epoch: c.epoch, value: c.valAcc },
    ]),
  );
  return {
    ...BASE,
    data: { values: values.filter((v) => Number.isFinite(v.value)) },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: ['loss', 'accuracy'] } },
    spec: {
      width: 280,
      height: 190,
      mark: { type: 'line', point: { size: 25 } },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: {
          field: 'run',
          type: 'nominal',
          title: 'run',
          legend: { symbolType: 'stroke', symbolStrokeWidth: 3 },
        },
        // vega draws dash legends as plain symbols; the figure caption says which dash is which instead
        strokeDash: { field: 'split', type: 'nominal', sort: ['train', 'validation'], legend: null },
        tooltip: [
          { field: 'run' },
          { field: 'split' },
          { field: 'epoch' },
          { field: 'value', format: '.3f' },
        ],
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/**
 * An experiment's accuracies: a line over the swept parameter for sweeps, grouped bars per test column
 * otherwise; reference values (bounds) as dashed horizontal rules.
 */
export function experimentChart(s: ExperimentSection): TopLevelSpec {
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    legend: { orient: 'bottom' as const, columns: 1 },
  };
  const main = s.sweep
    ? {
        data: { values: s.points },
        mark: { type: 'line' as const, point: { size: 40 } },
        encoding: {
          x: {
            field: 'xValue',
            type: 'quantitative' as const,
            title: s.sweep.axisTitle,
            // ticks at the swept values only
            axis: { values: [...new Set(s.points.map((p) => p.xValue ?? 0))], format: '~g' },
          },
          y: { field: 'accuracy', type: 'quantitative' as const, axis: ACC_AXIS, scale: { domain: [0, 1] } },
          color,
          tooltip: [{ field: 'series' }, { field: 'x' }, { field: 'accuracy', format: '.1%' }],
        },
      }
    : {
        data: { values: s.points.map((p) => ({ ...p, tick: shortLabel(p.x) })) },
        mark: { type: 'bar' as const },
        encoding: {
          x: {
            field: 'tick',
            type: 'nominal' as const,
            title: 'tested on',
            sort: [...new Set(s.points.map((p) => shortLabel(p.x)))],
            axis: { labelAngle: -30, labelLimit: 0 },
          },
          xOffset: { field: 'series', type: 'nominal' as const },
          y: { field: 'accuracy', type: 'quantitative' as const, axis: ACC_AXIS, scale: { domain: [0, 1] } },
          color,
          tooltip: [{ field: 'series' }, { field: 'x' }, { field: 'accuracy', format: '.1%' }],
        },
      };
  const layers: unknown[] = [main];
  if (s.bounds.length)
    layers.push({
      data: { values: s.bounds },
      mark: { type: 'rule', strokeDash: [5, 4], strokeWidth: 1.5 },
      encoding: {
        y: { field: 'accuracy', type: 'quantitative' },
        color: { field: 'label', type: 'nominal', title: null, scale: { scheme: 'dark2' } },
        tooltip: [{ field: 'label' }, { field: 'accuracy', format: '.1%' }],
      },
    });
  return {
    ...BASE,
    width: s.sweep ? 360 : Math.max(240, 26 * s.points.length),
    height: 220,
    layer: layers,
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

/** BG-Gap (mixed_same − mixed_rand) of every run, in accuracy points, with its paired 95% interval. */
export function bgGapChart(rows: ResultRow[]): TopLevelSpec {
  const values = rows
    .filter((r) => r.bgGap !== null)
    .map((r) => ({
      run: runName(r),
      gap: r.bgGap as number,
      lo: r.bgGapTest?.lo ?? null,
      hi: r.bgGapTest?.hi ?? null,
      p: r.bgGapTest?.p ?? null,
    }));
  const y = { field: 'run', type: 'nominal', title: null, sort: null, axis: { labelLimit: 0 } };
  return {
    ...BASE,
    width: 360,
    height: Math.max(60, 24 * values.length),
    data: { values },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y,
          x: { field: 'gap', type: 'quantitative', axis: { format: '.0%', title: 'BG-Gap (95% interval)' } },
          color: { value: '#4c78a8' },
          tooltip: [
            { field: 'run' },
            { field: 'gap', format: '.1%' },
            { field: 'lo', format: '.1%' },
            { field: 'hi', format: '.1%' },
            { field: 'p', format: '.2g' },
          ],
        },
      },
      {
        transform: [{ filter: 'datum.lo !== null' }],
        mark: { type: 'rule', color: 'black' },
        encoding: { y, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } },
      },
    ],
  } as TopLevelSpec;
}

/** One point per (model, train variant): mean over seeds with its t interval, or one seed's own interval. */
export interface CrossModelPoint {
  model: string;
  arch: string;
  trainVariant: string;
  seeds: number;
  x: number;
  xLo: number;
  xHi: number;
  y: number;
  yLo: number;
  yHi: number;
}

type Pick2 = (g: SeedGroup, rows: ResultRow[]) => { value: number; lo: number; hi: number } | null;

/** The mean over seeds of a column (t interval), or, with one seed, the value and its bootstrap interval. */
export const columnOf =
  (column: string): Pick2 =>
  (g, rows) => {
    if (g.seeds.length > 1) return g.accuracy[column] ?? null;
    const r = rows[0];
    const v = r?.accuracy[column];
    if (v === undefined) return null;
    const ci = r!.accuracyInterval?.[column];
    return { value: v, lo: ci?.lo ?? v, hi: ci?.hi ?? v };
  };

export const bgGapOf: Pick2 = (g, rows) => {
  if (g.seeds.length > 1) return g.bgGap;
  const r = rows[0];
  if (!r || r.bgGap === null) return null;
  return { value: r.bgGap, lo: r.bgGapTest?.lo ?? r.bgGap, hi: r.bgGapTest?.hi ?? r.bgGap };
};

/** Points of every (model, train variant) of a study that has both numbers. */
export function crossModelPoints(
  groups: SeedGroup[],
  rows: ResultRow[],
  xOf: Pick2,
  yOf: Pick2,
): CrossModelPoint[] {
  return groups.flatMap((g) => {
    const mine = rows.filter(
      (r) =>
        r.arch === g.arch &&
        r.trainVariant === g.trainVariant &&
        JSON.stringify(r.context ?? null) === JSON.stringify(g.context ?? null),
    );
    const x = xOf(g, mine);
    const y = yOf(g, mine);
    if (!x || !y) return [];
    return [
      {
        model: `${modelText(g)} on ${g.trainVariant}`,
        arch: g.arch,
        trainVariant: g.trainVariant,
        seeds: g.seeds.length,
        x: x.value,
        xLo: x.lo,
        xHi: x.hi,
        y: y.value,
        yLo: y.lo,
        yHi: y.hi,
      },
    ];
  });
}

/**
 * Xiao et al.'s cross-model scatter: every (model, train variant) of the study as a point with 95% error bars
 * both ways; `diagonal` draws y = x (for original vs mixed_rand accuracy).
 */
export function crossModelChart(
  points: CrossModelPoint[],
  axes: { x: string; y: string; yFormat?: string; diagonal?: boolean },
): TopLevelSpec {
  const x = {
    field: 'x',
    type: 'quantitative',
    axis: { format: '.0%', title: axes.x },
    scale: { zero: false },
  };
  const y = {
    field: 'y',
    type: 'quantitative',
    axis: { format: axes.yFormat ?? '.0%', title: axes.y },
    scale: { zero: false },
  };
  const color = { field: 'trainVariant', type: 'nominal', title: 'trained on', legend: { orient: 'bottom' } };
  const layers: object[] = [
    {
      mark: { type: 'rule', opacity: 0.6 },
      encoding: { x: { ...x, field: 'xLo' }, x2: { field: 'xHi' }, y, color },
    },
    {
      mark: { type: 'rule', opacity: 0.6 },
      encoding: { y: { ...y, field: 'yLo' }, y2: { field: 'yHi' }, x, color },
    },
    {
      mark: { type: 'point', filled: true, size: 80 },
      encoding: {
        x,
        y,
        color,
        shape: { field: 'arch', type: 'nominal', title: 'model', legend: { orient: 'bottom' } },
        tooltip: [
          { field: 'model' },
          { field: 'seeds' },
          { field: 'x', format: '.1%', title: axes.x },
          { field: 'y', format: '.1%', title: axes.y },
        ],
      },
    },
  ];
  if (axes.diagonal) {
    const lo = Math.min(...points.flatMap((p) => [p.xLo, p.yLo]));
    const hi = Math.max(...points.flatMap((p) => [p.xHi, p.yHi]));
    layers.unshift({
      data: {
        values: [
          { x: lo, y: lo },
          { x: hi, y: hi },
        ],
      },
      mark: { type: 'line', color: '#999', strokeDash: [4, 4] },
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
    });
  }
  return { ...BASE, width: 320, height: 260, data: { values: points }, layer: layers } as TopLevelSpec;
}

/** Backgrounds challenge: clean vs adversarial (worst background) accuracy per run. */
export function challengeChart(rows: ResultRow[]): TopLevelSpec {
  const values = rows.flatMap((r) =>
    r.challenge
      ? [
          { run: runName(r), kind: 'clean (own background)', accuracy: r.challenge.cleanAccuracy },
          {
            run: runName(r),
            kind: 'adversarial (every background)',
            accuracy: r.challenge.adversarialAccuracy,
          },
        ]
      : [],
  );
  return {
    ...BASE,
    width: 360,
    height: Math.max(60, 40 * (values.length / 2)),
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'run', type: 'nominal', title: null, sort: null, axis: { labelLimit: 0 } },
      yOffset: { field: 'kind', type: 'nominal' },
      x: { field: 'accuracy', type: 'quantitative', axis: ACC_AXIS, scale: { domain: [0, 1] } },
      color: { field: 'kind', type: 'nominal', title: null, legend: { orient: 'bottom' } },
      tooltip: [{ field: 'run' }, { field: 'kind' }, { field: 'accuracy', format: '.1%' }],
    },
  };
}

/**
 * Share of saliency mass inside the foreground mask per run and tested variant (bars), with the mask's share of
 * the image (black tick: what a map blind to the object would get).
 */
export function saliencyShareChart(rows: ResultRow[]): TopLevelSpec {
  const values = rows.flatMap((r) =>
    r.saliency.map((s) => ({
      run: runName(r),
      variant: s.label,
      share: s.foregroundShare,
      area: s.areaShare ?? null,
      ratio: s.ratio ?? null,
    })),
  );
  const x = {
    field: 'variant',
    type: 'nominal',
    title: 'saliency computed on',
    sort: null,
    axis: { labelAngle: -30, labelLimit: 0 },
  };
  const xOffset = { field: 'run', type: 'nominal' };
  return {
    ...BASE,
    width: Math.max(240, 22 * values.length),
    height: 200,
    data: { values },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x,
          xOffset,
          y: {
            field: 'share',
            type: 'quantitative',
            axis: { format: '.0%', title: 'foreground share (tick: mask area)' },
            scale: { domain: [0, 1] },
          },
          color: { field: 'run', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 1 } },
          tooltip: [
            { field: 'run' },
            { field: 'variant' },
            { field: 'share', format: '.1%' },
            { field: 'area', format: '.1%', title: 'mask area' },
            { field: 'ratio', format: '.2f', title: 'share / area' },
          ],
        },
      },
      {
        transform: [{ filter: 'datum.area !== null' }],
        mark: { type: 'tick', color: 'black', thickness: 2 },
        encoding: { x, xOffset, y: { field: 'area', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

/** Heat map with the value written in each cell (per-class accuracy, confusion). */
function heatmap(
  values: { x: string; y: string; v: number }[],
  opts: {
    x: string;
    y: string;
    xs: string[];
    ys: string[];
    format: string;
    legend: string;
    domain: [number, number];
  },
): TopLevelSpec {
  const cell = Math.max(18, Math.min(34, Math.floor(300 / Math.max(1, opts.xs.length))));
  const enc = {
    x: { field: 'x', type: 'nominal', title: opts.x, sort: opts.xs, axis: { labelAngle: -40 } },
    y: { field: 'y', type: 'nominal', title: opts.y, sort: opts.ys, axis: { labelLimit: 0 } },
  };
  return {
    ...BASE,
    width: cell * opts.xs.length,
    height: cell * opts.ys.length,
    data: { values },
    encoding: enc,
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: {
            field: 'v',
            type: 'quantitative',
            title: opts.legend,
            scale: { scheme: 'blues', domain: opts.domain },
          },
          tooltip: [{ field: 'y' }, { field: 'x' }, { field: 'v', format: opts.format }],
        },
      },
      {
        mark: { type: 'text', fontSize: 9 },
        encoding: {
          text: { field: 'v', type: 'quantitative', format: opts.format },
          // white on the dark end of the scale, black elsewhere
          color: {
            condition: {
              test: `datum.v > ${opts.domain[0] + 0.6 * (opts.domain[1] - opts.domain[0])}`,
              value: 'white',
            },
            value: 'black',
          },
        },
      },
    ],
  } as TopLevelSpec;
}

/** Per-class accuracy of one run on each test column (rows: test columns; columns: classes). */
export function perClassChart(row: ResultRow, classes: string[]): TopLevelSpec {
  const tests = Object.keys(row.perClass);
  const values = tests.flatMap((t) =>
    row.perClass[t]!.map((v, k) => ({ x: classes[k] ?? String(k), y: t, v })),
  );
  return heatmap(values, {
    x: 'class',
    y: 'tested on',
    xs: classes,
    ys: tests,
    format: '.0%',
    legend: 'accuracy',
    domain: [0, 1],
  });
}

/** Confusion counts of one run on one test column (rows: true class; columns: predicted class). */
export function confusionChart(row: ResultRow, column: string, classes: string[]): TopLevelSpec {
  const m = row.confusion[column] ?? [];
  // A pretrained model with a class map has one more column: predictions outside the dataset's classes.
  const name = (k: number) => classes[k] ?? (k === m.length ? 'other' : String(k));
  const values = m.flatMap((line, t) => line.map((v, p) => ({ x: name(p), y: name(t), v })));
  const names = m.map((_, k) => name(k));
  return heatmap(values, {
    x: 'predicted',
    y: 'true class',
    xs: (m[0] ?? []).map((_, k) => name(k)),
    ys: names,
    format: 'd',
    legend: 'images',
    domain: [0, Math.max(1, ...values.map((v) => v.v))],
  });
}

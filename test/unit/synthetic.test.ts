import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticSourceSchema } from '../../core/data/source-spec';
import { drawGenericBackground, drawSynthetic, syntheticClassNames } from '../../core/data/synthetic';
import { countNonzero } from '../../core/data/mask-stats';

const spec = (over: object) => syntheticSourceSchema.parse({ source: 'synthetic', size: 32, ...over });

/** Pearson chi-square statistic of a contingency table. */
function chiSquare(table: number[][]): { stat: number; df: number } {
  const rows = table.map((r) => r.reduce((a, b) => a + b, 0));
  const cols = table[0]!.map((_, j) => table.reduce((a, r) => a + r[j]!, 0));
  const n = rows.reduce((a, b) => a + b, 0);
  let stat = 0;
  table.forEach((r, i) => r.forEach((o, j) => {
    const e = (rows[i]! * cols[j]!) / n;
    if (e > 0) stat += ((o - e) * (o - e)) / e;
  })); // prettier-ignore
  return { stat, df: (table.length - 1) * (table[0]!.length - 1) };
}

/** Upper 0.1% point of chi-square(df), Wilson-Hilferty approximation. */
function critical999(df: number): number {
  const z = 3.0902;
  return df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
}

function familyTable(p: number, perClass: number): number[][] {
  const s = spec({ bgCorrelation: p, perClass: { train: perClass, val: 1 } });
  const table = Array.from({ length: s.classes }, () => new Array<number>(s.classes).fill(0));
  for (let u = 0; u < s.classes * perClass; u++) {
    const d = drawSynthetic(s, 'train', u);
    table[d.sample.label]![d.bgFamily]!++;
  }
  return table;
}

test('p=0: background family is independent of the class (chi-square below the 0.1% critical value)', () => {
  const { stat, df } = chiSquare(familyTable(0, 90));
  assert.equal(df, 64);
  assert.ok(stat < critical999(df), `chi2=${stat.toFixed(1)} >= ${critical999(df).toFixed(1)}`);
});

test('p=0.5: the dependence is detected; p=1: the family is the class', () => {
  const half = chiSquare(familyTable(0.5, 40));
  assert.ok(half.stat > 5 * critical999(half.df), `chi2=${half.stat.toFixed(1)}`);
  const full = familyTable(1, 20);
  full.forEach((row, y) =>
    row.forEach((n, f) => assert.equal(n, y === f ? 20 : 0, `class ${y} family ${f}`)),
  );
});

test('same seed gives the same bytes, another seed different ones', () => {
  const a = drawSynthetic(spec({ seed: 7 }), 'val', 13).sample;
  const b = drawSynthetic(spec({ seed: 7 }), 'val', 13).sample;
  const c = drawSynthetic(spec({ seed: 8 }), 'val', 13).sample;
  assert.deepEqual(Buffer.from(a.rgb), Buffer.from(b.rgb));
  assert.deepEqual(Buffer.from(a.mask!), Buffer.from(b.mask!));
  assert.notDeepEqual(Buffer.from(a.rgb), Buffer.from(c.rgb));
  assert.equal(a.label, 13 % 9);
  assert.equal(a.id, `val/04_${syntheticClassNames(spec({}))[4]}/000001`);
});

test('masks are exact: every foreground pixel has the object colour family, a sizeable object, background visible', () => {
  const s = spec({ size: 64 });
  for (let u = 0; u < 18; u++) {
    const { sample } = drawSynthetic(s, 'train', u);
    const fg = countNonzero(sample.mask!);
    const share = fg / (64 * 64);
    assert.ok(share > 0.05 && share < 0.8, `class ${sample.label}: fg share ${share}`);
    // object colour is far from the background mean (learnable foreground)
    const mean = (want: boolean) => {
      const m = [0, 0, 0];
      let n = 0;
      for (let i = 0; i < 64 * 64; i++) {
        if ((sample.mask![i] !== 0) !== want) continue;
        for (let k = 0; k < 3; k++) m[k]! += sample.rgb[i * 3 + k]!;
        n++;
      }
      return m.map((v) => v / n);
    };
    const [f, b] = [mean(true), mean(false)];
    assert.ok(
      Math.hypot(f[0]! - b[0]!, f[1]! - b[1]!, f[2]! - b[2]!) > 60,
      `class ${sample.label}: fg/bg colours too close`,
    );
  }
});

test('generic backgrounds have no object and differ by index', () => {
  const s = spec({});
  const a = drawGenericBackground(s, 0);
  const b = drawGenericBackground(s, 1);
  assert.equal(countNonzero(a.mask!), 0);
  assert.notDeepEqual(Buffer.from(a.rgb), Buffer.from(b.rgb));
});

/**
 * What a background-only image shows, measured here independently of core/leaks: the mask's box (width,
 * height, position) and the background just outside it (mean colour of a 3 px band on each side: a shadow
 * darkens one side, a co-occurring object tints the band or the rest). A nearest-centroid learner on these.
 */
function outsideFeatures(s: { rgb: Uint8Array; mask?: Uint8Array; width: number }): number[] {
  const S = s.width;
  let [x0, y0, x1, y1] = [S, S, 0, 0];
  for (let i = 0; i < S * S; i++)
    if (s.mask![i]) {
      const [x, y] = [i % S, Math.floor(i / S)];
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + 1), Math.max(y1, y + 1)];
    }
  const band = (inBand: (x: number, y: number) => boolean) => {
    const m = [0, 0, 0, 0];
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        if (!inBand(x, y)) continue;
        for (let k = 0; k < 3; k++) m[k]! += s.rgb[(y * S + x) * 3 + k]! / 255;
        m[3]!++;
      }
    return m[3] ? [m[0]! / m[3], m[1]! / m[3], m[2]! / m[3]] : [0, 0, 0];
  };
  const outside = (x: number, y: number) => x < x0 || x >= x1 || y < y0 || y >= y1;
  const near = (x: number, y: number) =>
    outside(x, y) && x >= x0 - 3 && x < x1 + 3 && y >= y0 - 3 && y < y1 + 3;
  return [
    (x1 - x0) / S,
    (y1 - y0) / S,
    x0 / S,
    y0 / S,
    ...band((x, y) => near(x, y) && x < x0),
    ...band((x, y) => near(x, y) && x >= x1),
    ...band((x, y) => near(x, y) && y < y0),
    ...band((x, y) => near(x, y) && y >= y1),
    ...band(outside),
    ...mostSaturated(s.rgb, S * S),
  ];
}

/** Hue (as a point on the colour wheel, scaled by saturation) of the image's most saturated pixel. */
function mostSaturated(rgb: Uint8Array, n: number): number[] {
  let [best, h] = [-1, 0];
  for (let i = 0; i < n; i++) {
    const [r, g, b] = [rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!];
    const max = Math.max(r, g, b);
    const sat = max ? (max - Math.min(r, g, b)) / max : 0;
    if (sat <= best) continue;
    best = sat;
    h = Math.atan2(Math.sqrt(3) * (g - b), 2 * r - g - b);
  }
  return [best * Math.cos(h), best * Math.sin(h)];
}

/** Val accuracy of a nearest-centroid classifier on outsideFeatures (z-scored with train statistics). */
function centroidAccuracy(over: object): { acc: number; chance: number; se: number } {
  const s = spec({ bgCorrelation: 0, perClass: { train: 150, val: 100 }, ...over });
  const feats = (split: 'train' | 'val') =>
    Array.from({ length: s.classes * s.perClass[split] }, (_, u) => {
      const d = drawSynthetic(s, split, u).sample;
      return { y: d.label, f: outsideFeatures(d) };
    });
  const tr = feats('train');
  const va = feats('val');
  const D = tr[0]!.f.length;
  const mu = Array.from({ length: D }, (_, j) => tr.reduce((a, r) => a + r.f[j]!, 0) / tr.length);
  const sd = Array.from(
    { length: D },
    (_, j) => Math.sqrt(tr.reduce((a, r) => a + (r.f[j]! - mu[j]!) ** 2, 0) / tr.length) || 1,
  );
  const z = (f: number[]) => f.map((v, j) => (v - mu[j]!) / sd[j]!);
  const cents = Array.from({ length: s.classes }, (_, k) => {
    const rows = tr.filter((r) => r.y === k).map((r) => z(r.f));
    return Array.from({ length: D }, (_, j) => rows.reduce((a, r) => a + r[j]!, 0) / rows.length);
  });
  let correct = 0;
  for (const r of va) {
    const q = z(r.f);
    const dist = cents.map((c) => c.reduce((a, v, j) => a + (v - q[j]!) ** 2, 0));
    if (dist.indexOf(Math.min(...dist)) === r.y) correct++;
  }
  const chance = 1 / s.classes;
  return { acc: correct / va.length, chance, se: Math.sqrt((chance * (1 - chance)) / va.length) };
}

test('p=0, every factor off: the box and the background beside it say nothing of the class (3 seeds)', () => {
  for (const seed of [1, 2, 3]) {
    const r = centroidAccuracy({ seed });
    assert.ok(
      Math.abs(r.acc - r.chance) <= 2 * r.se,
      `seed ${seed}: ${r.acc} vs chance ${r.chance} +- ${2 * r.se}`,
    );
  }
});

test('box extent and aspect have one distribution for every class (chi-square on binned widths)', () => {
  const s = spec({ bgCorrelation: 0, perClass: { train: 120, val: 1 } });
  const bins = 4;
  const table = Array.from({ length: s.classes }, () => new Array<number>(bins).fill(0));
  for (let u = 0; u < s.classes * 120; u++) {
    const d = drawSynthetic(s, 'train', u).sample;
    const f = outsideFeatures(d);
    // width relative to the configured range of box sides (0.56..0.76 of the side, stretched by the aspect)
    table[d.label]![Math.max(0, Math.min(bins - 1, Math.floor(((f[0]! - 0.5) / 0.35) * bins)))]!++;
  }
  const nonEmpty = table[0]!.map((_, j) => j).filter((j) => table.some((r) => r[j]! > 0));
  const { stat, df } = chiSquare(table.map((r) => nonEmpty.map((j) => r[j]!)));
  assert.ok(stat < critical999(df), `chi2=${stat.toFixed(1)} >= ${critical999(df).toFixed(1)}`);
});

for (const factor of ['shadow', 'distractor', 'classSize'] as const)
  test(`factor ${factor}: strength 0.9 makes the background beside the box predict the class`, () => {
    const r = centroidAccuracy({ factors: { [factor]: 0.9 } });
    assert.ok(r.acc > r.chance + 6 * r.se, `${factor}: ${r.acc} vs chance ${r.chance}`);
  });

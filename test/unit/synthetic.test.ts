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
    assert.ok(share > 0.05 && share < 0.6, `class ${sample.label}: fg share ${share}`);
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

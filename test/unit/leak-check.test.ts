import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticSourceSchema } from '../../core/data/source-spec';
import type { Sample } from '../../core/data/sample';
import { drawSynthetic, syntheticClassNames } from '../../core/data/synthetic';
import { wilsonInterval } from '../../core/leaks/interval';
import { leakCheck, type LeakReport } from '../../core/leaks/leak-check';
import { Rng } from '../../core/data/rng';

test('Wilson interval matches published values', () => {
  // Newcombe (1998), table I: 81/263 -> 0.2553..0.3662; 0/10 -> 0..0.2775
  const [a, b] = wilsonInterval(81, 263);
  assert.ok(Math.abs(a - 0.2553) < 5e-4 && Math.abs(b - 0.3662) < 5e-4, `${a} ${b}`);
  const [c, d] = wilsonInterval(0, 10);
  assert.ok(c === 0 && Math.abs(d - 0.2775) < 5e-4, `${c} ${d}`);
});

/**
 * A hand-built dataset whose leak is known: grey noise backgrounds, and a box whose width is 4 + 3 * label
 * pixels when `leak`, or random (independent of the label) otherwise. Nothing else differs between classes.
 */
function boxes(leak: boolean, split: string, perClass: number): Sample[] {
  const K = 4;
  const S = 24;
  const rng = Rng.derive('leak-test', split, leak ? 1 : 0);
  const out: Sample[] = [];
  for (let i = 0; i < K * perClass; i++) {
    const label = i % K;
    const w = leak ? 4 + 3 * label : 4 + 3 * rng.int(K);
    const h = 8;
    const x0 = rng.int(S - w + 1);
    const y0 = rng.int(S - h + 1);
    const rgb = Uint8Array.from({ length: S * S * 3 }, () => 100 + rng.int(40));
    const mask = new Uint8Array(S * S);
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) mask[y * S + x] = 255;
    out.push({ id: `${split}/${i}`, label, width: S, height: S, rgb, mask });
  }
  return out;
}

const row = (r: LeakReport, variant: string, features: string, learner: string) =>
  r.rows.find((x) => x.variant === variant && x.features === features && x.learner === learner)!;

test('a box whose width is the class: geometry learners read it; a random box: chance', async () => {
  const names = ['a', 'b', 'c', 'd'];
  const leaky = await leakCheck(boxes(true, 'train', 60), boxes(true, 'val', 40), names);
  assert.equal(leaky.chance, 0.25);
  for (const learner of ['logistic', 'knn']) {
    const r = row(leaky, 'only_bg_b', 'geometry', learner);
    assert.ok(r.accuracy > 0.9, `${learner}: ${r.accuracy}`);
  }
  const clean = await leakCheck(boxes(false, 'train', 60), boxes(false, 'val', 40), names);
  for (const r of clean.rows)
    assert.ok(
      Math.abs(r.accuracy - clean.chance) < 3 * clean.chanceSe,
      `${r.variant} ${r.features} ${r.learner}: ${r.accuracy}`,
    );
});

const synthetic = (over: object) =>
  syntheticSourceSchema.parse({ source: 'synthetic', size: 32, perClass: { train: 120, val: 80 }, ...over });
async function checkSynthetic(over: object): Promise<LeakReport> {
  const spec = synthetic(over);
  const draw = (split: 'train' | 'val') =>
    Array.from(
      { length: spec.classes * spec.perClass[split] },
      (_, u) => drawSynthetic(spec, split, u).sample,
    );
  return leakCheck(draw('train'), draw('val'), syntheticClassNames(spec));
}

// 12 comparisons (3 seeds x 2 variants x 2 learners): at +-2 SE each, a leak-free generator would miss one
// about 40% of the time by chance alone (seed 3, only_bg_t, k-NN read 2.01 SE). The family-wise 5% bound
// (Bonferroni, z = 2.87 for 12 two-sided tests) rounds to 3 SE.
const FAMILY_Z = 3;

test('the default generator at p=0 reads chance (family-wise 95%) on 3 seeds; at p=0.9 clearly above', async () => {
  for (const seed of [1, 2, 3]) {
    const r = await checkSynthetic({ bgCorrelation: 0, seed });
    for (const x of r.rows.filter((x) => x.features === 'all'))
      assert.ok(
        Math.abs(x.accuracy - r.chance) <= FAMILY_Z * r.chanceSe,
        `seed ${seed} ${x.variant} ${x.learner}: ${x.accuracy} vs chance ${r.chance} +- ${FAMILY_Z * r.chanceSe}`,
      );
  }
  const r = await checkSynthetic({ bgCorrelation: 0.9, seed: 1 });
  for (const variant of ['only_bg_b', 'only_bg_t']) {
    const best = Math.max(...r.rows.filter((x) => x.variant === variant).map((x) => x.ci[0]));
    assert.ok(best > r.chance + 0.2, `${variant} at p=0.9: best lower bound ${best}`);
  }
});

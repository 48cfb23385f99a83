/**
 * The class-factors sweep as a family of study specs (a study holds one dataset, core/spec/plan.ts): from
 * presets/class-factors.json, one spec per factor and strength, written to a folder for `bgstudy run --spec`.
 * Each factor moves alone (the others stay 0, p stays 0), and the p row is the fourth factor, background family.
 *
 * usage: npx tsx bench/class-factors-specs.ts [--out bench/out/class-factors] [--strengths 0,0.5,0.9]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const out = arg('out', path.join(__dirname, 'out', 'class-factors'));
const strengths = arg('strengths', '0,0.5,0.9').split(',').map(Number);
const base = JSON.parse(
  readFileSync(path.join(__dirname, '..', 'presets', 'class-factors.json'), 'utf8'),
) as {
  name: string;
  dataset: { bgCorrelation: number; factors: Record<string, number> };
};
mkdirSync(out, { recursive: true });
for (const factor of ['shadow', 'distractor', 'classSize', 'bgCorrelation'])
  for (const s of strengths) {
    const spec = structuredClone(base);
    spec.name = `${base.name}-${factor}-${s}`;
    if (factor === 'bgCorrelation') spec.dataset.bgCorrelation = s;
    else spec.dataset.factors[factor] = s;
    const file = path.join(out, `${spec.name}.json`);
    writeFileSync(file, `${JSON.stringify(spec, null, 2)}\n`);
    console.log(`npx bgstudy run --spec ${file}`);
  }

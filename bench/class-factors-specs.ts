/**
 * The class-factors sweep as a family of study specs (a study holds one dataset, core/spec/plan.ts): from
 * presets/class-factors.json, one spec per factor and strength, written to a folder for `bgstudy run --spec`.
 * Each factor moves alone (the others stay 0, p stays 0), and the p row is the fourth factor, background family;
 * strength 0 (everything off) is one study shared by all. `bgstudy report-factors <the specs>` then reads them together.
 *
 * usage: npx tsx bench/class-factors-specs.ts [--out bench/out/class-factors] [--strengths 0,0.5,0.9]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { arg } from './args';

const out = arg('out', path.join(__dirname, 'out', 'class-factors'));
const strengths = arg('strengths', '0,0.5,0.9').split(',').map(Number);
const base = JSON.parse(
  readFileSync(path.join(__dirname, '..', 'presets', 'class-factors.json'), 'utf8'),
) as {
  name: string;
  dataset: { bgCorrelation: number; factors: Record<string, number> };
};
mkdirSync(out, { recursive: true });
const files: string[] = [];
const write = (spec: typeof base) => {
  const file = path.join(out, `${spec.name}.json`);
  writeFileSync(file, `${JSON.stringify(spec, null, 2)}\n`);
  files.push(file);
  console.log(`npx bgstudy run --spec ${file}`);
};
// Strength 0 of every factor is one study (p = 0, every factor off): written once, it is each factor's baseline.
if (strengths.includes(0)) write({ ...structuredClone(base), name: `${base.name}-off` });
for (const factor of ['shadow', 'distractor', 'classSize', 'bgCorrelation'])
  for (const s of strengths.filter((x) => x > 0)) {
    const spec = structuredClone(base);
    spec.name = `${base.name}-${factor}-${s}`;
    if (factor === 'bgCorrelation') spec.dataset.bgCorrelation = s;
    else spec.dataset.factors[factor] = s;
    write(spec);
  }
console.log(`then: npx bgstudy report-factors ${files.join(' ')}`);

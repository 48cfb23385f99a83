import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli } from '../helpers/cli';
import { parseVariantLabel } from '../../core/report/variant-label';
import { VARIANTS } from '../../core/variants/registry';
import {
  parseVariantArg,
  variantLabel,
  variantSpecSchema,
  XIAO_VARIANTS,
} from '../../core/variants/variant-spec';

// The variant table of the study description (STUDY.md), in its order.
const STUDY_VARIANTS = [
  'original',
  'only_bg_b',
  'only_bg_t',
  'no_fg',
  'only_fg',
  'mixed_same',
  'mixed_rand',
  'mixed_next',
  'bg_color',
  'bg_blur',
  'bg_reduced',
  'fg_mask_quality',
  'generic_bg',
];

test('bgstudy variants list prints every variant with its parameters and their bounds', async () => {
  const text = await cli(['variants', 'list']);
  const names = text
    .split('\n')
    .filter((l) => /^\S/.test(l))
    .map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(names, STUDY_VARIANTS);
  assert.match(text, /^\s+sigma: number in \(0, 64\], required/m);
  assert.match(text, /^\s+k: integer in \[0, 256\], default 0/m);
  assert.match(text, /^mixed_rand .*paired/m);
  assert.doesNotMatch(text, /^bg_blur .*paired/m);

  const infos = JSON.parse(await cli(['variants', 'list', '--json'])) as {
    name: string;
    params: { name: string }[];
  }[];
  assert.deepEqual(
    infos.find((i) => i.name === 'fg_mask_quality')?.params.map((p) => p.name),
    ['op', 'k'],
  );
  // the printed bounds are the schema's: sigma 64 is accepted, 0 and 64.5 are not
  assert.equal(parseVariantArg('bg_blur:sigma=64').name, 'bg_blur');
  assert.throws(() => parseVariantArg('bg_blur:sigma=0'), /sigma/);
  assert.throws(() => parseVariantArg('bg_blur:sigma=64.5'), /sigma/);
});

test('every entry: its example parses, and its label reads back as the same variant (the report relies on it)', () => {
  for (const v of VARIANTS) {
    const spec = variantSpecSchema.parse(v.example);
    assert.equal(spec.name, v.name);
    const { name, params } = parseVariantLabel(variantLabel(spec));
    assert.deepEqual(variantSpecSchema.parse({ name, ...params }), spec, v.name);
  }
});

test("Xiao's eight variants are the upstream folders, none with parameters", () => {
  assert.deepEqual(XIAO_VARIANTS, STUDY_VARIANTS.slice(0, 8));
  for (const name of XIAO_VARIANTS) assert.deepEqual(variantSpecSchema.parse(name), { name });
});

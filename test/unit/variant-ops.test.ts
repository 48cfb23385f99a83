import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticSourceSchema } from '../../core/data/source-spec';
import { drawSynthetic } from '../../core/data/synthetic';
import { onlyBgT, rawImage, type RawImage } from '../../core/variants/ops';
import { applyVariant } from '../../core/variants/registry';
import { largestBackgroundRect, squaredDistanceTo } from '../../core/variants/morphology';
import {
  PALETTE,
  parseVariantArg,
  variantSpecSchema,
  type VariantSpecInput,
} from '../../core/variants/variant-spec';

const spec = syntheticSourceSchema.parse({ source: 'synthetic', size: 32 });
function sample(u: number): RawImage {
  const s = drawSynthetic(spec, 'train', u).sample;
  return rawImage(s.width, s.height, s.rgb, s.mask!);
}
const run = (v: VariantSpecInput, src: RawImage, donor?: RawImage) =>
  applyVariant(variantSpecSchema.parse(v), src, donor);
const px = (rgb: Uint8Array, i: number) => [rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]];
const inBox = (img: RawImage, i: number) => {
  const x = i % img.width;
  const y = Math.floor(i / img.width);
  return x >= img.bbox[0] && x < img.bbox[2] && y >= img.bbox[1] && y < img.bbox[3];
};
/** Brute-force Euclidean distance from pixel i to the nearest pixel where pred holds. */
function bruteDist(img: RawImage, i: number, pred: (j: number) => boolean): number {
  let best = Infinity;
  const x = i % img.width;
  const y = Math.floor(i / img.width);
  for (let j = 0; j < img.mask.length; j++)
    if (pred(j)) best = Math.min(best, Math.hypot((j % img.width) - x, Math.floor(j / img.width) - y));
  return best;
}

test('original copies; only_fg is zero outside the mask and the original inside; no_fg the reverse', () => {
  for (const u of [0, 5, 11]) {
    const img = sample(u);
    assert.deepEqual(run('original', img), img.rgb);
    const fg = run('only_fg', img);
    const nofg = run('no_fg', img);
    for (let i = 0; i < img.mask.length; i++) {
      const zero = [0, 0, 0];
      if (img.mask[i]) {
        assert.deepEqual(px(fg, i), px(img.rgb, i));
        assert.deepEqual(px(nofg, i), zero);
      } else {
        assert.deepEqual(px(fg, i), zero);
        assert.deepEqual(px(nofg, i), px(img.rgb, i));
      }
    }
  }
});

test('only_bg_b is black exactly on the bbox; only_bg_t fills it with background pixels only', () => {
  const img = sample(3);
  const b = run('only_bg_b', img);
  const t = run('only_bg_t', img);
  const bgColours = new Set<string>();
  for (let i = 0; i < img.mask.length; i++) if (!img.mask[i]) bgColours.add(px(img.rgb, i).join());
  let boxPixels = 0;
  for (let i = 0; i < img.mask.length; i++) {
    if (inBox(img, i)) {
      boxPixels++;
      assert.deepEqual(px(b, i), [0, 0, 0]);
      assert.ok(bgColours.has(px(t, i).join()), `only_bg_t pixel ${i} is not a background colour`);
    } else {
      assert.deepEqual(px(b, i), px(img.rgb, i));
      assert.deepEqual(px(t, i), px(img.rgb, i));
    }
  }
  assert.ok(boxPixels > 50);
});

test('largestBackgroundRect finds the largest mask-free rectangle', () => {
  // 6x4, foreground column at x=2: left block 2x4=8, right block 3x4=12
  const w = 6;
  const h = 4;
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) mask[y * w + 2] = 255;
  assert.deepEqual(largestBackgroundRect(mask, w, h), [3, 0, 6, 4]);
  assert.equal(largestBackgroundRect(new Uint8Array(4).fill(255), 2, 2), undefined);
});

test('bg_blur changes only background pixels and never bleeds the foreground colour into them', () => {
  // left half red, right half blue, a green square in the middle
  const w = 24;
  const rgb = new Uint8Array(w * w * 3);
  const mask = new Uint8Array(w * w);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const fg = x >= 9 && x < 15 && y >= 9 && y < 15;
      mask[i] = fg ? 255 : 0;
      rgb.set(fg ? [0, 255, 0] : x < 12 ? [255, 0, 0] : [0, 0, 255], i * 3);
    }
  }
  const img = rawImage(w, w, rgb, mask);
  const out = run({ name: 'bg_blur', sigma: 2 }, img);
  let changed = 0;
  for (let i = 0; i < w * w; i++) {
    if (mask[i]) assert.deepEqual(px(out, i), [0, 255, 0]);
    else {
      assert.equal(out[i * 3 + 1], 0, `green leaked into background pixel ${i}`);
      if (px(out, i).join() !== px(rgb, i).join()) changed++;
    }
  }
  assert.ok(changed > 20, `only ${changed} background pixels changed`);
  // far from the red/blue edge a constant background stays constant
  assert.deepEqual(px(out, 0), [255, 0, 0]);
  // on a real image, blur changes the (textured) background
  const real = sample(7);
  const blurred = run({ name: 'bg_blur', sigma: 3 }, real);
  let diff = 0;
  for (let i = 0; i < real.mask.length; i++) {
    if (real.mask[i]) assert.deepEqual(px(blurred, i), px(real.rgb, i));
    else if (px(blurred, i).join() !== px(real.rgb, i).join()) diff++;
  }
  assert.ok(diff > 100);
});

test('bg_reduced keeps background only within distance r of the mask (pixels and fractions)', () => {
  const img = sample(4);
  for (const [r, rpx] of [
    [3, 3],
    [0.125, 4],
  ] as const) {
    const out = run({ name: 'bg_reduced', r }, img);
    let kept = 0;
    for (let i = 0; i < img.mask.length; i++) {
      const d = bruteDist(img, i, (j) => img.mask[j] !== 0);
      if (d <= rpx) {
        assert.deepEqual(px(out, i), px(img.rgb, i));
        if (!img.mask[i]) kept++;
      } else assert.deepEqual(px(out, i), [0, 0, 0], `pixel ${i} at distance ${d} > ${rpx} not black`);
    }
    assert.ok(kept > 0);
  }
});

test('fg_mask_quality: bbox keeps the box, erode keeps pixels deeper than k', () => {
  const img = sample(1);
  const box = run({ name: 'fg_mask_quality', op: 'bbox' }, img);
  for (let i = 0; i < img.mask.length; i++)
    assert.deepEqual(px(box, i), inBox(img, i) ? px(img.rgb, i) : [0, 0, 0]);
  const er = run({ name: 'fg_mask_quality', op: 'erode', k: 2 }, img);
  let kept = 0;
  for (let i = 0; i < img.mask.length; i++) {
    const deep = img.mask[i] !== 0 && bruteDist(img, i, (j) => img.mask[j] === 0) > 2;
    assert.deepEqual(px(er, i), deep ? px(img.rgb, i) : [0, 0, 0]);
    if (deep) kept++;
  }
  assert.ok(kept > 0);
});

test('squaredDistanceTo matches brute force', () => {
  const img = sample(8);
  const d = squaredDistanceTo((j) => img.mask[j] !== 0, img.width, img.height);
  for (let i = 0; i < img.mask.length; i += 7)
    assert.equal(d[i], Math.round(bruteDist(img, i, (j) => img.mask[j] !== 0) ** 2));
});

test('bg_color: background is the palette colour, contrast picks the farthest from the foreground', () => {
  const img = sample(2);
  const red = run({ name: 'bg_color', color: 'red' }, img);
  const contrast = run({ name: 'bg_color', color: 'contrast' }, img);
  const match = run({ name: 'bg_color', color: 'match' }, img);
  const bgPixel = img.mask.findIndex((m) => m === 0);
  const fgMean = [0, 0, 0];
  let n = 0;
  for (let i = 0; i < img.mask.length; i++) {
    if (img.mask[i]) {
      assert.deepEqual(px(red, i), px(img.rgb, i));
      for (let k = 0; k < 3; k++) fgMean[k]! += img.rgb[i * 3 + k]!;
      n++;
    } else assert.deepEqual(px(red, i), [...PALETTE.red]);
  }
  const dist = (c: number[]) =>
    Math.hypot(c[0]! - fgMean[0]! / n, c[1]! - fgMean[1]! / n, c[2]! - fgMean[2]! / n);
  const all = Object.values(PALETTE).map((c) => dist([...c]));
  assert.equal(dist(px(contrast, bgPixel) as number[]), Math.max(...all));
  assert.equal(dist(px(match, bgPixel) as number[]), Math.min(...all));
});

test('mixed_*: the foreground of the source on the only_bg_t of the donor', () => {
  const src = sample(0);
  const donor = sample(10);
  const out = run('mixed_next', src, donor);
  const bg = onlyBgT(donor);
  for (let i = 0; i < src.mask.length; i++)
    assert.deepEqual(px(out, i), src.mask[i] ? px(src.rgb, i) : px(bg, i));
});

test('variant specs: string and object forms, command-line form, clear errors', () => {
  assert.deepEqual(variantSpecSchema.parse('mixed_rand'), { name: 'mixed_rand' });
  assert.deepEqual(variantSpecSchema.parse({ name: 'fg_mask_quality', op: 'bbox', k: 3 }), {
    name: 'fg_mask_quality',
    op: 'bbox',
    k: 0,
  });
  assert.deepEqual(parseVariantArg('bg_blur:sigma=4'), { name: 'bg_blur', sigma: 4 });
  assert.deepEqual(parseVariantArg('fg_mask_quality:op=erode,k=2'), {
    name: 'fg_mask_quality',
    op: 'erode',
    k: 2,
  });
  assert.deepEqual(parseVariantArg('bg_color'), { name: 'bg_color', color: 'contrast' });
  assert.throws(() => parseVariantArg('bg_blur:sigma=x'), /sigma/);
  assert.throws(() => parseVariantArg('bg_blurr'), /unknown variant "bg_blurr"/);
  assert.throws(() => variantSpecSchema.parse({ name: 'bg_reduced', r: -1 }));
});

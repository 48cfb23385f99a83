import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { type ManifestWithItems, readManifestWithItems } from '../../core/data/manifest-items';
import { prepareDataset } from '../../core/data/prepare';
import type { Sample } from '../../core/data/sample';
import { openSampleSource } from '../../core/data/sample-source';
import { Rng } from '../../core/data/rng';
import { sourceSpecSchema } from '../../core/data/source-spec';
import { boxAfterCover, boxMask, clipBox, parseVocXml, readBoxTable } from '../../core/masks/boxes';
import { grabCutMask } from '../../core/masks/grabcut';
import { GrabCutPool } from '../../core/masks/grabcut-pool';
import { checkMask, countComponents, invertMask, maskIoU } from '../../core/masks/mask-checks';
import { type MaskSpecInput, maskSpecSchema } from '../../core/masks/mask-spec';
import { materializeVariant } from '../../core/variants/materialize';
import { variantSpecSchema } from '../../core/variants/variant-spec';
import { FsArtifactStore } from '../../store/fs-store';
import { tempDir } from '../helpers/env';
import { writeImage, writeMask } from '../helpers/image-fixtures';
import { drawnObjects, vocXml, writeDrawn } from '../helpers/mask-fixtures';

const checks = maskSpecSchema.parse({}).checks;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function samplesOf(store: FsArtifactStore, key: string): Promise<Map<string, Sample>> {
  const out = new Map<string, Sample>();
  for (const split of ['train', 'val'] as const) {
    const m = await readManifestWithItems(store, key);
    if (!m.splits[split]) continue;
    for await (const s of (await openSampleSource(store, key, split)).iterate()) out.set(s.id, s);
  }
  return out;
}

describe('mask sanity checks', () => {
  const W = 20;
  const H = 16;
  const rect = boxMask([[5, 4, 14, 12]], W, H);

  test('a clean object mask has no flags; its inverse (swapped polarity) touches all four borders', () => {
    const ok = checkMask(rect, W, H, checks);
    assert.deepEqual(ok.flags, []);
    assert.equal(ok.components, 1);
    assert.equal(ok.fg, (9 * 8) / (W * H));
    const swapped = checkMask(invertMask(rect), W, H, checks);
    assert.deepEqual(swapped.flags, ['all-borders']);
    assert.equal(swapped.fg, 1 - ok.fg);
  });

  test('empty and full masks, shares outside the bounds, and many pieces are flagged', () => {
    assert.deepEqual(checkMask(new Uint8Array(W * H), W, H, checks).flags, ['empty']);
    assert.deepEqual(checkMask(new Uint8Array(W * H).fill(255), W, H, checks).flags, ['full']);
    const tiny = boxMask([[3, 3, 4, 4]], W, H); // 1 pixel of 320
    assert.deepEqual(checkMask(tiny, W, H, checks).flags, ['fg-low']);
    const big = boxMask([[0, 0, W, H - 1]], W, H);
    assert.deepEqual(checkMask(big, W, H, { ...checks, maxFgFraction: 0.9 }).flags, ['fg-high']);
    // a 4x4 grid of separate 2x2 dots: 16 pieces (diagonal neighbours would join them: 3 px apart they don't)
    const dots = boxMask(
      Array.from({ length: 16 }, (_, k) => {
        const x = 1 + (k % 4) * 4;
        const y = 1 + Math.floor(k / 4) * 4;
        return [x, y, x + 2, y + 2] as [number, number, number, number];
      }),
      W,
      H,
    );
    assert.equal(countComponents(dots, W, H), 16);
    assert.deepEqual(checkMask(dots, W, H, checks).flags, ['fragmented']);
    assert.deepEqual(checkMask(dots, W, H, { ...checks, maxComponents: 16 }).flags, []);
    // diagonal contact joins pieces (8-connectivity)
    assert.equal(
      countComponents(
        boxMask(
          [
            [0, 0, 1, 1],
            [1, 1, 2, 2],
          ],
          W,
          H,
        ),
        W,
        H,
      ),
      1,
    );
  });

  test('IoU', () => {
    const a = boxMask([[0, 0, 10, 10]], W, H);
    const b = boxMask([[5, 0, 15, 10]], W, H);
    assert.equal(maskIoU(a, b), 50 / 150);
    assert.equal(maskIoU(a, a), 1);
  });
});

describe('boxes', () => {
  test('VOC XML: every object is read; malformed XML is an error naming the file', () => {
    const xml = vocXml(40, 30, [
      { name: 'n01440764', box: [2, 3, 20, 25] },
      { name: 'n99999999', box: [10, 10, 30, 29] },
    ]);
    const ann = parseVocXml(xml, '/data/a.xml');
    assert.equal(ann.width, 40);
    assert.equal(ann.height, 30);
    assert.deepEqual(
      ann.objects.map((o) => [o.name, o.box]),
      [
        ['n01440764', [2, 3, 20, 25]],
        ['n99999999', [10, 10, 30, 29]],
      ],
    );
    assert.throws(
      () => parseVocXml('<annotation><object><name>x</name></annotation>', '/data/broken.xml'),
      (err: Error) => err.message.startsWith('/data/broken.xml: malformed XML'),
    );
    assert.throws(
      () =>
        parseVocXml(
          '<annotation><object><name>x</name><bndbox><xmin>a</xmin></bndbox></object></annotation>',
          '/d/b.xml',
        ),
      /\/d\/b\.xml: object 1 \(x\) has no numeric <bndbox>/,
    );
  });

  test('boxes are clipped to the image (noted), boxes outside are dropped, and follow the centre crop', () => {
    assert.deepEqual(clipBox([2, 3, 10, 12], 20, 20), { box: [2, 3, 10, 12] });
    assert.deepEqual(clipBox([0, 1, 20, 21], 20, 20), { box: [0, 1, 20, 20] }); // 1 px slack, silent
    const clipped = clipBox([-5, 2, 30, 10], 20, 20);
    assert.deepEqual(clipped.box, [0, 2, 20, 10]);
    assert.match(clipped.note!, /extends outside the 20x20 image; clipped/);
    assert.match(clipBox([25, 2, 30, 10], 20, 20).note!, /lies outside the 20x20 image/);
    assert.equal(clipBox([25, 2, 30, 10], 20, 20).box, undefined);
    // 40x20 -> cover 16: scale 0.8 to 32x16, 8 px cropped on the left
    assert.deepEqual(boxAfterCover([10, 5, 20, 15], 40, 20, 16), [0, 4, 8, 12]);
    assert.equal(boxAfterCover([0, 0, 5, 20], 40, 20, 16), undefined);
  });

  test('CSV and JSON tables: several boxes per image; bad rows are reported by file and line', async () => {
    const dir = await tempDir();
    const csv = path.join(dir, 'boxes.csv');
    await writeFile(csv, 'image,xmin,ymin,xmax,ymax\na,1,2,3,4\na,5,6,7,8\ncat/b,0,0,9,9\nc,1,x,3,4\n');
    const t = await readBoxTable(csv, 'csv');
    assert.deepEqual(t.boxes.get('a'), [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    assert.deepEqual(t.boxes.get('cat/b'), [[0, 0, 9, 9]]);
    assert.deepEqual(t.problems, [{ file: csv, reason: 'line 5: box of "c" is not four numbers' }]);
    const json = path.join(dir, 'boxes.json');
    await writeFile(json, JSON.stringify({ a: [[1, 2, 3, 4]], b: 'oops' }));
    const j = await readBoxTable(json, 'json');
    assert.deepEqual(j.boxes.get('a'), [[1, 2, 3, 4]]);
    assert.deepEqual(j.problems, [{ file: json, reason: '"b": expected a list of boxes' }]);
  });
});

describe('GrabCut', () => {
  const objects = drawnObjects(9, 64);
  let pool: GrabCutPool | undefined;
  after(() => pool?.close());

  test('from the true box it recovers drawn objects (mean IoU >= 0.9, each >= 0.6), far better than the box', async () => {
    const ious: number[] = [];
    const boxIous: number[] = [];
    for (const o of objects) {
      const m = await grabCutMask({
        ...o,
        width: o.size,
        height: o.size,
        boxes: [o.box],
        params: { iterations: 5, margin: 0 },
      });
      ious.push(maskIoU(m, o.mask));
      boxIous.push(maskIoU(boxMask([o.box], o.size, o.size), o.mask));
    }
    assert.ok(
      mean(ious) >= 0.9,
      `mean IoU ${mean(ious).toFixed(3)}: ${ious.map((x) => x.toFixed(2)).join(' ')}`,
    );
    assert.ok(Math.min(...ious) >= 0.6, `min IoU ${Math.min(...ious).toFixed(3)}`);
    assert.ok(mean(ious) > mean(boxIous) + 0.2, `GrabCut ${mean(ious)} vs box ${mean(boxIous)}`);
  });

  test('worker threads give the same masks as this thread; a box over the whole image still works', async () => {
    pool = new GrabCutPool(2);
    const jobs = objects.slice(0, 4).map((o) => ({
      width: o.size,
      height: o.size,
      rgb: o.rgb,
      boxes: [o.box],
      params: { iterations: 3, margin: 0.05 },
    }));
    const threaded = await pool.run(jobs);
    const local = await new GrabCutPool(1).run(jobs);
    for (let i = 0; i < jobs.length; i++) {
      assert.equal(threaded[i]!.error, undefined);
      assert.deepEqual(threaded[i]!.mask, local[i]!.mask);
    }
    const o = objects[0]!;
    const whole = await grabCutMask({
      ...o,
      width: 64,
      height: 64,
      boxes: [[0, 0, 64, 64]],
      params: { iterations: 3, margin: 0 },
    });
    const c = checkMask(whole, 64, 64, checks);
    assert.ok(c.fg > 0 && c.fg < 1, `whole-image box gave fg share ${c.fg}`);
  });

  test('a mask depends on its image alone: a second pass, the reverse order and two threads give the same masks', async () => {
    // Noisy images whose object and background colours overlap, so GrabCut's k-means++ start matters: with
    // OpenCV's RNG carried over from earlier images, some of these masks changed between passes.
    const jobs = Array.from({ length: 12 }, (_, k) => {
      const rng = new Rng(k + 1);
      const n = 64;
      const [x0, y0] = [12 + rng.intIn(0, 8), 12 + rng.intIn(0, 8)];
      const [x1, y1] = [44 + rng.intIn(0, 8), 44 + rng.intIn(0, 8)];
      const rgb = new Uint8Array(n * n * 3);
      for (let y = 0; y < n; y++)
        for (let x = 0; x < n; x++) {
          const inside = x >= x0 && x < x1 && y >= y0 && y < y1 && (x - x0) * (y1 - y) > 40;
          for (let c = 0; c < 3; c++)
            rgb[(y * n + x) * 3 + c] = Math.max(
              0,
              Math.min(255, (inside ? 140 + 30 * c : 110 + 10 * c) + rng.intIn(-60, 60)),
            );
        }
      return {
        width: n,
        height: n,
        rgb,
        boxes: [[x0 - 2, y0 - 2, x1 + 2, y1 + 2] as [number, number, number, number]],
        params: { iterations: 3, margin: 0.05 },
      };
    });
    const first: Uint8Array[] = [];
    for (const j of jobs) first.push(await grabCutMask(j));
    const reversed: Uint8Array[] = [];
    for (const j of [...jobs].reverse()) reversed.unshift(await grabCutMask(j));
    const threads = new GrabCutPool(2);
    const threaded = await threads.run(jobs).finally(() => threads.close());
    for (let i = 0; i < jobs.length; i++) {
      assert.deepEqual(reversed[i], first[i], `image ${i}, reverse order`);
      assert.deepEqual(threaded[i]!.mask, first[i], `image ${i}, two threads`);
    }
  });
});

describe('datasets with masks from boxes', () => {
  test('folder + VOC boxes, no masks: GrabCut masks near the truth; bad annotations reported by file', async () => {
    const root = await tempDir();
    const objects = drawnObjects(12, 48, 3);
    const classes = ['n00000001', 'n00000002'];
    const truth = new Map<string, Uint8Array>();
    for (const [i, o] of objects.entries()) {
      const cls = classes[i % 2]!;
      const stem = `img${i}`;
      let xml = vocXml(48, 48, [
        { name: cls, box: o.box },
        { name: 'n12345678', box: [0, 0, 10, 10] }, // another class's object: not used
      ]);
      if (i === 0) xml = '<annotation><object><name>n00000001</name>'; // malformed
      if (i === 1) xml = vocXml(48, 48, [{ name: 'n55555555', box: o.box }]); // no object of its class
      if (i === 2) xml = vocXml(48, 48, [{ name: cls, box: [o.box[0], o.box[1], 70, o.box[3]] }]); // beyond the edge
      await writeDrawn(root, cls, stem, o, { xml });
      truth.set(`${cls}/${stem}`, o.mask);
    }
    const store = new FsArtifactStore(await tempDir());
    const source = {
      source: 'folder' as const,
      path: path.join(root, 'images'),
      valFraction: 0.5,
      masks: {
        use: 'grabcut' as const,
        compare: ['box' as const],
        boxes: { format: 'voc-xml' as const, path: path.join(root, 'boxes') },
        grabcut: { iterations: 4 },
      },
    };
    const ds = await prepareDataset(store, source, { tar: false, maskThreads: 2 });
    const m = await readManifestWithItems(store, ds.manifestKey);
    const reasons = new Map(m.skipped.map((s) => [path.relative(root, s.file), s.reason]));
    assert.match(reasons.get('boxes/n00000001/img0.xml') ?? '', /^malformed XML/);
    assert.match(
      reasons.get('boxes/n00000002/img1.xml') ?? '',
      /no object named n00000002 \(objects: n55555555\)/,
    );
    assert.equal(m.skipped.length, 2, JSON.stringify(m.skipped));
    const samples = await samplesOf(store, ds.manifestKey);
    assert.equal(samples.size, 10);
    const ious: number[] = [];
    for (const [id, s] of samples) ious.push(maskIoU(s.mask!, truth.get(id.split('/').slice(1).join('/'))!));
    assert.ok(mean(ious) >= 0.85, `IoU to the drawn masks: ${ious.map((x) => x.toFixed(2)).join(' ')}`);
    const items = [...(m.splits.train?.items ?? []), ...(m.splits.val?.items ?? [])];
    const clipped = items.find((it) => it.id.endsWith('/img2'))!;
    assert.match(
      clipped.notes?.[0] ?? '',
      /img2\.xml: box \[.*, 70, .*\] extends outside the 48x48 image; clipped/,
    );
    // the summary: both sources, no provided masks so no IoU; the note is listed
    const sum = m.masks!;
    assert.equal(sum.use, 'grabcut');
    assert.deepEqual(sum.sources, ['grabcut', 'box']);
    assert.equal(sum.boxes, 'voc-xml');
    assert.deepEqual(
      sum.perSource.map((p) => [p.source, p.masks, p.iou]),
      [
        ['grabcut', 10, undefined],
        ['box', 10, undefined],
      ],
    );
    assert.ok(sum.perSource[0]!.meanFg < sum.perSource[1]!.meanFg, 'GrabCut masks are inside their boxes');
    assert.equal(sum.notesCount, 1);
    assert.deepEqual(ds.masks?.perSource, sum.perSource);
    // GrabCut batches are content-keyed: another dataset on the same images and boxes reuses them
    const cached = await store.list('masks/grabcut');
    assert.ok(cached.length >= 2, `cached batches: ${cached.join(', ')}`);
    const other = await prepareDataset(
      store,
      { ...source, masks: { ...source.masks, use: 'box' as const, compare: ['grabcut' as const] } },
      { tar: false, maskThreads: 1 },
    );
    assert.notEqual(other.manifestKey, ds.manifestKey);
    assert.deepEqual(await store.list('masks/grabcut'), cached);
    const om = await readManifestWithItems(store, other.manifestKey);
    const gi = (mm: ManifestWithItems) =>
      Object.fromEntries(
        [...(mm.splits.train?.items ?? []), ...(mm.splits.val?.items ?? [])].map((it) => [
          it.id,
          it.masks?.grabcut?.fg,
        ]),
      );
    assert.deepEqual(gi(om), gi(m));
  });

  test('provided masks: swapped polarity flagged and inverted (policy invert) or skipped (policy skip); IoU per source', async () => {
    const root = await tempDir();
    const objects = drawnObjects(6, 48, 5);
    for (const [i, o] of objects.entries())
      await writeDrawn(root, i % 2 ? 'dog' : 'cat', `m${i}`, o, {
        mask: i === 3 ? invertMask(o.mask) : o.mask,
      });
    const store = new FsArtifactStore(await tempDir());
    const base = {
      source: 'folder' as const,
      path: path.join(root, 'images'),
      maskPath: path.join(root, 'masks'),
      valFraction: 0,
    };
    const inv = await prepareDataset(
      store,
      { ...base, masks: { compare: ['grabcut', 'box'], checks: { policy: 'invert' } } },
      { tar: false, maskThreads: 1 },
    );
    const mi = await readManifestWithItems(store, inv.manifestKey);
    assert.equal(inv.counts.train, 6);
    const m3 = path.join(root, 'masks/dog/m3.png');
    assert.deepEqual(mi.masks!.flagged, [
      { id: 'train/dog/m3', file: m3, source: 'provided', flags: ['all-borders'], action: 'inverted' },
    ]);
    const s3 = (await samplesOf(store, inv.manifestKey)).get('train/dog/m3')!;
    assert.deepEqual(s3.mask, objects[3]!.mask, 'the inverted mask is the drawn object');
    const per = Object.fromEntries(mi.masks!.perSource.map((p) => [p.source, p]));
    assert.equal(per.provided!.iou, undefined);
    assert.equal(per.grabcut!.iou!.n, 6);
    assert.ok(per.grabcut!.iou!.mean >= 0.85, `GrabCut IoU ${per.grabcut!.iou!.mean}`);
    assert.ok(per.grabcut!.iou!.mean > per.box!.iou!.mean + 0.15, 'GrabCut beats the box');
    assert.ok(per.box!.iou!.mean > 0.3 && per.box!.iou!.mean < 0.95);

    const skip = await prepareDataset(
      store,
      { ...base, masks: { checks: { policy: 'skip' } } },
      { tar: false },
    );
    const ms = await readManifestWithItems(store, skip.manifestKey);
    assert.equal(skip.counts.train, 5);
    const skipped = ms.skipped.find((s) => s.id === 'train/dog/m3')!;
    assert.equal(path.relative(root, skipped.file), 'masks/dog/m3.png');
    assert.match(
      skipped.reason,
      /mask check \(provided\): all-borders: .*likely swapped polarity.*; policy skip/,
    );
    assert.deepEqual(ms.masks!.flagged, [
      { id: 'train/dog/m3', file: m3, source: 'provided', flags: ['all-borders'], action: 'skipped' },
    ]);

    // the default (no masks section): checks run, the flagged mask is kept and reported
    const keep = await prepareDataset(store, base, { tar: false });
    const mk = await readManifestWithItems(store, keep.manifestKey);
    assert.equal(keep.counts.train, 6);
    assert.deepEqual(
      mk.masks!.flagged.map((f) => f.action),
      ['kept'],
    );
    assert.deepEqual(mk.masks!.sources, ['provided']);
    // a clean provided mask alone is not repeated per item (fgFraction says it); the summary still counts it
    const items = new Map(mk.splits.train!.items.map((it) => [it.id, it]));
    assert.equal(items.get('train/cat/m0')!.masks, undefined);
    assert.deepEqual(items.get('train/dog/m3')!.masks?.provided?.flags, ['all-borders']);
    assert.equal(mk.masks!.perSource[0]!.masks, 6);
    const meanFg = [...items.values()].reduce((a, it) => a + it.fgFraction, 0) / 6;
    assert.ok(Math.abs(mk.masks!.perSource[0]!.meanFg - meanFg) < 1e-12);
  });

  test('a folder source needs masks or boxes it can make them from', () => {
    const r = sourceSpecSchema.safeParse({ source: 'folder', path: '/x', masks: { use: 'grabcut' } });
    assert.equal(r.success, false);
    assert.match(JSON.stringify(r.error?.issues), /folder needs maskPath/);
    assert.ok(
      sourceSpecSchema.safeParse({
        source: 'folder',
        path: '/x',
        masks: { use: 'box', boxes: { format: 'csv', file: '/b.csv' } },
      }).success,
    );
  });

  test('fg_mask_quality op=grabcut: only_fg with the GrabCut mask, from the cached batches of the dataset', async () => {
    assert.deepEqual(variantSpecSchema.parse({ name: 'fg_mask_quality', op: 'grabcut' }), {
      name: 'fg_mask_quality',
      op: 'grabcut',
      k: 5,
    });
    const root = await tempDir();
    const objects = drawnObjects(6, 48, 9);
    for (const [i, o] of objects.entries())
      await writeDrawn(root, i % 2 ? 'b' : 'a', `g${i}`, o, { mask: o.mask });
    const store = new FsArtifactStore(await tempDir());
    const ds = await prepareDataset(
      store,
      {
        source: 'folder',
        path: path.join(root, 'images'),
        maskPath: path.join(root, 'masks'),
        valFraction: 0,
        masks: { compare: ['grabcut'] },
      },
      { tar: false, maskThreads: 1 },
    );
    const cached = await store.list('masks/grabcut');
    assert.equal(cached.length, 1);
    const v = await materializeVariant(store, {
      datasetManifestKey: ds.manifestKey,
      variant: { name: 'fg_mask_quality', op: 'grabcut' },
    });
    assert.deepEqual(
      await store.list('masks/grabcut'),
      cached,
      'the dataset stage computed these masks already',
    );
    const src = await samplesOf(store, ds.manifestKey);
    const out = await samplesOf(store, v.manifestKey);
    assert.equal(out.size, 6);
    let kept = 0;
    let total = 0;
    for (const [id, o] of out) {
      const s = src.get(id)!;
      assert.deepEqual(o.mask, s.mask, 'the output keeps the source mask');
      for (let p = 0; p < o.width * o.height; p++) {
        const lit = o.rgb[p * 3] !== 0 || o.rgb[p * 3 + 1] !== 0 || o.rgb[p * 3 + 2] !== 0;
        if (lit)
          assert.deepEqual([...o.rgb.subarray(p * 3, p * 3 + 3)], [...s.rgb.subarray(p * 3, p * 3 + 3)]);
        if (s.mask![p]) {
          total++;
          if (lit) kept++;
        }
      }
    }
    assert.ok(kept / total > 0.85, `object pixels kept: ${kept}/${total}`);
  });
});

/** An in9 dataset prepared from `root` with voc-xml boxes at `<root>/bbox`: its manifest and samples by id. */
async function prepareIn9(root: string, masks: MaskSpecInput) {
  const store = new FsArtifactStore(await tempDir());
  const ds = await prepareDataset(
    store,
    {
      source: 'in9',
      path: root,
      variant: 'original',
      masks: { ...masks, boxes: { format: 'voc-xml', path: path.join(root, 'bbox') } },
    },
    { tar: false, maskThreads: 1 },
  );
  return {
    m: await readManifestWithItems(store, ds.manifestKey),
    samples: await samplesOf(store, ds.manifestKey),
  };
}

test('IN-9 with masks for val only: train masks by GrabCut from ImageNet-style boxes (<wnid>/<wnid>_<n>.xml)', async () => {
  const root = await tempDir();
  const objects = drawnObjects(8, 40, 23);
  const truth = new Map<string, Uint8Array>();
  const wnids = ['n02084071', 'n01503061'];
  for (const [i, o] of objects.entries()) {
    const k = i % 2;
    const cls = ['00_dog', '01_bird'][k]!;
    const stem = `${wnids[k]}_${100 + i}`;
    const split = i < 4 ? 'train' : 'val';
    await writeImage(path.join(root, 'original', split, cls, `${stem}.png`), Buffer.from(o.rgb), 40, 40);
    if (split === 'val')
      await writeMask(path.join(root, 'fg_mask', split, cls, `${stem}.png`), o.mask, 40, 40);
    else {
      // ImageNet's annotations: one folder per synset, objects named by wnid, next to an unrelated object
      await mkdir(path.join(root, 'bbox', wnids[k]!), { recursive: true });
      await writeFile(
        path.join(root, 'bbox', wnids[k]!, `${stem}.xml`),
        vocXml(40, 40, [
          { name: 'n99999999', box: [0, 0, 3, 3] },
          { name: wnids[k]!, box: o.box },
        ]),
      );
    }
    truth.set(`${split}/${cls}/${stem}`, o.mask);
  }
  const { m, samples } = await prepareIn9(root, { use: 'grabcut' });
  assert.equal(m.splits.train?.count, 4, JSON.stringify(m.skipped));
  const trainIous = [...samples]
    .filter(([id]) => id.startsWith('train/'))
    .map(([id, s]) => maskIoU(s.mask!, truth.get(id)!));
  assert.equal(trainIous.length, 4);
  assert.ok(mean(trainIous) >= 0.85, `train masks from the wnid's box: IoU ${trainIous.join(' ')}`);
  // val has no boxes: with masks.use grabcut its images are skipped by name, each saying where it looked
  const valSkips = m.skipped.filter((s) => s.file.includes(`${path.sep}val${path.sep}`));
  assert.equal(valSkips.length, 4);
  for (const s of valSkips)
    assert.match(s.reason, /no box annotation \(looked for .*bbox\/n\d{8}\/n\d{8}_\d+\.xml\)/);
});

test('masks.fallback: IN-9 val keeps its own masks, train images without one get GrabCut masks from boxes', async () => {
  assert.match(
    String(maskSpecSchema.safeParse({ use: 'grabcut', fallback: 'box' }).error?.issues[0]?.path),
    /fallback/,
    'a fallback needs use "provided"',
  );
  const root = await tempDir();
  const objects = drawnObjects(8, 40, 29);
  const truth = new Map<string, Uint8Array>();
  for (const [i, o] of objects.entries()) {
    const cls = ['00_dog', '01_bird'][i % 2]!;
    const stem = `n0208407${i % 2}_${200 + i}`;
    const split = i < 4 ? 'train' : 'val';
    await writeImage(path.join(root, 'original', split, cls, `${stem}.png`), Buffer.from(o.rgb), 40, 40);
    if (split === 'val')
      await writeMask(path.join(root, 'fg_mask', split, cls, `${stem}.png`), o.mask, 40, 40);
    await mkdir(path.join(root, 'bbox', cls), { recursive: true });
    if (split === 'train')
      await writeFile(
        path.join(root, 'bbox', cls, `${stem}.xml`),
        vocXml(40, 40, [{ name: cls, box: o.box }]),
      );
    truth.set(`${split}/${cls}/${stem}`, o.mask);
  }
  const { m, samples } = await prepareIn9(root, { fallback: 'grabcut' });
  assert.deepEqual(m.skipped, []);
  assert.equal(m.splits.train?.count, 4);
  assert.equal(m.splits.val?.count, 4);
  for (const [id, s] of samples) {
    const iou = maskIoU(s.mask!, truth.get(id)!);
    if (id.startsWith('val/')) assert.equal(iou, 1, `${id} carries its provided mask`);
    else assert.ok(iou >= 0.7, `${id}: GrabCut mask, IoU ${iou.toFixed(2)}`);
  }
  const train = m.splits.train.items;
  assert.ok(train.every((it) => it.masks?.grabcut?.fallback === true && it.masks.provided === undefined));
  assert.ok(
    m.splits.val.items.every((it) => it.masks?.grabcut === undefined),
    'no GrabCut where not needed',
  );
  assert.deepEqual(m.masks?.sources, ['provided', 'grabcut']);
  assert.equal(m.masks?.perSource.find((p) => p.source === 'grabcut')?.masks, 4);
});

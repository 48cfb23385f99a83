import assert from 'node:assert/strict';
import { rm, symlink, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { readManifestWithItems } from '../../core/data/manifest-items';
import { prepareDataset } from '../../core/data/prepare';
import type { SourceSpecInput } from '../../core/data/source-spec';
import { readBoxTable } from '../../core/masks/boxes';
import type { GrabCutJob } from '../../core/masks/grabcut';
import { GrabCutPool } from '../../core/masks/grabcut-pool';
import { FsArtifactStore } from '../../store/fs-store';
import { EXIT_WIDTH, HANG_WIDTH, THROW_WIDTH } from '../helpers/crashing-grabcut-worker';
import { tempDir } from '../helpers/env';
import { billionLaughsXml, drawnObjects, vocXml, writeDrawn } from '../helpers/mask-fixtures';

describe('a GrabCut worker thread that dies', () => {
  const pools: GrabCutPool[] = [];
  after(() => Promise.all(pools.map((p) => p.close())));

  test('fails only its own job; the thread is replaced and the rest of the batch completes', async () => {
    const pool = new GrabCutPool(2, {
      workerFile: path.join(__dirname, '../helpers/crashing-grabcut-worker.ts'),
    });
    pools.push(pool);
    const good = drawnObjects(6, 24, 2).map((o): GrabCutJob => ({
      width: o.size,
      height: o.size,
      rgb: o.rgb,
      boxes: [o.box],
      params: { iterations: 2, margin: 0 },
    }));
    const poison = (width: number): GrabCutJob => ({
      width,
      height: width,
      rgb: new Uint8Array(width * width * 3),
      boxes: [[1, 1, width - 1, width - 1]],
      params: { iterations: 2, margin: 0 },
    });
    // both threads die (one exits, one throws) with jobs still queued behind them
    const jobs = [good[0]!, poison(EXIT_WIDTH), good[1]!, poison(THROW_WIDTH), good[2]!, good[3]!, good[4]!];
    const out = await pool.run(jobs);
    assert.match(out[1]!.error ?? '', /exited \(code 3\) while on this image; thread replaced/);
    assert.match(out[3]!.error ?? '', /failed on this image \(injected fault in the GrabCut worker\)/);
    const local = await new GrabCutPool(1).run(jobs);
    for (const i of [0, 2, 4, 5, 6]) {
      assert.equal(out[i]?.error, undefined, `job ${i}: ${out[i]?.error}`);
      assert.deepEqual(out[i]!.mask, local[i]!.mask);
    }
    assert.equal(pool.replaced, 2);
    // the pool stays usable
    const again = await pool.run([good[5]!]);
    assert.equal(again[0]!.error, undefined);
    assert.ok(again[0]!.mask.some((v) => v === 255));
  });

  test(
    'a job that never ends is stopped after the time limit; the thread is replaced',
    { timeout: 120_000 },
    async () => {
      const pool = new GrabCutPool(2, {
        workerFile: path.join(__dirname, '../helpers/crashing-grabcut-worker.ts'),
        jobTimeoutMs: 15_000,
      });
      pools.push(pool);
      const o = drawnObjects(3, 24, 3);
      const job = (i: number): GrabCutJob => ({
        width: 24,
        height: 24,
        rgb: o[i]!.rgb,
        boxes: [o[i]!.box],
        params: { iterations: 2, margin: 0 },
      });
      // both threads load OpenCV.js first, so that only the hanging jobs come near the limit (a replacement thread
      // loads it within its first job's time: that took over 5 s at load ~11, so the limit is 15 s)
      await pool.run([job(0), job(1)]);
      const hang: GrabCutJob = { ...job(0), width: HANG_WIDTH, height: HANG_WIDTH, rgb: new Uint8Array(363) };
      const out = await pool.run([hang, job(0), job(1), hang, job(2)]);
      assert.match(out[0]!.error ?? '', /ran more than 15 s on this 11x11 image; stopped, thread replaced/);
      assert.match(out[3]!.error ?? '', /ran more than 15 s/);
      for (const i of [1, 2, 4]) assert.equal(out[i]!.error, undefined, `job ${i}: ${out[i]!.error}`);
      // the second hang ends the batch on the other thread; it is replaced when the next batch needs it
      assert.equal(pool.replaced, 1);
      const again = await pool.run([job(0), job(1)]);
      assert.deepEqual(
        again.map((r) => r.error),
        [undefined, undefined],
      );
      assert.equal(pool.replaced, 2);
    },
  );
});

describe('an image that makes OpenCV.js trap', () => {
  // noise at 2500 x 2500: GrabCut's graph needs more than its 32-bit WASM memory, and the runtime traps in ~3 s
  const side = 2500;
  const big: GrabCutJob = {
    width: side,
    height: side,
    rgb: new Uint8Array(side * side * 3).map((_, i) => (i * 2654435761) >>> 24),
    boxes: [[10, 10, side - 10, side - 10]],
    params: { iterations: 1, margin: 0 },
  };
  const good = drawnObjects(4, 24, 7).map((o): GrabCutJob => ({
    width: o.size,
    height: o.size,
    rgb: o.rgb,
    boxes: [o.box],
    params: { iterations: 2, margin: 0 },
  }));
  const pools: GrabCutPool[] = [];
  after(() => Promise.all(pools.map((p) => p.close())));

  test('is refused by size before OpenCV sees it', async () => {
    const [r] = await new GrabCutPool(1).run([big]);
    assert.match(r!.error ?? '', /image is 2500x2500 = 6250000 pixels, more than GrabCut takes \(4000000/);
  });

  test('past the size check, the trap fails that image only: the broken runtime is replaced', async () => {
    const expected = await new GrabCutPool(1).run(good);
    const pool = new GrabCutPool(2, { maxPixels: Infinity });
    pools.push(pool);
    const [trapped] = await pool.run([big]);
    assert.match(
      trapped!.error ?? '',
      /OpenCV \(WASM\) failed on this 2500x2500 image \(.*out of bounds.*\); its runtime was restarted/,
    );
    // both threads take a job at once: the one that trapped would fail every job after it
    const out = await pool.run(good);
    for (const [i, r] of out.entries()) {
      assert.equal(r.error, undefined, `job ${i}: ${r.error}`);
      assert.deepEqual(r.mask, expected[i]!.mask);
    }
    assert.equal(pool.replaced, 1);
    // in this thread (maskThreads 1) a fresh runtime is loaded for the next job (a runtime kept after a trap
    // may still work once; after two, every call fails)
    const [t1, t2, r] = await new GrabCutPool(1, { maxPixels: Infinity }).run([big, big, good[0]!]);
    assert.match(t1!.error ?? '', /its runtime was restarted/);
    assert.match(t2!.error ?? '', /its runtime was restarted/);
    assert.deepEqual(r!.mask, expected[0]!.mask);
  });
});

describe('hostile box annotations', () => {
  /** A folder dataset of drawn objects with VOC boxes, masks made from the boxes (no GrabCut: fast). */
  async function vocDataset() {
    const root = await tempDir();
    const objects = drawnObjects(8, 24, 4);
    for (const [i, o] of objects.entries()) {
      const cls = i % 2 ? 'dog' : 'cat';
      await writeDrawn(root, cls, `g${i}`, o, { xml: vocXml(24, 24, [{ name: cls, box: o.box }]) });
    }
    return { root, objects, boxes: path.join(root, 'boxes') };
  }
  const prepare = async (
    root: string,
    boxes: Record<string, unknown>,
    extra: { maskPath?: string; masks?: Record<string, unknown> } = {},
  ) => {
    const store = new FsArtifactStore(await tempDir());
    const ds = await prepareDataset(
      store,
      {
        source: 'folder',
        path: path.join(root, 'images'),
        valFraction: 0,
        ...(extra.maskPath ? { maskPath: extra.maskPath } : {}),
        masks: { use: 'box', boxes, ...extra.masks },
      } as SourceSpecInput,
      { tar: false },
    );
    const m = await readManifestWithItems(store, ds.manifestKey);
    const reasons = new Map(m.skipped.map((s) => [path.relative(root, s.file), s.reason]));
    return { m, reasons, ids: (m.splits.train?.items ?? []).map((it) => it.id).sort() };
  };

  test('VOC XML: entity bombs, links out of the boxes folder and oversized files are refused by name', async () => {
    const { root, objects, boxes } = await vocDataset();
    // g0: billion laughs; g1: an external entity; g2: linked out of the folder; g3: 5 MiB (sparse)
    await writeFile(path.join(boxes, 'cat/g0.xml'), billionLaughsXml(24, 24, 'cat', objects[0]!.box));
    await writeFile(
      path.join(boxes, 'dog/g1.xml'),
      vocXml(24, 24, [{ name: 'dog', box: objects[1]!.box }]).replace(
        '<annotation>',
        '<!DOCTYPE annotation [<!ENTITY x SYSTEM "file:///etc/passwd">]><annotation>',
      ),
    );
    const outside = await tempDir();
    await writeFile(path.join(outside, 'g2.xml'), vocXml(24, 24, [{ name: 'cat', box: objects[2]!.box }]));
    await rm(path.join(boxes, 'cat/g2.xml'));
    await symlink(path.join(outside, 'g2.xml'), path.join(boxes, 'cat/g2.xml'));
    await truncate(path.join(boxes, 'dog/g3.xml'), 5 * 2 ** 20);
    const t0 = Date.now();
    const { reasons, ids } = await prepare(root, { format: 'voc-xml', path: boxes });
    assert.match(reasons.get('boxes/cat/g0.xml') ?? '', /XML declares a DOCTYPE .* refused unparsed/);
    assert.match(reasons.get('boxes/dog/g1.xml') ?? '', /XML declares a DOCTYPE/);
    assert.match(reasons.get('boxes/cat/g2.xml') ?? '', /symbolic link pointing outside the dataset folder/);
    assert.match(reasons.get('boxes/dog/g3.xml') ?? '', /is 5242880 bytes, over the limit of 4194304/);
    assert.equal(reasons.size, 4, JSON.stringify([...reasons]));
    assert.deepEqual(ids, ['train/cat/g4', 'train/cat/g6', 'train/dog/g5', 'train/dog/g7']);
    console.log(`hostile VOC dataset prepared in ${Date.now() - t0} ms`);

    // the limit is a setting: 100 bytes refuse every annotation, by name
    const small = await prepare(root, { format: 'voc-xml', path: boxes, maxBytes: 100 });
    assert.equal(small.ids.length, 0);
    assert.match(small.reasons.get('boxes/cat/g4.xml') ?? '', /bytes, over the limit of 100/);
  });

  test('box tables: a table linked out of its folder or over the limit is refused by name, the rest goes on', async () => {
    const { root, objects } = await vocDataset();
    for (const [i, o] of objects.entries())
      await writeDrawn(root, i % 2 ? 'dog' : 'cat', `g${i}`, o, { mask: o.mask });
    const rows = objects.map((o, i) => `g${i},${o.box.join(',')}`);
    const outside = await tempDir();
    await writeFile(path.join(outside, 'boxes.csv'), `image,xmin,ymin,xmax,ymax\n${rows.join('\n')}\n`);
    await symlink(path.join(outside, 'boxes.csv'), path.join(root, 'linked.csv'));
    // provided masks used, boxes compared: every image stays, the refused table is reported
    const linked = await prepare(
      root,
      { format: 'csv', file: path.join(root, 'linked.csv') },
      { maskPath: path.join(root, 'masks'), masks: { use: 'provided', compare: ['box'] } },
    );
    assert.match(linked.reasons.get('linked.csv') ?? '', /symbolic link pointing outside the dataset folder/);
    assert.equal(linked.m.skipped.length, 1);
    assert.equal(linked.ids.length, 8);
    assert.equal(linked.m.masks?.perSource.find((p) => p.source === 'box')?.masks, 0);
    // a boxes-only dataset whose table is refused: every image reported, pointing at the table
    const json = path.join(root, 'boxes.json');
    await writeFile(json, JSON.stringify(Object.fromEntries(objects.map((o, i) => [`g${i}`, [o.box]]))));
    const big = await prepare(root, { format: 'json', file: json, maxBytes: 64 });
    assert.match(big.reasons.get('boxes.json') ?? '', /over the limit of 64 \(masks\.boxes\.maxBytes\)/);
    assert.match(big.reasons.get('images/cat/g0.png') ?? '', /the boxes file was refused/);
    assert.equal(big.ids.length, 0);
    const ok = await prepare(root, { format: 'json', file: json });
    assert.equal(ok.ids.length, 8);
    assert.equal(ok.m.skipped.length, 0);
  });

  test('a table of bad rows lists the first 100 and counts the rest; keys are shown printable', async () => {
    const dir = await tempDir();
    const csv = path.join(dir, 'boxes.csv');
    const bad = Array.from({ length: 250 }, (_, i) => `x${i}\u0007,1,2,three,4`);
    await writeFile(csv, `image,xmin,ymin,xmax,ymax\n${bad.join('\n')}\n`);
    const t = await readBoxTable(csv, 'csv');
    assert.equal(t.problems.length, 101);
    assert.equal(t.problems[0]!.reason, 'line 2: box of "x0\\x07" is not four numbers');
    assert.equal(t.problems[100]!.reason, '150 more bad rows (only the first 100 are listed)');
  });
});

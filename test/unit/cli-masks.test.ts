import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { MaskSummary } from '../../core/masks/mask-summary';
import { masksHtml, masksMarkdown } from '../../core/report/mask-section';
import { cli } from '../helpers/cli';
import { tempDir } from '../helpers/env';
import { drawnObjects, vocXml, writeDrawn } from '../helpers/mask-fixtures';

test('bgstudy masks compare: provided vs GrabCut vs box IoU on the same images; masks show; report section', async () => {
  const root = await tempDir();
  process.env.BGSTUDY_STORE = 'fs';
  process.env.BGSTUDY_STORE_DIR = await tempDir();
  const objects = drawnObjects(6, 48, 7);
  for (const [i, o] of objects.entries()) {
    const cls = i % 2 ? 'n00000002' : 'n00000001';
    await writeDrawn(root, cls, `x${i}`, o, {
      mask: o.mask,
      xml: vocXml(48, 48, [{ name: cls, box: o.box }]),
    });
  }
  const args = ['--path', path.join(root, 'images'), '--mask-path', path.join(root, 'masks')];
  const boxes = ['--boxes', path.join(root, 'boxes'), '--threads', '1'];
  const s = JSON.parse(await cli(['masks', 'compare', 'folder', ...args, ...boxes, '--json'])) as MaskSummary;
  assert.equal(s.use, 'provided');
  assert.deepEqual(s.sources, ['provided', 'grabcut', 'box']);
  assert.equal(s.boxes, 'voc-xml');
  const iou = Object.fromEntries(s.perSource.map((p) => [p.source, p.iou?.mean]));
  assert.equal(iou.provided, undefined);
  assert.ok(iou.grabcut! >= 0.85 && iou.grabcut! > iou.box! + 0.15, JSON.stringify(iou));
  // the same table as text, and through `masks show` of the stored manifest
  const text = await cli(['masks', 'compare', 'folder', ...args, ...boxes]);
  assert.match(text, /^found dataset \w+ \((datasets\/\w+\/manifest\.json)\)/);
  const key = /\((datasets\/\w+\/manifest\.json)\)/.exec(text)![1]!;
  const shown = await cli(['masks', 'show', key]);
  assert.match(shown, new RegExp(`grabcut +6 +0 +[\\d.]+ +none +${iou.grabcut!.toFixed(3)}`));
  assert.match(shown, /flagged masks: 0/);
  // the report's section carries the numbers
  const html = masksHtml(s);
  for (const p of s.perSource)
    assert.ok(html.includes(`data-source="${p.source}" data-iou="${p.iou?.mean ?? ''}"`));
  assert.ok(masksMarkdown(s).some((l) => l.startsWith('| grabcut | 6 | 0 |')));
});

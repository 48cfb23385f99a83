/**
 * Masks where there are none, end to end: a folder dataset with ImageNet-style box annotations and no masks goes
 * through a whole (tiny) study on the real Temporal dev server and S3; GrabCut makes its masks, and the report
 * shows the mask checks. A second study on the same images with reference masks shows the IoU of each source and
 * trains on only_fg, tested with the provided, GrabCut and box masks (fg_mask_quality): the mask-quality experiment.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { startStudy } from '../../client/start-study';
import { prepareDataset } from '../../core/data/prepare';
import type { StudyResults } from '../../core/report/results';
import { getJson } from '../../store';
import { S3ArtifactStore } from '../../store/s3-store';
import { drawnObjects, vocXml, writeDrawn } from '../helpers/mask-fixtures';
import { tempDir, testServices, uniqueId } from '../helpers/env';
import { startTestStudyEnv, type TestStudyEnv } from '../helpers/study-env';

describe('a dataset with boxes but no masks through a whole study', () => {
  const services = testServices();
  let env: TestStudyEnv;
  let client: Client;
  let store: S3ArtifactStore;
  let taskQueue: string;
  let gpuTaskQueue: string;
  let root: string;
  const s3Boxes = uniqueId('masks-boxes');

  before(async () => {
    env = await startTestStudyEnv('masks', {
      reportRoot: await tempDir('masks-report-'),
      cacheDir: await tempDir('masks-cache-'),
      s3Sources: true,
    });
    ({ client, store, taskQueue, gpuTaskQueue } = env);
    // two classes of drawn objects on textured backgrounds, 32 px, with VOC annotations (and masks, used by
    // the second study only); one annotation is malformed
    root = await tempDir('masks-data-');
    const objects = drawnObjects(16, 32, 11);
    for (const [i, o] of objects.entries()) {
      const cls = i % 2 ? 'n00000002' : 'n00000001';
      const xml = vocXml(32, 32, [{ name: cls, box: o.box }]);
      await writeDrawn(root, cls, `im${i}`, o, { mask: o.mask, xml });
    }
    await writeFile(path.join(root, 'boxes/n00000001/im4.xml'), '<annotation><object><name>n00000001');
    // the same annotations in S3, for the second study
    const upload = new S3ArtifactStore({ ...services.s3, prefix: s3Boxes });
    for (const cls of ['n00000001', 'n00000002'])
      for (const f of await readdir(path.join(root, 'boxes', cls)))
        await upload.put(`${cls}/${f}`, await readFile(path.join(root, 'boxes', cls, f)));
    await upload.close();
  });

  after(() => env?.stop());

  const run = async (name: string, spec: Record<string, unknown>) => {
    const handle = await startStudy(
      client,
      { version: 1, name: uniqueId(name), ...spec },
      { taskQueue, workflowId: uniqueId(`${taskQueue}-${name}`), workflowOptions: { gpuTaskQueue } },
    );
    const study = await handle.result();
    assert.equal(study.status, 'completed');
    const results = await getJson<StudyResults>(store, study.resultsKey!);
    const md = (await store.get(study.reportKey!)).toString('utf8');
    const html = (await store.get(study.htmlKey!)).toString('utf8');
    return { study, results, md, html };
  };

  const boxes = () => ({ format: 'voc-xml', path: path.join(root, 'boxes') });

  test('GrabCut masks from the boxes: trained, evaluated on only_fg; the report shows the mask checks', async () => {
    const { results, md, html, study } = await run('boxes', {
      dataset: {
        source: 'folder',
        path: path.join(root, 'images'),
        valFraction: 0.5,
        masks: { use: 'grabcut', compare: ['box'], boxes: boxes(), grabcut: { iterations: 3 } },
      },
      variants: ['original', 'only_fg'],
      train: [{ model: 'small_cnn', on: ['original'], epochs: 1, batch: 8 }],
      evaluate: { on: ['original', 'only_fg'], pairingRepeats: 1 },
    });
    assert.equal(study.runs, 1);
    const d = results.dataset!;
    assert.equal((d.counts.train ?? 0) + (d.counts.val ?? 0), 15);
    assert.ok(
      d.skipped.some(
        (s) => s.file.endsWith('boxes/n00000001/im4.xml') && s.reason.startsWith('malformed XML'),
      ),
      JSON.stringify(d.skipped),
    );
    const masks = d.masks!;
    assert.equal(masks.use, 'grabcut');
    assert.deepEqual(
      masks.perSource.map((p) => [p.source, p.masks, p.iou]),
      [
        ['grabcut', 15, undefined],
        ['box', 15, undefined],
      ],
    );
    assert.ok(masks.perSource[0]!.meanFg > 0.05 && masks.perSource[0]!.meanFg < masks.perSource[1]!.meanFg);
    const row = results.rows[0]!;
    for (const c of ['original', 'only_fg']) assert.ok(row.accuracy[c]! >= 0 && row.accuracy[c]! <= 1, c);
    assert.match(md, /## Masks\n\nused: grabcut; boxes from voc-xml; GrabCut 3 iterations, margin 0;/);
    assert.match(md, /\| grabcut \(used\) \| 15 \| 0 \| [\d.]+ \| [^|]+ \| – \|/);
    assert.ok(html.includes('<section id="masks">') && html.includes('id="mask-table"'));
    assert.ok(html.includes('data-source="grabcut"') && html.includes('data-source="box"'));
    if (study.reportDir)
      assert.match(await readFile(path.join(study.reportDir, 'report.md'), 'utf8'), /## Masks/);
  });

  test('with reference masks (boxes from s3://): the report shows the IoU of GrabCut and box masks against them', async () => {
    const { results, html } = await run('iou', {
      dataset: {
        source: 'folder',
        path: path.join(root, 'images'),
        maskPath: path.join(root, 'masks'),
        valFraction: 0.5,
        masks: {
          use: 'provided',
          compare: ['grabcut', 'box'],
          boxes: { format: 'voc-xml', path: `s3://${services.s3.bucket}/${s3Boxes}` },
          grabcut: { iterations: 3 },
        },
      },
      // the mask-quality experiment in one study: only_fg with the provided, GrabCut and box masks
      variants: ['only_fg', { name: 'fg_mask_quality', op: ['grabcut', 'bbox'] }],
      train: [{ model: 'small_cnn', on: ['only_fg'], epochs: 1, batch: 8 }],
      evaluate: { on: 'all', pairingRepeats: 1 },
    });
    const per = Object.fromEntries(results.dataset!.masks!.perSource.map((p) => [p.source, p]));
    assert.equal(per.provided!.masks, 16, 'the malformed annotation costs only the box sources that image');
    assert.equal(per.grabcut!.iou!.n, 15);
    assert.ok(per.grabcut!.iou!.mean >= 0.8, `GrabCut IoU ${per.grabcut!.iou!.mean}`);
    assert.ok(per.grabcut!.iou!.mean > per.box!.iou!.mean, 'GrabCut closer to the truth than the box');
    assert.ok(html.includes(`data-source="grabcut" data-iou="${per.grabcut!.iou!.mean}"`));
    const gcLabel = results.variants.find((v) => v.label.includes('op=grabcut'))!.label;
    assert.deepEqual(
      [...results.columns].sort(),
      ['fg_mask_quality(op=bbox,k=0)', gcLabel, 'only_fg'].sort(),
    );
    for (const c of results.columns) assert.ok(results.rows[0]!.accuracy[c]! >= 0, c);
    assert.ok(html.includes('id="exp-fg_mask_quality"'), 'the mask-quality experiment section');
  });

  test('a CSV box table in S3 is mirrored with its folder; rows for unknown images are reported', async () => {
    const csvPrefix = uniqueId('masks-csv');
    const lines = ['image,xmin,ymin,xmax,ymax'];
    for (const cls of ['n00000001', 'n00000002'])
      for (const f of await readdir(path.join(root, 'boxes', cls))) {
        const m = /<xmin>(\d+)<\/xmin><ymin>(\d+)<\/ymin><xmax>(\d+)<\/xmax><ymax>(\d+)<\/ymax>/.exec(
          await readFile(path.join(root, 'boxes', cls, f), 'utf8'),
        );
        if (m) lines.push(`${cls}/${path.basename(f, '.xml')},${m.slice(1, 5).join(',')}`);
      }
    lines.push('n00000001/im2,1,2,three,4');
    const upload = new S3ArtifactStore({ ...services.s3, prefix: csvPrefix });
    await upload.put('tables/boxes.csv', `${lines.join('\n')}\n`);
    await upload.close();
    const ds = await prepareDataset(
      store,
      {
        source: 'folder',
        path: path.join(root, 'images'),
        valFraction: 0,
        masks: {
          use: 'box',
          boxes: { format: 'csv', file: `s3://${services.s3.bucket}/${csvPrefix}/tables/boxes.csv` },
        },
      },
      {
        tar: false,
        cacheDir: await tempDir('masks-cache-'),
        openS3: (bucket, prefix) => new S3ArtifactStore({ ...services.s3, bucket, prefix }),
      },
    );
    assert.equal(ds.counts.train, 15, 'the image with the malformed XML has no row');
    assert.ok(ds.skipped.some((s) => s.reason === 'line 17: box of "n00000001/im2" is not four numbers'));
    assert.ok(
      ds.skipped.some((s) => s.file.endsWith('images/n00000001/im4.png') && /no boxes for/.test(s.reason)),
    );
    assert.equal(ds.masks!.perSource[0]!.source, 'box');
  });
});

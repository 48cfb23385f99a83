/**
 * The study report as a reader sees it: aggregateResults (in a mock activity context) writes report.html to the
 * real S3 store and a local folder; headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
 * opens it with the network blocked, and the tests check the table against results.json, that every chart drew
 * marks and every image decoded, and save screenshots under test-output/.
 *
 * Inputs: (1) a real tiny study (test/helpers/real-tiny-study.ts: synthetic data, small CNNs trained 2 epochs and
 * evaluated by the project's activities); (2) test/helpers/report-fixture.ts: real tiny data but CONSTRUCTED run
 * results, to cover what a tiny real study cannot (paper numbers for resnet50 rows, every slide factor).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createReportActivities, type AggregateInput, type AggregateOutput } from '../../activities/report';
import { XIAO_2021 } from '../../core/report/paper-reference';
import type { StudyResults } from '../../core/report/results';
import { startStudy } from '../../client/start-study';
import { getJson } from '../../store';
import { S3ArtifactStore } from '../../store/s3-store';
import { createWorker } from '../../workers/create-worker';
import { installRuntime } from '../../workers/runtime';
import { tempDir, testOutputDir, testServices, uniqueId } from '../helpers/env';
import { TINY_STUDY_SPEC } from '../helpers/real-tiny-study';
import { buildReportFixture } from '../helpers/report-fixture';

/** The DOM members the page callbacks use (the project compiles without the DOM lib). */
interface El {
  textContent: string | null;
  className: string;
  naturalWidth: number;
  complete: boolean;
  getAttribute(name: string): string | null;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): { length: number };
  getBoundingClientRect(): { width: number; height: number };
}

const CHROMIUM = process.env.BGSTUDY_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

interface Rendered {
  page: Page;
  results: StudyResults;
  html: string;
  charts: { title: string; marks: number; bars: number; lines: number; width: number; height: number }[];
  images: { cls: string; w: number; ok: boolean }[];
}

describe('report.html in headless Chromium', () => {
  const services = testServices();
  let store: S3ArtifactStore;
  let browser: Browser;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    store = new S3ArtifactStore({ ...services.s3, prefix: uniqueId('report') });
    // playwright gives every launch a fresh temporary profile (--user-data-dir)
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await store?.close();
  });

  /** aggregateResults in a mock activity context: report.html in the store and a local folder. */
  async function aggregate(
    input: AggregateInput,
  ): Promise<{ htmlKey: string; htmlPath: string; resultsKey: string }> {
    const activities = createReportActivities({ store, reportRoot: await tempDir('report-') });
    const run = (x: AggregateInput) => activities.aggregateResults(x);
    const out = await new MockActivityEnvironment().run<[AggregateInput], AggregateOutput, typeof run>(
      run,
      input,
    );
    assert.ok(out.htmlPath, 'a local report.html');
    return { htmlKey: out.htmlKey, htmlPath: out.htmlPath, resultsKey: out.resultsKey };
  }

  /** Opens a written report offline and runs the checks common to every report. */
  async function open(written: { htmlKey: string; htmlPath: string; resultsKey: string }): Promise<Rendered> {
    const html = await readFile(written.htmlPath, 'utf8');
    assert.equal(
      (await store.get(written.htmlKey)).toString('utf8'),
      html,
      'store and local copy are the same',
    );
    const results = await getJson<StudyResults>(store, written.resultsKey);
    assert.equal(written.htmlKey, `reports/${results.study.studyHash}/report.html`);
    assert.equal(results.rows.length, results.study.plannedRuns);
    // self-contained: no script, stylesheet or image is loaded from anywhere
    assert.doesNotMatch(html, /<(script|link|img|iframe)\b[^>]*\b(src|href)="(?!data:)/i);

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(`file://${written.htmlPath}`, { waitUntil: 'load' });
    assert.deepEqual(requests, [], 'the report requested nothing from the network');

    // every table cell shows results.json's number as % with one decimal, and the paper's where it maps
    const cells = await page.$$eval('table.acc td[data-col]', (tds: unknown[]) =>
      (tds as El[]).map((td) => ({
        run: td.getAttribute('data-run')!,
        col: td.getAttribute('data-col')!,
        ours: td.querySelector('.ours')!.textContent!,
        paper: td.querySelector('.paper')?.textContent ?? null,
      })),
    );
    assert.equal(cells.length, results.rows.length * (results.columns.length + 2));
    const shown = (x: number | null | undefined) =>
      x === null || x === undefined || Number.isNaN(x) ? '–' : (100 * x).toFixed(1);
    for (const row of results.rows) {
      const paperRow = results.compareWithPaper
        ? XIAO_2021.rows.find(
            (p) => p.arch === row.arch && p.trainVariant === row.trainVariant && p.trainSet === 'IN-9',
          )
        : undefined;
      for (const col of [...results.columns, 'bg_gap', 'challenge']) {
        const cell = cells.find((c) => c.run === row.runId && c.col === col);
        assert.ok(cell, `cell ${row.runId}/${col}`);
        const value =
          col === 'bg_gap'
            ? row.bgGap
            : col === 'challenge'
              ? row.challenge?.adversarialAccuracy
              : row.accuracy[col];
        assert.equal(cell.ours, shown(value), `${row.label} on ${col}`);
        const published =
          col === 'bg_gap'
            ? paperRow?.bgGap
            : col === 'challenge'
              ? paperRow?.challenge?.adversarialAccuracy
              : paperRow?.accuracy[col];
        assert.equal(cell.paper, published === undefined ? null : `paper ${published.toFixed(1)}`);
      }
      if (row.bgGap !== null)
        assert.ok(Math.abs(row.bgGap - (row.accuracy.mixed_same! - row.accuracy.mixed_rand!)) < 1e-12);
    }

    // every chart is an inline SVG that drew data marks
    const charts = await page.$$eval('figure.chart', (figs: unknown[]) =>
      (figs as El[]).map((f) => {
        const svg = f.querySelector('svg')!;
        const box = svg.getBoundingClientRect();
        return {
          title: f.querySelector('.fig-title')!.textContent!,
          marks: svg.querySelectorAll('g.role-mark path, g.role-mark line, g.role-mark text').length,
          bars: svg.querySelectorAll('g.mark-rect.role-mark path').length,
          lines: svg.querySelectorAll('g.mark-line.role-mark path').length,
          width: box.width,
          height: box.height,
        };
      }),
    );
    for (const c of charts) {
      assert.ok(c.marks > 0, `chart "${c.title}" drew no marks`);
      assert.ok(c.width > 50 && c.height > 50, `chart "${c.title}" is ${c.width}x${c.height}`);
    }
    const gapChart = charts.find((c) => c.title.startsWith('BG-Gap'))!;
    assert.equal(gapChart.bars, results.rows.filter((r) => r.bgGap !== null).length);
    const perClass = charts.filter((c) => c.title === 'Per-class accuracy');
    assert.equal(perClass.length, results.rows.length);
    // one heat-map cell per (test column, class)
    for (const c of perClass) assert.equal(c.bars, results.columns.length * results.dataset!.classes.length);

    // sample images (the same ids under every variant) and saliency grids are embedded and decode
    const images = await page.$$eval('img', (imgs: unknown[]) =>
      (imgs as El[]).map((i) => ({ cls: i.className, w: i.naturalWidth, ok: i.complete })),
    );
    const samples = images.filter((i) => i.cls === 'sample');
    assert.equal(
      samples.length,
      new Set(results.variants.map((v) => v.label)).size * results.dataset!.classes.length,
    );
    assert.ok(
      samples.every((i) => i.ok && i.w > 0),
      'samples decode',
    );
    const saliency = images.filter((i) => i.cls === 'saliency');
    assert.equal(
      saliency.length,
      results.rows.reduce((n, r) => n + r.saliency.length, 0),
    );
    assert.ok(saliency.every((i) => i.ok && i.w > 0));
    return { page, results, html, charts, images };
  }

  async function screenshot(page: Page, name: string, html: string): Promise<void> {
    const outDir = testOutputDir();
    await mkdir(outDir, { recursive: true });
    await page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage: true });
    await writeFile(path.join(outDir, `${name}.html`), html);
    await page.close();
  }

  test('a real tiny study (StudyWorkflow, CPU and GPU-queue workers) reads right in the browser', async () => {
    installRuntime();
    const taskQueue = uniqueId('report');
    const gpuTaskQueue = `${taskQueue}-gpu`;
    const reportRoot = await tempDir('report-');
    const nativeConnection = await NativeConnection.connect({ address: services.temporalAddress });
    const connection = await Connection.connect({ address: services.temporalAddress });
    const workers: Worker[] = [
      await createWorker({ connection: nativeConnection, store, kind: 'cpu', taskQueue, reportRoot }),
      await createWorker({ connection: nativeConnection, store, kind: 'gpu', taskQueue: gpuTaskQueue }),
    ];
    const running = workers.map((w) => w.run());
    let study;
    try {
      const handle = await startStudy(new Client({ connection }), TINY_STUDY_SPEC, {
        taskQueue,
        workflowId: `${taskQueue}-study`,
        workflowOptions: { gpuTaskQueue },
      });
      study = await handle.result();
    } finally {
      for (const w of workers) w.shutdown();
      await Promise.allSettled(running);
      await connection.close();
      await nativeConnection.close();
    }
    assert.equal(study.status, 'completed');
    assert.ok(study.reportDir && study.resultsKey);
    const { page, results, html, charts, images } = await open({
      htmlKey: `reports/${study.studyHash}/report.html`,
      htmlPath: path.join(study.reportDir, 'report.html'),
      resultsKey: study.resultsKey,
    });
    assert.ok(
      results.rows.every((r) => r.curves.length === 2 && r.challenge !== null && r.saliency.length > 0),
      'two epochs of real curves, a challenge and saliency per run',
    );
    const curves = charts.filter((c) => c.title === 'Per-epoch loss and accuracy');
    assert.ok(curves.length >= 2 && curves.every((c) => c.lines >= 4), 'train + validation lines per run');
    assert.equal(await page.locator('#exp-segmented').count(), 1, 'only_fg vs original training');
    assert.equal(await page.locator('#exp-bg_blur').count(), 1);
    assert.ok(images.some((i) => i.cls === 'saliency'));
    await screenshot(page, 'report-browser', html);
  });

  test('constructed results: paper numbers beside ours and a section for every slide factor', async () => {
    const fixture = await buildReportFixture(store);
    const { page, html, charts, results } = await open(
      await aggregate({
        plan: fixture.plan,
        specKey: `studies/${fixture.plan.studyHash}/spec.json`,
        dataset: fixture.dataset,
        variantKeys: fixture.variantKeys,
        runs: fixture.runs,
        cancelled: false,
      }),
    );
    assert.ok(results.compareWithPaper);
    // resnet50 on original: original, mixed_same, mixed_rand, BG-Gap, challenge; on mixed_rand: 4 of them
    assert.equal(await page.locator('table.acc td .paper').count(), 9);
    for (const factor of [
      'xiao',
      'segmented',
      'bg_color',
      'bg_blur',
      'bg_reduced',
      'fg_mask_quality',
      'generic_bg',
    ])
      assert.equal(await page.locator(`#exp-${factor}`).count(), 1, `section ${factor}`);
    assert.equal(
      await page.locator('#exp-bg_blur figure.chart').count(),
      2,
      'accuracy vs sigma and the curves',
    );
    assert.ok(charts.length >= 20, `${charts.length} charts`);
    await screenshot(page, 'report-browser-fixture', html);
  });
});

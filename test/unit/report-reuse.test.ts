/**
 * An unchanged rerun reuses the stored report instead of rendering it again (aggregateResults on a real local
 * file store): nothing is written, a local report folder is filled from the store, and any change of inputs or
 * code renders again. Input: CONSTRUCTED run summaries (test/helpers/report-fixture.ts) for a real spec's plan.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createReportActivities, type AggregateInput } from '../../activities/report';
import { buildResults } from '../../core/report/results';
import { reportStamp } from '../../core/report/write-report';
import type { RunSummary } from '../../core/contracts';
import { planStudy, type StudyPlan } from '../../core/spec/plan';
import { parseStudySpec } from '../../core/spec/study-spec';
import { FsArtifactStore } from '../../store/fs-store';
import { constructRunSummaries, FIXTURE_SPEC } from '../helpers/report-fixture';

const CLASSES = ['disk', 'square', 'triangle', 'plus'];

/** `reused`: what a rerun's dataset stage says (it found the stored dataset); the results do not change. */
function aggregateInput(
  cancelled: boolean,
  reused = false,
): AggregateInput & { plan: StudyPlan; runs: RunSummary[] } {
  const plan = planStudy(parseStudySpec(FIXTURE_SPEC));
  return {
    plan,
    specKey: `studies/${plan.studyHash}/spec.json`,
    dataset: {
      manifestKey: 'test-input/datasets/x/manifest.json',
      datasetHash: 'x',
      classes: CLASSES,
      counts: { train: 24, val: 16 },
      skippedCount: 0,
      skipped: [],
      reused,
    },
    variantKeys: {},
    runs: constructRunSummaries(plan, CLASSES.length),
    cancelled,
  };
}

/** Every file under `dir` with its bytes and modification time. */
async function files(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const f = path.join(e.parentPath, e.name);
    out.set(path.relative(dir, f), `${(await readFile(f)).toString('base64')} ${(await stat(f)).mtimeMs}`);
  }
  return out;
}

test('aggregateResults: an unchanged rerun writes nothing and does not render; a change renders again', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'report-reuse-'));
  try {
    const storeDir = path.join(root, 'store');
    const local = path.join(root, 'local');
    const report = createReportActivities({
      store: new FsArtifactStore(storeDir),
      reportRoot: local,
    });
    const first = await report.aggregateResults(aggregateInput(false));
    const markdown = path.join(storeDir, first.reportKey);
    assert.match(await readFile(markdown, 'utf8'), /report-fixture/);
    const before = await files(root);
    assert.ok(
      [...before.keys()].some((f) => f.endsWith('report-stamp.txt')),
      'the stamp is written',
    );

    // A rerun's inputs say the dataset was reused; its results, and so its report, are the same.
    const again = await report.aggregateResults(aggregateInput(false, true));
    assert.deepEqual(again, first);
    assert.deepEqual(await files(root), before, 'an unchanged rerun writes no file, in the store or locally');

    // Not rendered: bytes put under the store's report.md survive a rerun with the same stamp ...
    await writeFile(markdown, 'kept as stored');
    await report.aggregateResults(aggregateInput(false));
    assert.equal(await readFile(markdown, 'utf8'), 'kept as stored');
    // ... and a worker without the local folder gets the store's files, byte for byte, still without rendering.
    await rm(local, { recursive: true });
    const copied = await report.aggregateResults(aggregateInput(false));
    assert.equal(await readFile(path.join(copied.reportDir!, 'report.md'), 'utf8'), 'kept as stored');
    assert.deepEqual(
      await readFile(path.join(copied.reportDir!, 'report.html')),
      await readFile(path.join(storeDir, first.htmlKey)),
    );

    // Other inputs: rendered again (a cancelled study says so in its report).
    await report.aggregateResults(aggregateInput(true));
    assert.match(await readFile(markdown, 'utf8'), /cancelled, partial results/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('reportStamp: the same results under other code, or other results, never share a stamp', () => {
  const resultsOf = (cancelled: boolean) => {
    const { plan, specKey, dataset, variantKeys, runs } = aggregateInput(cancelled);
    return buildResults({ plan, specKey, dataset, variantKeys, runs, cancelled });
  };
  const a = resultsOf(false);
  assert.equal(reportStamp(a, 'code-1'), reportStamp(resultsOf(false), 'code-1'));
  assert.notEqual(reportStamp(a, 'code-1'), reportStamp(a, 'code-2'));
  assert.notEqual(reportStamp(a, 'code-1'), reportStamp(resultsOf(true), 'code-1'));
});

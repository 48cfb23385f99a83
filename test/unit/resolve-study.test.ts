import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { resolveStudy } from '../../cli/resolve-study';
import { hashOf } from '../../core/hash';
import { parseStudySpec } from '../../core/spec/study-spec';
import { putJson } from '../../store';
import { FsArtifactStore } from '../../store/fs-store';
import { tempDir } from '../helpers/env';

// stored results.json stand-ins: only the fields resolveStudy reads
const stub = (name: string, studyHash: string) => ({
  schema: 'bgstudy-results/1',
  study: { name, studyHash },
});

test('bgstudy report finds a study by spec file, hash prefix, name or workflow id, and says what it tried', async () => {
  const dir = await tempDir();
  const store = new FsArtifactStore(path.join(dir, 'store'));
  const spec = { version: 1, name: 'mine', dataset: { source: 'synthetic' }, variants: ['original'] };
  const specHash = hashOf(parseStudySpec(spec));
  const specFile = path.join(dir, 'study.json');
  await writeFile(specFile, JSON.stringify(spec));
  await putJson(store, `reports/${specHash}/results.json`, stub('mine', specHash));
  await putJson(store, 'reports/abcd111/results.json', stub('other', 'abcd111'));
  await new Promise((r) => setTimeout(r, 20)); // a later modification time for the newer report
  await putJson(store, 'reports/abcd222/results.json', stub('other', 'abcd222'));

  const bySpec = await resolveStudy(store, specFile);
  assert.deepEqual([bySpec.studyHash, bySpec.via], [specHash, 'spec file']);
  assert.equal(bySpec.results.study.name, 'mine');
  assert.equal((await resolveStudy(store, 'abcd1')).studyHash, 'abcd111');
  await assert.rejects(resolveStudy(store, 'abcd'), /prefix abcd is ambiguous: abcd111, abcd222/);
  const byName = await resolveStudy(store, 'other');
  assert.deepEqual([byName.studyHash, byName.via], ['abcd222', 'study name']);
  const byWorkflow = await resolveStudy(store, 'bgstudy-xyz', async (id) =>
    id === 'bgstudy-xyz' ? 'abcd111' : undefined,
  );
  assert.deepEqual([byWorkflow.studyHash, byWorkflow.via], ['abcd111', 'workflow id']);
  await assert.rejects(
    resolveStudy(store, 'bgstudy-new', async () => 'fff000'),
    /workflow bgstudy-new is study fff000, which has no stored results yet/,
  );
  await assert.rejects(
    resolveStudy(store, 'nothing-like-it'),
    /not a spec file, a stored study hash or name.*3 stored report/,
  );
  const unfinished = path.join(dir, 'unfinished.json');
  await writeFile(unfinished, JSON.stringify({ ...spec, name: 'unfinished' }));
  await assert.rejects(
    resolveStudy(store, unfinished),
    /no stored results for the study in .*unfinished\.json/,
  );
});

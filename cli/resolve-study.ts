import { stat } from 'node:fs/promises';
import { hashOf } from '../core/hash';
import type { StudyResults } from '../core/report/results';
import { readStudyResults } from '../core/report/stored-results';
import { parseStudySpec } from '../core/spec/study-spec';
import type { ArtifactStore } from '../store';
import { tryGetJson } from '../store';
import { readSpecFile } from './spec-file';

export interface ResolvedStudy {
  studyHash: string;
  resultsKey: string;
  results: StudyResults;
  /** How the argument was understood, for the message. */
  via: 'spec file' | 'study hash' | 'study name' | 'workflow id';
}

const resultsKeyOf = (hash: string) => `reports/${hash}/results.json`;

/**
 * Finds a study's stored results.json from what a user has at hand: a spec file (hashed like registerStudy
 * does), a study hash or its prefix, a study name (the newest report of that name), or a workflow id
 * (`workflowStudyHash` asks Temporal). Throws an error saying what was tried.
 */
export async function resolveStudy(
  store: ArtifactStore,
  arg: string,
  workflowStudyHash?: (workflowId: string) => Promise<string | undefined>,
): Promise<ResolvedStudy> {
  const found = async (hash: string, via: ResolvedStudy['via']) => {
    const stored = await tryGetJson<StudyResults>(store, resultsKeyOf(hash));
    if (!stored) return undefined;
    // Documents from before variants carried their spec are read as today's.
    const results = readStudyResults(stored, `${store.location}/${resultsKeyOf(hash)}`);
    return { studyHash: hash, resultsKey: resultsKeyOf(hash), results, via };
  };
  const isFile = await stat(arg).then(
    (s) => s.isFile(),
    () => false,
  );
  if (isFile) {
    const hash = hashOf(parseStudySpec(await readSpecFile({ spec: arg })));
    const hit = await found(hash, 'spec file');
    if (hit) return hit;
    throw new Error(
      `no stored results for the study in ${arg} (hash ${hash}) in ${store.location}: has it finished?`,
    );
  }
  const reports = (await store.list('reports/')).filter((k) => k.endsWith('/results.json'));
  const hashes = reports.map((k) => k.split('/')[1]!);
  if (/^[0-9a-f]{4,}$/.test(arg)) {
    const matches = hashes.filter((h) => h.startsWith(arg));
    if (matches.length > 1) throw new Error(`study hash prefix ${arg} is ambiguous: ${matches.join(', ')}`);
    if (matches.length === 1) return (await found(matches[0]!, 'study hash'))!;
  }
  let newest: { hash: string; modified: number } | undefined;
  for (const h of hashes) {
    const r = await tryGetJson<StudyResults>(store, resultsKeyOf(h));
    if (r?.study.name !== arg) continue;
    const modified = (await store.stat(resultsKeyOf(h)))?.modified.getTime() ?? 0;
    if (!newest || modified > newest.modified) newest = { hash: h, modified };
  }
  if (newest) return (await found(newest.hash, 'study name'))!;
  if (workflowStudyHash) {
    const hash = await workflowStudyHash(arg).catch(() => undefined);
    if (hash) {
      const hit = await found(hash, 'workflow id');
      if (hit) return hit;
      throw new Error(
        `workflow ${arg} is study ${hash}, which has no stored results yet in ${store.location}`,
      );
    }
  }
  throw new Error(
    `"${arg}" is not a spec file, a stored study hash or name, nor a known workflow id (${hashes.length} stored report(s) in ${store.location})`,
  );
}

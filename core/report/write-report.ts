import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactStore } from '../../store/artifact-store';
import { putIfChanged } from '../../store/put-if-changed';
import { hashOf } from '../hash';
import { renderHtmlReport } from './html-report';
import { loadReportAssets, type ReportAssets } from './report-assets';
import { resultsCsv, resultsMarkdown, type StudyResults } from './results';

/** Written last beside the report files: the stamp of the inputs and code they were rendered from. */
export const REPORT_STAMP_FILE = 'report-stamp.txt';

export const REPORT_FILES = {
  results: 'results.json',
  csv: 'results.csv',
  markdown: 'report.md',
  html: 'report.html',
} as const;

export interface WrittenReport {
  /** Store prefix of the report files: `reports/<studyHash>`. */
  prefix: string;
  /** Store keys (written only with `toStore`). */
  keys: Record<keyof typeof REPORT_FILES, string>;
  /** Local folder and report.html path (when `localDir` was given). */
  localDir?: string;
  htmlPath?: string;
  /** Images the page could not embed (also listed in the page). */
  problems: string[];
  /** Files (store and local) actually written: 0 when a rerun changed nothing. */
  written: number;
}

export function reportPrefix(studyHash: string): string {
  return `reports/${studyHash}`;
}

/** Local folder name of a study's report: `<name>-<studyHash>`. */
export function reportFolderName(study: { name: string; studyHash: string }): string {
  return `${study.name}-${study.studyHash}`;
}

/**
 * The stamp of a report: its results (the artifacts they name are content-addressed) and a fingerprint of the
 * code that renders them. Equal stamps render byte-identical files, so an unchanged rerun can skip rendering
 * (seconds of chart layout).
 */
export function reportStamp(results: StudyResults, code: string): string {
  return hashOf({ results, code }, 32);
}

/**
 * When the store's report under `prefix` was rendered from `stamp`, the local folder (if any) is brought up to
 * date from the store's files and the count of local files written is returned; `undefined` when the report
 * must be rendered.
 */
export async function reuseReport(
  store: ArtifactStore,
  prefix: string,
  stamp: string,
  localDir?: string,
): Promise<{ written: number } | undefined> {
  const stored = await store.get(`${prefix}/${REPORT_STAMP_FILE}`).catch(() => undefined);
  if (stored?.toString() !== stamp) return undefined;
  if (!localDir) return { written: 0 };
  const local = await readFile(path.join(localDir, REPORT_STAMP_FILE), 'utf8').catch(() => undefined);
  if (local === stamp) return { written: 0 };
  await mkdir(localDir, { recursive: true });
  let written = 0;
  for (const name of [...Object.values(REPORT_FILES), REPORT_STAMP_FILE])
    if (await writeFileIfChanged(path.join(localDir, name), await store.get(`${prefix}/${name}`))) written++;
  return { written };
}

/**
 * Renders every report file of a study (results.json, results.csv, report.md, report.html with images read from
 * the store) and writes them to `reports/<studyHash>/` in the store (`toStore`) and/or to `localDir`.
 */
export async function writeStudyReport(
  store: ArtifactStore,
  results: StudyResults,
  options: { toStore: boolean; localDir?: string; assets?: ReportAssets; stamp?: string },
): Promise<WrittenReport> {
  const assets = options.assets ?? (await loadReportAssets(store, results));
  const bodies: Record<keyof typeof REPORT_FILES, string> = {
    results: JSON.stringify(results, null, 1),
    csv: resultsCsv(results),
    markdown: resultsMarkdown(results),
    html: await renderHtmlReport(results, assets),
  };
  const types: Record<keyof typeof REPORT_FILES, string> = {
    results: 'application/json',
    csv: 'text/csv',
    markdown: 'text/markdown',
    html: 'text/html; charset=utf-8',
  };
  const prefix = reportPrefix(results.study.studyHash);
  const names = Object.keys(REPORT_FILES) as (keyof typeof REPORT_FILES)[];
  const keys = Object.fromEntries(
    names.map((n) => [n, `${prefix}/${REPORT_FILES[n]}`]),
  ) as WrittenReport['keys'];
  // Only what changed is written: a rerun with every stage cached leaves the report files untouched.
  let written = 0;
  if (options.toStore)
    for (const n of names)
      if (await putIfChanged(store, keys[n], bodies[n], { contentType: types[n] })) written++;
  let htmlPath: string | undefined;
  if (options.localDir) {
    await mkdir(options.localDir, { recursive: true });
    for (const n of names)
      if (await writeFileIfChanged(path.join(options.localDir, REPORT_FILES[n]), bodies[n])) written++;
    htmlPath = path.join(options.localDir, REPORT_FILES.html);
  }
  // The stamp last: a report cut short by a crash has none, and is rendered again.
  if (options.stamp) {
    const stampKey = `${prefix}/${REPORT_STAMP_FILE}`;
    if (
      options.toStore &&
      (await putIfChanged(store, stampKey, options.stamp, { contentType: 'text/plain' }))
    )
      written++;
    if (
      options.localDir &&
      (await writeFileIfChanged(path.join(options.localDir, REPORT_STAMP_FILE), options.stamp))
    )
      written++;
  }
  return { prefix, keys, localDir: options.localDir, htmlPath, problems: assets.problems, written };
}

async function writeFileIfChanged(file: string, body: string | Buffer): Promise<boolean> {
  const old = await readFile(file).catch(() => undefined);
  if (old?.equals(typeof body === 'string' ? Buffer.from(body) : body)) return false;
  await writeFile(file, body);
  return true;
}

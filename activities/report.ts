import path from 'node:path';
import { loadEvalDetails } from '../core/report/eval-details';
import { buildResults } from '../core/report/results';
import { reportFolderName, writeStudyReport } from '../core/report/write-report';
import type { ArtifactStore } from '../store';
import { activityHooks } from './activity-context';

/** The plan, the dataset, every variant's key and the finished runs: what results.json is built from. */
export type AggregateInput = Omit<Parameters<typeof buildResults>[0], 'details'>;

export interface AggregateOutput {
  resultsKey: string;
  /** report.md */
  reportKey: string;
  reportDir?: string;
  /** The self-contained HTML report in the store. */
  htmlKey: string;
  /** report.html in the local folder, when the worker writes one. */
  htmlPath?: string;
}

/**
 * The last stage: every number of the study into results.json/csv, report.md and report.html, in the store
 * (`reports/<studyHash>/`) and a local folder.
 */
export function createReportActivities(deps: { store: ArtifactStore; reportRoot?: string }) {
  return {
    async aggregateResults(input: AggregateInput): Promise<AggregateOutput> {
      // Per-image outcomes for the intervals are read from the evaluation documents, not carried in payloads.
      const details = await loadEvalDetails(deps.store, input.runs);
      const results = buildResults({ ...input, details });
      const reportDir = deps.reportRoot ? path.join(deps.reportRoot, reportFolderName(results)) : undefined;
      const written = await writeStudyReport(deps.store, results, { toStore: true, localDir: reportDir });
      activityHooks().info(written.written ? 'report written' : 'report unchanged', {
        prefix: written.prefix,
        reportDir,
        rows: results.rows.length,
        withoutPerImageResults: details.missing.length,
        assetProblems: written.problems.length,
        filesWritten: written.written,
      });
      return {
        resultsKey: written.keys.results,
        reportKey: written.keys.markdown,
        reportDir,
        htmlKey: written.keys.html,
        htmlPath: written.htmlPath,
      };
    },
  };
}

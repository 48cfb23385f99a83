import path from 'node:path';
import type { RunOutcome, RunSummary, StoredRunSummary } from '../core/contracts';
import { loadEvalDetails } from '../core/report/eval-details';
import { buildResults } from '../core/report/results';
import {
  REPORT_FILES,
  reportFolderName,
  reportPrefix,
  reportStamp,
  reuseReport,
  writeStudyReport,
} from '../core/report/write-report';
import { readRunSummaries, runSummaryKey } from '../core/report/run-summaries';
import type { StudyPlan } from '../core/spec/plan';
import type { ArtifactStore } from '../store';
import { getJson, getOrCreateJson } from '../store';
import { activityHooks } from './activity-context';
import { codeFingerprint } from './code-fingerprint';

/**
 * The plan, the dataset, every variant's key and the finished runs: what results.json is built from. Since
 * `patched('i21-plan-in-store')` the plan and the run summaries stay in the store and the input names them
 * (`planKey`, `{ summaryKey }` per run), so it grows by one key per run; older studies pass them inline.
 */
export type AggregateInput = Omit<Parameters<typeof buildResults>[0], 'details' | 'plan' | 'runs'> &
  ({ plan: StudyPlan } | { planKey: string }) & { runs: RunOutcome[] };

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
    /** Keeps a finished run's summary in the store (idempotent: content-addressed) and returns where. */
    async storeRunSummary(summary: RunSummary): Promise<StoredRunSummary> {
      const summaryKey = runSummaryKey(summary);
      await getOrCreateJson(deps.store, summaryKey, async () => summary);
      return { runId: summary.runId, label: summary.label, summaryKey };
    },

    async aggregateResults(input: AggregateInput): Promise<AggregateOutput> {
      const plan = 'planKey' in input ? await getJson<StudyPlan>(deps.store, input.planKey) : input.plan;
      const runs = await readRunSummaries(deps.store, input.runs);
      const {
        planKey: _k,
        plan: _p,
        ...rest
      } = input as AggregateInput & { planKey?: string; plan?: StudyPlan };
      const prefix = reportPrefix(plan.studyHash);
      const reportDir = deps.reportRoot ? path.join(deps.reportRoot, reportFolderName(plan)) : undefined;
      const keyOf = (n: keyof typeof REPORT_FILES) => `${prefix}/${REPORT_FILES[n]}`;
      const htmlPath = reportDir && path.join(reportDir, REPORT_FILES.html);
      // Per-image outcomes for the intervals are read from the evaluation documents, not carried in payloads.
      const details = await loadEvalDetails(deps.store, runs);
      const results = buildResults({ ...rest, plan, runs, details });
      // A rerun whose results and report code are unchanged reuses the stored files instead of rendering them.
      // The stamp is taken over results.json, not over the inputs: those also say what a rerun reused.
      const stamp = reportStamp(results, codeFingerprint());
      const reused = await reuseReport(deps.store, prefix, stamp, reportDir);
      if (reused) {
        activityHooks().info('report unchanged: same results and report code', {
          prefix,
          reportDir,
          filesWritten: reused.written,
        });
        return {
          resultsKey: keyOf('results'),
          reportKey: keyOf('markdown'),
          reportDir,
          htmlKey: keyOf('html'),
          htmlPath,
        };
      }
      const written = await writeStudyReport(deps.store, results, {
        toStore: true,
        localDir: reportDir,
        stamp,
      });
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

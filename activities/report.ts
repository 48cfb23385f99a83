import { log } from '@temporalio/activity';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PreparedDataset } from '../core/data/prepare';
import { buildResults, resultsCsv, resultsMarkdown } from '../core/report/results';
import type { StudyPlan } from '../core/spec/plan';
import type { ArtifactStore } from '../store';
import { putJson } from '../store';
import type { RunSummary } from '../workflows/run-workflow';

export interface AggregateInput {
  plan: StudyPlan;
  specKey: string;
  dataset: PreparedDataset | null;
  variantKeys: Record<string, string>;
  runs: RunSummary[];
  cancelled: boolean;
}

export interface AggregateOutput {
  resultsKey: string;
  reportKey: string;
  reportDir?: string;
}

/** The last stage: every number of the study into results.json/csv and the report, in the store (and a local folder). */
export function createReportActivities(deps: { store: ArtifactStore; reportRoot?: string }) {
  return {
    async aggregateResults(input: AggregateInput): Promise<AggregateOutput> {
      const results = buildResults(input);
      const prefix = `reports/${input.plan.studyHash}`;
      const files: Record<string, string> = {
        'results.json': JSON.stringify(results, null, 1),
        'results.csv': resultsCsv(results),
        'report.md': resultsMarkdown(results),
      };
      await putJson(deps.store, `${prefix}/results.json`, results);
      await deps.store.put(`${prefix}/results.csv`, files['results.csv']!, { contentType: 'text/csv' });
      await deps.store.put(`${prefix}/report.md`, files['report.md']!, { contentType: 'text/markdown' });
      let reportDir: string | undefined;
      if (deps.reportRoot) {
        reportDir = path.join(deps.reportRoot, `${input.plan.name}-${input.plan.studyHash}`);
        await mkdir(reportDir, { recursive: true });
        for (const [name, body] of Object.entries(files)) await writeFile(path.join(reportDir, name), body);
      }
      log.info('report written', { prefix, reportDir, rows: results.rows.length });
      return { resultsKey: `${prefix}/results.json`, reportKey: `${prefix}/report.md`, reportDir };
    },
  };
}

import {
  Client,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type WorkflowHandle,
} from '@temporalio/client';
import { CPU_QUEUE } from '../common/queues';
import { hashOf } from '../core/hash';
import type { StudySpec } from '../core/spec/study-spec';
import { checkContextFiles } from '../core/spec/context-files';
import { validateStudySpec } from '../core/spec/validate';
import type { StudyWorkflow, StudyWorkflowOptions } from '../workflows';

/** Workflow id of a study: its name and spec hash, so submitting the same spec twice attaches to one run. */
export function studyWorkflowId(spec: StudySpec): string {
  return `study-${spec.name}-${hashOf(spec)}`;
}

/**
 * Validates the whole spec here, schema, plan and the label files it names (a spec that cannot run fails before
 * anything starts, naming the field), then starts
 * StudyWorkflow or attaches to the run of the same spec that is already going.
 */
export async function startStudy(
  client: Client,
  rawSpec: unknown,
  options: { taskQueue?: string; workflowId?: string; workflowOptions?: StudyWorkflowOptions } = {},
): Promise<WorkflowHandle<typeof StudyWorkflow>> {
  const spec = validateStudySpec(rawSpec);
  await checkContextFiles(spec);
  return client.workflow.start<typeof StudyWorkflow>('StudyWorkflow', {
    taskQueue: options.taskQueue ?? CPU_QUEUE,
    workflowId: options.workflowId ?? studyWorkflowId(spec),
    args: [spec, options.workflowOptions ?? {}],
    // What the Temporal UI shows for the study (its runs carry their own, set by the workflow).
    staticSummary: `bgstudy study ${spec.name}${spec.report.title ? `: ${spec.report.title}` : ''}`,
    staticDetails: studyDetails(spec),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    // A finished study may run again: every stage then finds its stored output and returns at once.
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
}

/** The study's static details in the Temporal UI (Markdown): dataset, variants, what is trained and tested. */
function studyDetails(spec: StudySpec): string {
  const variants = spec.variants.map((v) => (typeof v === 'string' ? v : v.name));
  return [
    `**${spec.name}** (spec ${hashOf(spec)})`,
    `- dataset: ${spec.dataset.source}`,
    `- variants: ${variants.join(', ')}`,
    `- trains: ${spec.train.length} model entr${spec.train.length === 1 ? 'y' : 'ies'}; runs are the child workflows`,
  ].join('\n');
}

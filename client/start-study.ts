import {
  Client,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type WorkflowHandle,
} from '@temporalio/client';
import { CPU_QUEUE } from '../common/queues';
import { hashOf } from '../core/hash';
import type { StudySpec } from '../core/spec/study-spec';
import { validateStudySpec } from '../core/spec/validate';
import type { StudyWorkflow, StudyWorkflowOptions } from '../workflows';

/** Workflow id of a study: its name and spec hash, so submitting the same spec twice attaches to one run. */
export function studyWorkflowId(spec: StudySpec): string {
  return `study-${spec.name}-${hashOf(spec)}`;
}

/**
 * Validates the whole spec here, schema and plan (a spec that cannot run fails before anything starts, naming
 * the field), then starts
 * StudyWorkflow or attaches to the run of the same spec that is already going.
 */
export async function startStudy(
  client: Client,
  rawSpec: unknown,
  options: { taskQueue?: string; workflowId?: string; workflowOptions?: StudyWorkflowOptions } = {},
): Promise<WorkflowHandle<typeof StudyWorkflow>> {
  const spec = validateStudySpec(rawSpec);
  return client.workflow.start<typeof StudyWorkflow>('StudyWorkflow', {
    taskQueue: options.taskQueue ?? CPU_QUEUE,
    workflowId: options.workflowId ?? studyWorkflowId(spec),
    args: [spec, options.workflowOptions ?? {}],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    // A finished study may run again: every stage then finds its stored output and returns at once.
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
}

import type { Duration } from '@temporalio/common';
import type { ModelSpec } from '../core/ml/model-spec';
import type { PlannedRun, StudyPlan } from '../core/spec/plan';
import type { RunWorkflowInput } from './run-workflow';

/**
 * What one planned run needs once the variants exist: its model, its training data and every test column, as
 * artifact keys. Pure, so the workflow and bench/temporal-overhead.ts (the same study without Temporal) agree.
 */
export function runInputOf(
  plan: StudyPlan,
  run: PlannedRun,
  variantKeys: Record<string, string>,
  numClasses: number,
  queues: { gpuTaskQueue: string; heartbeatTimeout: Duration },
): RunWorkflowInput {
  const original = plan.variants.find((v) => v.spec.name === 'original');
  const byId = (id: string) => ({ variantId: id, manifestKey: variantKeys[id]! });
  const evaluation = {
    tests: plan.tests.map((t) => ({ label: t.label, variants: t.variantIds.map(byId) })),
    challenge:
      plan.challenge && original
        ? {
            foregroundManifestKey: variantKeys[original.id]!,
            backgroundManifestKey: variantKeys[plan.challenge.backgroundVariantId]!,
            backgrounds: plan.challenge.backgrounds,
            foregrounds: plan.challenge.foregrounds,
          }
        : (false as const),
    saliency: plan.saliency
      ? {
          samples: plan.saliency.samples,
          ...(plan.saliency.method ? { method: plan.saliency.method } : {}),
          variants: plan.tests.map((t) => byId(t.variantIds[0]!)),
        }
      : (false as const),
    ...queues,
  };
  if (run.kind === 'pretrained') {
    return { pretrained: { runId: run.runId, label: run.label, model: run.pretrained }, ...evaluation };
  }
  const loop = {
    runId: run.runId,
    label: run.label,
    trainManifestKey: variantKeys[run.trainVariantId]!,
    valManifestKey: variantKeys[run.trainVariantId]!,
    epochs: run.epochs,
    batch: run.batch,
    optimizer: run.optimizer,
    augment: run.augment,
    seed: run.seed,
    checkpointEveryBatches: run.checkpointEveryBatches,
  };
  // A fine-tune imports its pretrained model first, then trains it; evaluated the same way as a trained model.
  if (run.kind === 'finetuned') {
    const pretrained = { runId: run.runId, label: run.label, model: run.pretrained };
    return { pretrained, finetune: { ...loop, ...run.finetune }, ...evaluation };
  }
  const modelSpec: ModelSpec = { arch: run.arch, inputSize: run.inputSize, numClasses, seed: run.seed };
  // an optional field of the activity's input: the workflow's commands are the same with or without it
  const context = run.context ? { context: run.context } : {};
  return { train: { ...loop, modelSpec, ...context }, ...evaluation };
}

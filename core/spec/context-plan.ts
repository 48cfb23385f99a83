import type { SourceSpec } from '../data/source-spec';
import type { VariantName } from '../variants/variant-spec';
import type { ContextHead } from './study-spec';

/**
 * Train variants whose images show no background of the dataset's own images, so a context label read off that
 * background (or a label file keyed by image) would describe pixels the model never sees.
 */
const NO_OWN_BACKGROUND: readonly VariantName[] = ['only_fg', 'bg_color', 'generic_bg'];

export interface ContextProblem {
  /** Below the train entry, e.g. ['context', 'label']. */
  path: string[];
  message: string;
}

/** Why a train entry's context head cannot run on this dataset and train variant; empty when it can. */
export function contextProblems(
  context: ContextHead,
  dataset: SourceSpec,
  trainVariant: { label: string; name: VariantName },
): ContextProblem[] {
  const problems: ContextProblem[] = [];
  const synthetic = dataset.source === 'synthetic';
  if (context.label === 'file' && synthetic)
    problems.push({
      path: ['context', 'file'],
      message:
        'synthetic data knows its own context labels: use label "background" or "cooccurring", not a file',
    });
  if (context.label !== 'file' && !synthetic)
    problems.push({
      path: ['context', 'label'],
      message: `"${context.label}" is known only for synthetic data; for ${dataset.source} data give label "file" and a per-image label file`,
    });
  if (context.label === 'cooccurring' && synthetic && dataset.factors.distractor === 0)
    problems.push({
      path: ['context', 'label'],
      message:
        'dataset.factors.distractor is 0: no image has a co-occurring object, so the label would be constant',
    });
  if (NO_OWN_BACKGROUND.includes(trainVariant.name))
    problems.push({
      path: ['on'],
      message: `a context head cannot train on "${trainVariant.label}": its images do not show their own (or a paired dataset image's) background`,
    });
  return problems;
}

/** The run label's suffix, e.g. " + context background ×1". */
export function contextSuffix(context: { label: string; weight: number } | undefined): string {
  return context ? ` + context ${context.label}${context.weight === 1 ? '' : ` ×${context.weight}`}` : '';
}

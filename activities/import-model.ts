import { z } from 'zod';
import type { ImportModelInput, TrainRunOutput } from '../core/contracts';
import { SpecValidationError } from '../common/errors';
import { classMapSchema } from '../core/ml/class-map';
import { importPretrained, loadPretrainedRaw, ModelInputError } from '../core/ml/pretrained';
import { preprocessSchema } from '../core/ml/preprocess';
import type { ArtifactStore } from '../store';
import { activityHooks } from './activity-context';
import { parseInput } from './parse-input';

const importModelInputSchema = z.object({
  runId: z.string().min(1),
  label: z.string().min(1),
  model: z
    .object({
      name: z.string().min(1),
      source: z.enum(['onnx', 'tfjs']),
      uri: z.string().min(1),
      preprocess: preprocessSchema,
      classMap: classMapSchema,
    })
    .strict(),
});

/** `importModel` (core/contracts.ts TrainEvalActivities): a pretrained model stands in for a trained one. */
export function createImportModelActivities(deps: { store: ArtifactStore }) {
  const { store } = deps;
  return {
    /**
     * A pretrained model in place of training: its files copied into the store under their content hash
     * (models/), with the declared preprocessing and class map. Checked to load here, so a broken file fails
     * the run at once and by name.
     */
    async importModel(raw: ImportModelInput): Promise<TrainRunOutput> {
      const input = parseInput(importModelInputSchema, raw, 'importModel');
      const hooks = activityHooks();
      // A large model from a URL may take longer than the heartbeat timeout to copy.
      const beat = setInterval(() => hooks.heartbeat({ phase: 'import' }), 10_000);
      // The user's model at fault: fail the study by name; the store or network: let Temporal retry.
      const toSpecError = (err: unknown) => {
        if (err instanceof ModelInputError)
          throw new SpecValidationError(`model ${input.model.name}: ${err.message}`);
        throw err;
      };
      const { key, artifact, reused } = await importPretrained(store, input.model)
        .catch(toSpecError)
        .finally(() => clearInterval(beat));
      const runner = await loadPretrainedRaw(store, artifact).catch(toSpecError);
      const backend = runner.backend;
      await runner.dispose();
      hooks.info('pretrained model imported', { key, sha256: artifact.sha256, reused });
      return {
        runId: input.runId,
        modelKey: key,
        curves: [],
        backend: `pretrained ${artifact.source} ${artifact.sha256.slice(0, 12)} on ${backend}`,
        resumedFrom: null,
        batchesTrainedThisAttempt: 0,
        batchesTotal: 0,
        reused,
      };
    },
  };
}

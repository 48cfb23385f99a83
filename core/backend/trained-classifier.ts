/**
 * A model trained here as a Classifier on the engine this process trains with: the libtorch addon when
 * initBackend chose libtorch (so evaluation, the challenge and saliency run on the GPU where training does),
 * else the tfjs model on tfjs's current backend. Either way the stored weights and BatchNorm statistics run in
 * inference mode, and the classifier's `backend` names the engine for the results.
 */
import { type Classifier, trainedClassifier } from '../ml/classifier';
import { type ModelArtifact, loadModelWeights } from '../ml/model-artifact';
import { buildModel } from '../ml/models';
import { writeWeights } from '../ml/in-process-trainer';
import type { ArtifactStore } from '../../store/artifact-store';
import { selectedBackend, type BackendName } from './select-backend';
import { torchClassifier } from './torch-classifier';

export async function loadTrainedClassifier(
  store: ArtifactStore,
  modelKey: string,
  engine: BackendName | undefined = selectedBackend()?.name,
): Promise<{ artifact: ModelArtifact; classifier: Classifier }> {
  const { artifact, weights } = await loadModelWeights(store, modelKey);
  const { modelSpec } = artifact;
  // fp32 whatever BGSTUDY_TORCH_PRECISION trains with: evaluated numbers mean the same on every engine.
  if (engine === 'libtorch')
    return { artifact, classifier: torchClassifier(modelSpec, weights, { precision: 'fp32' }) };
  const model = buildModel(modelSpec);
  writeWeights(model, weights);
  return { artifact, classifier: trainedClassifier(model, modelSpec.inputSize, modelSpec.numClasses) };
}

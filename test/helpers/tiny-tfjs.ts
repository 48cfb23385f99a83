import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

/**
 * Writes a tiny tfjs LayersModel (NHWC `size` px: conv 4 -> BatchNorm -> relu -> global average -> Dense 6 relu
 * -> Dense `outputs`, seeded, layers named: the same bytes every time) as `dir/model.json` + `dir/weights.bin`, the files a user would export. Returns the
 * model.json path.
 */
export async function writeTinyTfjsModel(
  dir: string,
  size: number,
  outputs: number,
  seed = 1,
): Promise<string> {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed * 10 + s });
  const model = tf.sequential({
    name: 'tiny',
    layers: [
      tf.layers.conv2d({
        name: 'conv',
        inputShape: [size, size, 3],
        filters: 4,
        kernelSize: 3,
        kernelInitializer: init(1),
      }),
      tf.layers.batchNormalization({ name: 'bn' }),
      tf.layers.activation({ name: 'relu', activation: 'relu' }),
      tf.layers.globalAveragePooling2d({ name: 'pool' }),
      tf.layers.dense({ name: 'hidden', units: 6, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.dense({ name: 'logits', units: outputs, kernelInitializer: init(3) }),
    ],
  });
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const json = {
        format: 'layers-model',
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      };
      await writeFile(path.join(dir, 'model.json'), `${JSON.stringify(json)}\n`);
      await writeFile(path.join(dir, 'weights.bin'), Buffer.from(a.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  return path.join(dir, 'model.json');
}

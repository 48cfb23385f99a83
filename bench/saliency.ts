/**
 * `npm run bench:saliency`: what SmoothGrad (the default saliency of models trained here) costs against one plain
 * gradient, side by side in one process on the same 16-image grid: small_cnn at 32 px and resnet18 at 64 px
 * (seeded weights; the cost does not depend on training). Prints seconds per grid, the ratio and the load average.
 * Options: --only small_cnn | resnet18.
 */
import { configureEngineFromEnv } from '../config/engine';
import os from 'node:os';
import { initBackend } from '../core/backend/select-backend';
import type { Sample } from '../core/data/sample';
import { buildModel } from '../core/ml/models';
import { saliencyMaps, SMOOTHGRAD_DEFAULT } from '../core/ml/saliency';

// The engine settings (BGSTUDY_BACKEND and the like) are read once, here at the edge.
configureEngineFromEnv();

function grid(size: number, n: number): Sample[] {
  return Array.from({ length: n }, (_, i) => {
    const rgb = Uint8Array.from({ length: size * size * 3 }, (_, j) => (j * 31 + i * 17) % 256);
    const mask = Uint8Array.from({ length: size * size }, (_, j) => (j % size < size / 2 ? 255 : 0));
    return { id: `s${i}`, label: i % 9, width: size, height: size, rgb, mask };
  });
}

async function main(): Promise<void> {
  const backend = await initBackend({ log: (l) => console.log(l) });
  console.log(
    `load at start: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; backend ${backend.name}`,
  );
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  for (const [arch, size] of [
    ['small_cnn', 32],
    ['resnet18', 64],
  ] as const) {
    if (only && arch !== only) continue;
    const model = buildModel({ arch, inputSize: size, numClasses: 9, seed: 1 });
    const samples = grid(size, 16);
    await saliencyMaps(model, samples.slice(0, 2), size); // warm-up
    const t0 = performance.now();
    await saliencyMaps(model, samples, size);
    const plain = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    await saliencyMaps(model, samples, size, { smoothGrad: SMOOTHGRAD_DEFAULT });
    const smooth = (performance.now() - t1) / 1000;
    console.log(
      `${arch} ${size}px, 16 maps: gradient ${plain.toFixed(2)} s, SmoothGrad (${SMOOTHGRAD_DEFAULT.samples} copies) ${smooth.toFixed(2)} s, ratio ${(smooth / plain).toFixed(1)}x`,
    );
    model.dispose();
  }
  console.log(
    `load at end: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
}

void main();

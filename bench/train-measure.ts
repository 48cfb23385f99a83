/**
 * One training/evaluation throughput measurement, in its own process (bench/train.ts runs one per backend,
 * so backends never share a heap): `tsx bench/train-measure.ts '<json MeasureRequest>'` prints one JSON line.
 */
import { configureEngineFromEnv } from '../config/engine';
import { createTrainer } from '../core/backend/create-trainer';
import { describeBackend } from '../core/backend/select-backend';
import type { BackendName } from '../core/backend/select-backend';
import type { Architecture } from '../core/ml/model-spec';

// The engine settings (BGSTUDY_BACKEND and the like) are read once, here at the edge.
configureEngineFromEnv();

export interface MeasureRequest {
  arch: Architecture;
  size: number;
  batch: number;
  backend: BackendName;
  workers: number;
  /** Seconds of timed training (evaluation gets half). */
  seconds: number;
}

export interface MeasureResult {
  backend: string;
  trainer: string;
  trainIps: number;
  evalIps: number;
  trainSteps: number;
}

async function timed(step: () => Promise<unknown>, seconds: number, minSteps = 3): Promise<[number, number]> {
  const t0 = performance.now();
  let steps = 0;
  while (steps < minSteps || performance.now() - t0 < seconds * 1000) {
    await step();
    steps++;
  }
  return [steps, (performance.now() - t0) / 1000];
}

async function main(): Promise<void> {
  const r = JSON.parse(process.argv[2]!) as MeasureRequest;
  const { trainer, backend } = await createTrainer({
    modelSpec: { arch: r.arch, inputSize: r.size, numClasses: 9, seed: 1 },
    optimizer: { name: 'adam', learningRate: 1e-3 },
    backend: r.backend,
    workers: r.workers,
  });
  try {
    const x = new Float32Array(r.batch * r.size * r.size * 3);
    for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) >>> 0) / 2 ** 32;
    const y = Int32Array.from({ length: r.batch }, (_, i) => i % 9);
    const batch = { x, y, n: r.batch };
    for (let i = 0; i < 2; i++) await trainer.trainStep(batch);
    const [steps, secs] = await timed(() => trainer.trainStep(batch), r.seconds);
    await trainer.predict(x, r.batch);
    const [esteps, esecs] = await timed(() => trainer.predict(x, r.batch), r.seconds / 2);
    const out: MeasureResult = {
      backend: describeBackend(backend),
      trainer: trainer.backend,
      trainIps: (steps * r.batch) / secs,
      evalIps: (esteps * r.batch) / esecs,
      trainSteps: steps,
    };
    console.log(JSON.stringify(out));
  } finally {
    await trainer.dispose();
  }
}

main().catch((err: Error) => {
  console.error(err.name === 'BackendUnavailableError' ? `UNAVAILABLE ${err.message}` : err.stack);
  process.exit(2);
});

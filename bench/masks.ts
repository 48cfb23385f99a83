/**
 * `npm run bench:masks`: GrabCut masks per second at 224 px (OpenCV.js WASM, @techstark/opencv-js) in this thread
 * and on worker threads, next to OpenCV's native cv2.grabCut (opencv-python-headless) run on the same images with
 * the same initial labels in the same bench run, as a ratio. Also the agreement of the two (IoU of ours with
 * cv2's masks) and the quality of both against the drawn objects' true masks. Writes bench/RESULTS.md.
 *
 * usage: npx tsx bench/masks.ts [--n 40] [--size 224] [--iterations 5] [--threads 2]
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { maskBBox } from '../core/data/mask-stats';
import { syntheticSourceSchema } from '../core/data/source-spec';
import { drawSynthetic } from '../core/data/synthetic';
import { boxMask } from '../core/masks/boxes';
import { type GrabCutJob, grabCutInit, loadOpenCv } from '../core/masks/grabcut';
import { GrabCutPool } from '../core/masks/grabcut-pool';
import { maskIoU } from '../core/masks/mask-checks';
import { machineLine, writeSection } from './results-file';
import { arg } from './args';

const N = Number(arg('n', '40'));
const SIZE = Number(arg('size', '224'));
const ITER = Number(arg('iterations', '5'));
const THREADS = Number(arg('threads', String(Math.min(2, os.availableParallelism()))));
const OUT = path.resolve(__dirname, 'out', 'masks');

/** The first Python 3 on this machine whose cv2 imports (the pyenv one where opencv-python-headless is installed). */
function findPython(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(py, ['-c', 'import cv2, numpy'], { stdio: 'ignore' });
      return py;
    } catch {
      // next
    }
  }
  return undefined;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const spec = syntheticSourceSchema.parse({ source: 'synthetic', size: SIZE, seed: 3, bgNoise: 12 });
  const truth: Uint8Array[] = [];
  const jobs: GrabCutJob[] = [];
  for (let u = 0; u < N; u++) {
    const { sample } = drawSynthetic(spec, 'val', u);
    truth.push(sample.mask!);
    jobs.push({
      width: SIZE,
      height: SIZE,
      rgb: sample.rgb,
      boxes: [maskBBox(sample.mask!, SIZE, SIZE)],
      params: { iterations: ITER, margin: 0 },
    });
  }
  await loadOpenCv(); // load time is not part of a mask's cost
  const one = new GrabCutPool(1);
  let t0 = performance.now();
  const ours = await one.run(jobs);
  const oursSec = (performance.now() - t0) / 1000;
  const pool = new GrabCutPool(THREADS);
  await pool.run(jobs.slice(0, THREADS)); // start the threads and load OpenCV.js in each
  t0 = performance.now();
  const threaded = await pool.run(jobs);
  const threadedSec = (performance.now() - t0) / 1000;
  await pool.close();
  const masks = ours.map((r, i) => {
    if (!r.mask) throw new Error(`image ${i}: ${r.error}`);
    return r.mask;
  });
  const same = threaded.every((r, i) => r.mask && Buffer.from(r.mask).equals(Buffer.from(masks[i]!)));

  const py = findPython();
  let ref: { seconds: number; opencv: string; numpy: string; python: string } | undefined;
  let pyMasks: Uint8Array[] = [];
  if (py) {
    await writeFile(path.join(OUT, 'rgb.bin'), Buffer.concat(jobs.map((j) => j.rgb)));
    await writeFile(path.join(OUT, 'init.bin'), Buffer.concat(jobs.map((j) => grabCutInit(j))));
    ref = JSON.parse(
      execFileSync(
        py,
        [path.join(__dirname, 'reference/grabcut.py'), OUT, String(N), String(SIZE), String(ITER)],
        {
          encoding: 'utf8',
        },
      ),
    ) as typeof ref;
    const all = await readFile(path.join(OUT, 'py-masks.bin'));
    pyMasks = jobs.map((_, i) => new Uint8Array(all.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE)));
  }
  const iouTruth = mean(masks.map((m, i) => maskIoU(m, truth[i]!)));
  const iouBox = mean(jobs.map((j, i) => maskIoU(boxMask(j.boxes, SIZE, SIZE), truth[i]!)));
  const iouPyTruth = pyMasks.length ? mean(pyMasks.map((m, i) => maskIoU(m, truth[i]!))) : undefined;
  const agree = pyMasks.length ? masks.map((m, i) => maskIoU(m, pyMasks[i]!)) : [];
  const rate = (sec: number) => (N / sec).toFixed(1);
  const refRate = ref ? N / ref.seconds : undefined;
  const lines = [
    '## GrabCut masks (`npm run bench:masks`)',
    '',
    `Measured ${new Date().toISOString().slice(0, 16)}Z on: ${machineLine()}; @techstark/opencv-js 4.12.0-release.1 (OpenCV 4.12.0 built to single-threaded WASM)${ref ? `; reference: Python ${ref.python}, opencv-python-headless ${ref.opencv}, NumPy ${ref.numpy}` : '; reference: no Python with cv2 found (pip install opencv-python-headless)'}.`,
    `Load: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ' / ',
      )} (1/5/15 min) at the end of the run; other agents were using the same 2 cores, so treat the figures as lower bounds.`,
    '',
    `${N} synthetic ${SIZE}x${SIZE} images (drawn objects on textured, noisy backgrounds), GrabCut from each object's true`,
    `box, ${ITER} iterations, both from the same initial labels (core/masks/grabcut.ts grabCutInit). Load time excluded.`,
    '',
    '| implementation | masks/s | vs cv2 (native, 1 thread) |',
    '|---|---|---|',
    `| ours: OpenCV.js (WASM), 1 thread | ${rate(oursSec)} | ${refRate ? `${(N / oursSec / refRate).toFixed(2)}x` : '-'} |`,
    `| ours: OpenCV.js (WASM), ${THREADS} worker threads | ${rate(threadedSec)} | ${refRate ? `${(N / threadedSec / refRate).toFixed(2)}x` : '-'} |`,
    `| reference: cv2.grabCut (native), 1 thread | ${refRate ? refRate.toFixed(1) : '-'} | 1.00x |`,
    '',
    `Worker threads give the same masks as one thread: ${same ? 'yes' : 'NO'}.`,
    `Mean IoU with the true masks: ours ${iouTruth.toFixed(3)}${iouPyTruth !== undefined ? `, cv2 ${iouPyTruth.toFixed(3)}` : ''}, the filled box ${iouBox.toFixed(3)}.`,
    ...(agree.length
      ? [
          `Agreement of ours with cv2 (IoU per image): mean ${mean(agree).toFixed(4)}, min ${Math.min(...agree).toFixed(4)}; identical masks ${agree.filter((a) => a === 1).length}/${N}.`,
        ]
      : []),
  ];
  const text = lines.join('\n');
  console.log(text);
  writeSection('masks', text);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

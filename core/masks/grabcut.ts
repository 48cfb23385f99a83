import type { Box } from './boxes';

/** Bump when GrabCut masks would come out different (initialisation, defaults, OpenCV build). */
export const GRABCUT_CODE_VERSION = 'grabcut-2 opencv-js 4.12.0';

/**
 * Largest image GrabCut is run on. OpenCV.js's GrabCut needs about 400 bytes per pixel of 32-bit WASM memory:
 * 2200 x 2200 still works, 2400 x 2400 traps (out-of-bounds access) and leaves the runtime broken.
 */
export const GRABCUT_MAX_PIXELS = 4_000_000;

export interface GrabCutParams {
  iterations: number;
  /** Boxes grow by this share of their width/height on every side. */
  margin: number;
}

export interface GrabCutJob {
  width: number;
  height: number;
  rgb: Uint8Array;
  boxes: Box[];
  params: GrabCutParams;
}

/** The few OpenCV.js members used here (the package's own typings cover the whole library). */
interface Mat {
  data: Uint8Array;
  delete(): void;
}
interface OpenCv {
  Mat: new () => Mat;
  Rect: new (x: number, y: number, w: number, h: number) => unknown;
  matFromArray(rows: number, cols: number, type: number, data: Uint8Array): Mat;
  grabCut(img: Mat, mask: Mat, rect: unknown, bgd: Mat, fgd: Mat, iterations: number, mode: number): void;
  exceptionFromPtr?(ptr: number): { msg?: string };
  setRNGSeed(seed: number): void;
  CV_8UC1: number;
  CV_8UC3: number;
  GC_INIT_WITH_MASK: number;
}

/** OpenCV's RNG state before every GrabCut: each mask is a function of its image, boxes and parameters alone. */
const GRABCUT_RNG_SEED = 12345;

// OpenCV's GrabCut classes
const GC_BGD = 0;
const GC_PR_BGD = 2;
const GC_PR_FGD = 3;

let loading: Promise<{ cv: OpenCv }> | undefined;

/**
 * Loads OpenCV.js (WASM, embedded in the package: nothing is downloaded) once per thread, lazily: a dataset
 * without GrabCut never pays for it. Required, not imported: the Emscripten module is a thenable that resolves
 * to itself, so awaiting it (or an ES namespace holding its `then`) never settles. Its `then` is removed once
 * the runtime is ready, and it is handed on wrapped.
 */
export function loadOpenCv(): Promise<{ cv: OpenCv }> {
  loading ??= new Promise((resolve) => {
    // Emscripten installs process handlers that abort on any uncaught exception or unhandled rejection of the
    // host; they are removed again so loading OpenCV changes nothing about the process it runs in
    const events = ['uncaughtException', 'unhandledRejection'];
    const listeners = (e: string) => process.listeners(e as 'uncaughtException') as unknown[];
    const before = events.map((e) => new Set(listeners(e)));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cv = require('@techstark/opencv-js') as OpenCv & { then?: (f: () => void) => void };
    events.forEach((e, i) => {
      for (const l of listeners(e))
        if (!before[i]!.has(l)) process.removeListener(e, l as (...args: unknown[]) => void);
    });
    // `then` calls back at once when the runtime is ready, or once it is
    cv.then!(() => {
      delete cv.then;
      resolve({ cv });
    });
  });
  return loading;
}

/** The initial GrabCut labels: inside any (grown) box "probably foreground", outside it "background". */
export function grabCutInit(job: Omit<GrabCutJob, 'rgb'>): Uint8Array {
  const { width: w, height: h } = job;
  const init = new Uint8Array(w * h).fill(GC_BGD);
  for (const [x0, y0, x1, y1] of job.boxes) {
    const mx = Math.round((x1 - x0) * job.params.margin);
    const my = Math.round((y1 - y0) * job.params.margin);
    const gx0 = Math.max(0, x0 - mx);
    const gx1 = Math.min(w, x1 + mx);
    for (let y = Math.max(0, y0 - my); y < Math.min(h, y1 + my); y++)
      init.fill(GC_PR_FGD, y * w + gx0, y * w + gx1);
  }
  // GrabCut needs background samples: when the boxes cover (nearly) the whole image, the outer frame is
  // taken as "probably background" (ImageNet boxes often span the image)
  let bg = 0;
  for (let i = 0; i < init.length; i++) if (init[i] === GC_BGD) bg++;
  if (bg < Math.max(16, 0.02 * w * h)) {
    const t = Math.max(1, Math.round(0.03 * Math.min(w, h)));
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        if ((x < t || y < t || x >= w - t || y >= h - t) && init[y * w + x] === GC_PR_FGD)
          init[y * w + x] = GC_PR_BGD;
  }
  return init;
}

/**
 * GrabCut (Rother et al. 2004, OpenCV's implementation) initialised from the boxes: a 0/255 foreground mask.
 * Throws an Error with OpenCV's message when it fails (e.g. no foreground left to model).
 */
export function grabCutWith(cv: OpenCv, job: GrabCutJob): Uint8Array {
  const { width: w, height: h } = job;
  const mats: Mat[] = [];
  try {
    const img = cv.matFromArray(h, w, cv.CV_8UC3, job.rgb);
    mats.push(img);
    const mask = cv.matFromArray(h, w, cv.CV_8UC1, grabCutInit(job));
    mats.push(mask);
    const bgd = new cv.Mat();
    const fgd = new cv.Mat();
    mats.push(bgd, fgd);
    // GrabCut seeds its colour models with k-means++, drawn from OpenCV's one process-wide RNG: without a reset
    // an image's mask would depend on every GrabCut run before it in this thread (and so on which thread took it)
    cv.setRNGSeed(GRABCUT_RNG_SEED);
    cv.grabCut(img, mask, new cv.Rect(0, 0, w, h), bgd, fgd, job.params.iterations, cv.GC_INIT_WITH_MASK);
    const out = new Uint8Array(w * h);
    const d = mask.data;
    for (let i = 0; i < out.length; i++) out[i] = d[i] === 1 || d[i] === GC_PR_FGD ? 255 : 0;
    return out;
  } catch (err) {
    // OpenCV.js throws C++ exceptions as numbers (pointers)
    if (typeof err === 'number')
      throw new Error(`OpenCV: ${cv.exceptionFromPtr?.(err)?.msg ?? `exception ${err}`}`, { cause: err });
    throw err;
  } finally {
    for (const m of mats) m.delete();
  }
}

/**
 * OpenCV.js trapped (a WebAssembly RuntimeError: out-of-bounds access, abort, out of memory). Its runtime is
 * unusable afterwards: every later call fails the same way, so it is thrown away (a worker thread is replaced,
 * this thread loads a fresh copy on the next job).
 */
export class OpenCvTrapError extends Error {
  override name = 'OpenCvTrapError';
}

// WebAssembly.RuntimeError (not in this project's type libraries) is named RuntimeError; Emscripten aborts with
// an Error whose message starts with "Aborted("
const isTrap = (err: unknown) =>
  err instanceof Error && (err.name === 'RuntimeError' || err.message.startsWith('Aborted('));

/** Forgets the loaded OpenCV.js so the next loadOpenCv starts a fresh runtime. */
function dropOpenCv(): void {
  loading = undefined;
  delete require.cache[require.resolve('@techstark/opencv-js')];
}

export async function grabCutMask(job: GrabCutJob): Promise<Uint8Array> {
  const { cv } = await loadOpenCv();
  try {
    return grabCutWith(cv, job);
  } catch (err) {
    if (!isTrap(err)) throw err;
    dropOpenCv();
    throw new OpenCvTrapError(
      `OpenCV (WASM) failed on this ${job.width}x${job.height} image (${(err as Error).message}); its runtime was restarted`,
      { cause: err },
    );
  }
}

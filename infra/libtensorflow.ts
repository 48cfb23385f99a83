/**
 * libtensorflow for @tensorflow/tfjs-node from PyPI, for machines that reach a Python package index but not
 * storage.googleapis.com (where tfjs-node's own install downloads it). TensorFlow's `tensorflow-cpu` wheel
 * carries the same C and eager C API in libtensorflow_cc.so.2; we take that library, its framework library and
 * the few C headers the tfjs-node binding includes, and nothing Python.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { runTool } from './run-tool';

export interface WheelSpec {
  project: string;
  version: string;
  /** The one wheel file we use; its Python tag does not matter (no Python code is loaded). */
  file: string;
  sha256: string;
}

/** Pinned: the newest TensorFlow we measured fastest with tfjs-node 4.22 (2.18 and 2.20 were 2-6% slower). */
export const TENSORFLOW_CPU_WHEEL: WheelSpec = {
  project: 'tensorflow-cpu',
  version: '2.15.1',
  file: 'tensorflow_cpu-2.15.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
  sha256: '54660c074d7241a503e81edfd9f5ef5af88f64051b72e2945f26318c790f2d26',
};

/** The shared libraries (into lib/) and header folders (into include/) taken from the wheel. */
const LIBRARIES = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];
const HEADER_DIRS = ['tensorflow/c/', 'tensorflow/core/platform/', 'tsl/c/', 'tsl/platform/'];
const WHEEL_LIB = 'tensorflow/';
const WHEEL_INCLUDE = 'tensorflow/include/';

export type Log = (line: string) => void;

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/**
 * The first pip that answers: pip honours the user's index, mirror, proxy and certificate settings.
 * BGSTUDY_PIP names one (e.g. "python3.12 -m pip"), or "none" to go straight to PyPI's JSON API.
 */
async function findPip(): Promise<string[] | undefined> {
  const named = process.env.BGSTUDY_PIP?.trim();
  if (named === 'none') return undefined;
  for (const cmd of [
    ...(named ? [named.split(/\s+/)] : []),
    ['python3', '-m', 'pip'],
    ['pip3'],
    ['pip'],
    ['/usr/bin/python3', '-m', 'pip'],
  ]) {
    try {
      if ((await runTool(cmd[0]!, [...cmd.slice(1), '--version'])).code === 0) return cmd;
    } catch {
      // not installed
    }
  }
  return undefined;
}

async function pipDownload(spec: WheelSpec, dir: string, log: Log): Promise<string> {
  const pip = await findPip();
  if (!pip)
    throw new Error(
      process.env.BGSTUDY_PIP?.trim() === 'none'
        ? 'pip skipped (BGSTUDY_PIP=none)'
        : 'no pip found (python3 -m pip, pip3, pip)',
    );
  log(
    `downloading ${spec.project} ${spec.version} with ${pip.join(' ')} (about 210 MB, once; BGSTUDY_TFJS_NODE=off skips this)...`,
  );
  const tag = /-(cp\d+)-cp\d+-(.+)\.whl$/.exec(spec.file)!;
  const platform = tag[2]!.split('.').at(-1)!;
  const r = await runTool(pip[0]!, [
    ...pip.slice(1),
    'download',
    `${spec.project}==${spec.version}`,
    '--no-deps',
    '--only-binary=:all:',
    '--python-version',
    tag[1]!.replace(/^cp(\d)(\d+)$/, '$1.$2'),
    '--platform',
    platform,
    '--disable-pip-version-check',
    '-d',
    dir,
  ]);
  if (r.code !== 0) throw new Error(`pip download failed: ${r.out.trim().split('\n').slice(-2).join(' ')}`);
  return path.join(dir, spec.file);
}

/** Without pip: the file's address from PyPI's JSON API, streamed to disk. */
async function pypiDownload(spec: WheelSpec, dir: string, log: Log): Promise<string> {
  const index = (process.env.BGSTUDY_PYPI_URL ?? 'https://pypi.org').replace(/\/$/, '');
  const meta = await fetch(`${index}/pypi/${spec.project}/${spec.version}/json`, {
    signal: AbortSignal.timeout(60_000),
  });
  if (!meta.ok) throw new Error(`${index}: HTTP ${meta.status} for ${spec.project} ${spec.version}`);
  const { urls } = (await meta.json()) as { urls: { filename: string; url: string }[] };
  const url = urls.find((u) => u.filename === spec.file)?.url;
  if (!url) throw new Error(`${index} lists no ${spec.file}`);
  log(`downloading ${url} (about 210 MB, once; BGSTUDY_TFJS_NODE=off skips this)...`);
  const res = await fetch(url, { signal: AbortSignal.timeout(30 * 60_000) });
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  const target = path.join(dir, spec.file);
  await pipeline(Readable.fromWeb(res.body), createWriteStream(target));
  return target;
}

/**
 * The pinned wheel in `dir`, downloaded (pip first, then PyPI's JSON API) if it is not there yet, and checked
 * against its sha256 either way.
 */
export async function obtainWheel(spec: WheelSpec, dir: string, log: Log): Promise<string> {
  const target = path.join(dir, spec.file);
  if (!existsSync(target)) {
    const tmp = path.join(dir, `download-${process.pid}`);
    await mkdir(tmp, { recursive: true });
    const tried: string[] = [];
    try {
      let got: string | undefined;
      for (const how of [pipDownload, pypiDownload]) {
        try {
          got = await how(spec, tmp, log);
          break;
        } catch (err) {
          tried.push((err as Error).message);
        }
      }
      if (!got) throw new Error(`could not download ${spec.file}: ${tried.join('; ')}`);
      await rename(got, target);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  const digest = await sha256Of(target);
  if (digest !== spec.sha256) {
    await rm(target, { force: true });
    throw new Error(`${target}: sha256 ${digest} is not the pinned ${spec.sha256}; removed it`);
  }
  return target;
}

/** Where an entry of the wheel goes under `dir` (lib/ or include/), or undefined for the rest of the wheel. */
function destination(entry: string): string | undefined {
  if (entry.startsWith(WHEEL_LIB) && LIBRARIES.includes(entry.slice(WHEEL_LIB.length)))
    return path.join('lib', entry.slice(WHEEL_LIB.length));
  if (!entry.startsWith(WHEEL_INCLUDE) || !entry.endsWith('.h')) return undefined;
  const header = entry.slice(WHEEL_INCLUDE.length);
  if (header.includes('..') || !HEADER_DIRS.some((d) => header.startsWith(d))) return undefined;
  return path.join('include', header);
}

/** Extracts the libraries and headers into `dir` (lib/, include/); returns how many files it wrote. */
export async function extractLibtensorflow(wheel: string, dir: string): Promise<number> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(wheel, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  let written = 0;
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      const rel = destination(entry.fileName);
      if (!rel) return zip.readEntry();
      const target = path.join(dir, rel);
      mkdir(path.dirname(target), { recursive: true })
        .then(
          () =>
            new Promise<Readable>((res, rej) =>
              zip.openReadStream(entry, (err, s) => (err ? rej(err) : res(s))),
            ),
        )
        .then((stream) => pipeline(stream, createWriteStream(target, { mode: 0o755 })))
        .then(() => {
          written++;
          zip.readEntry();
        }, reject);
    });
    zip.readEntry();
  });
  zip.close();
  const libs = await readdir(path.join(dir, 'lib')).catch((): string[] => []);
  const missing = LIBRARIES.filter((l) => !libs.includes(l));
  if (missing.length) throw new Error(`${wheel} has no ${missing.join(', ')}`);
  return written;
}

export const LIBTENSORFLOW_LIBRARIES = LIBRARIES;

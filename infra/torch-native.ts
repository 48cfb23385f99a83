/**
 * Builds the libtorch engine's addon (native/torch/bgstudy_torch.cc) with the system C++ compiler against
 * Node-API headers from npm and the first libtorch found: the folder BGSTUDY_LIBTORCH names (a libtorch
 * download or a torch package folder, with include/ and lib/), else the PyTorch that `python3` imports (its
 * headers and shared libraries, CUDA ones included), else Debian's libtorch-dev. The build lands in
 * native/torch/build/ with a build.json naming what it linked; an unchanged source and libtorch only reprobe.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runTool } from './run-tool';

export type TorchMode = 'auto' | 'required' | 'off';
type Log = (line: string) => void;

const ROOT = path.resolve(__dirname, '..');

/** Where the source, the Node-API headers and the build are (bench/gpu/ runs from a bundle, elsewhere). */
export interface TorchBuildPaths {
  source: string;
  build: string;
  headers: string;
}

export function defaultBuildPaths(): TorchBuildPaths {
  return {
    source: path.join(ROOT, 'native', 'torch', 'bgstudy_torch.cc'),
    build: path.join(ROOT, 'native', 'torch', 'build'),
    headers: path.join(path.dirname(require.resolve('node-api-headers/package.json')), 'include'),
  };
}

export interface Libtorch {
  /** Where it came from, for logs and build.json. */
  source: string;
  includes: string[];
  libDir: string;
  version: string;
  /** libstdc++ string ABI libtorch was built with (Debian's and PyTorch 2.x's: 1). */
  cxx11Abi: 0 | 1;
  cuda: boolean;
}

async function torchVersion(includeApi: string): Promise<string> {
  const text = await readFile(path.join(includeApi, 'torch', 'version.h'), 'utf8').catch(() => '');
  const v = ['MAJOR', 'MINOR', 'PATCH'].map((k) => new RegExp(`TORCH_VERSION_${k} (\\d+)`).exec(text)?.[1]);
  return v.every(Boolean) ? v.join('.') : 'unknown';
}

/** libtorch's string ABI, from its c10 library's symbols (the mangled std::__cxx11 namespace). */
async function cxx11Abi(libDir: string): Promise<0 | 1> {
  const bytes = await readFile(path.join(libDir, 'libc10.so'));
  return bytes.includes('7__cxx1112basic_string') ? 1 : 0;
}

/** A libtorch laid out as include/ + lib/ (the libtorch zip, or PyTorch's torch/ package folder). */
async function fromFolder(dir: string, source: string): Promise<Libtorch | undefined> {
  const api = path.join(dir, 'include', 'torch', 'csrc', 'api', 'include');
  const lib = path.join(dir, 'lib');
  if (!existsSync(api) || !existsSync(path.join(lib, 'libtorch.so'))) return undefined;
  return {
    source,
    includes: [path.join(dir, 'include'), api],
    libDir: lib,
    version: await torchVersion(api),
    cxx11Abi: await cxx11Abi(lib),
    cuda: existsSync(path.join(lib, 'libtorch_cuda.so')),
  };
}

let pythonFound: string | null | undefined;

/**
 * The first Python that imports PyTorch: BGSTUDY_PYTHON if set, else python3, python, /usr/bin/python3 (a
 * pyenv or venv python3 first on PATH often lacks the system's torch). Undefined where none does. bench/gpu
 * uses it for its build and its PyTorch rows; setup keeps BGSTUDY_PYTHON or python3, else Debian's libtorch.
 */
export function torchPython(): string | undefined {
  if (pythonFound !== undefined) return pythonFound ?? undefined;
  const env = process.env.BGSTUDY_PYTHON;
  const candidates = env ? [env] : ['python3', 'python', '/usr/bin/python3'];
  pythonFound =
    candidates.find(
      (p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore', timeout: 120_000 }).status === 0,
    ) ?? null;
  return pythonFound ?? undefined;
}

/** The libtorch to build against, or why there is none. */
export async function findLibtorch(): Promise<Libtorch | string> {
  const env = process.env.BGSTUDY_LIBTORCH;
  if (env) {
    return (
      (await fromFolder(env, `BGSTUDY_LIBTORCH=${env}`)) ??
      `BGSTUDY_LIBTORCH=${env} has no include/torch/csrc/api/include and lib/libtorch.so`
    );
  }
  const python = process.env.BGSTUDY_PYTHON ?? 'python3';
  const r = await runTool(python, ['-c', 'import torch,os;print(os.path.dirname(torch.__file__))']).catch(
    () => ({
      code: 1,
      out: '',
    }),
  );
  if (r.code === 0) {
    const dir = r.out.trim().split('\n').at(-1)!;
    const found = await fromFolder(dir, `PyTorch at ${dir}`);
    if (found) return found;
  }
  const debianApi = '/usr/include/torch/csrc/api/include';
  const debianLib = '/usr/lib/x86_64-linux-gnu';
  if (existsSync(debianApi) && existsSync(path.join(debianLib, 'libtorch.so'))) {
    return {
      source: "Debian's libtorch-dev",
      includes: [debianApi],
      libDir: debianLib,
      version: await torchVersion(debianApi),
      cxx11Abi: await cxx11Abi(debianLib),
      cuda: existsSync(path.join(debianLib, 'libtorch_cuda.so')),
    };
  }
  return 'no libtorch found (set BGSTUDY_LIBTORCH, install PyTorch for python3, or apt-get install libtorch-dev)';
}

/** The compiler command line for the addon. */
/** C++ standards to try, in order: PyTorch 2's headers need C++17 and newer ones C++20; 1.x predates C++20. */
export function cxxStandards(lt: Libtorch): string[] {
  return Number(lt.version.split('.')[0]) >= 2 ? ['c++20', 'c++17'] : ['c++17'];
}

export function compileArgs(
  lt: Libtorch,
  out: string,
  paths: TorchBuildPaths,
  std = cxxStandards(lt)[0]!,
): string[] {
  const cudaLibs = lt.cuda ? ['-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed'] : [];
  return [
    '-O2',
    '-shared',
    '-fPIC',
    `-std=${std}`,
    '-DNAPI_VERSION=8',
    `-D_GLIBCXX_USE_CXX11_ABI=${lt.cxx11Abi}`,
    '-w',
    '-I',
    paths.headers,
    ...lt.includes.flatMap((i) => ['-I', i]),
    paths.source,
    '-L',
    lt.libDir,
    `-Wl,-rpath,${lt.libDir}`,
    ...cudaLibs,
    '-ltorch',
    '-ltorch_cpu',
    '-lc10',
    '-o',
    out,
  ];
}

/** Loads the built addon in a child process and asks libtorch what it sees. */
export async function probeTorchAddon(file: string): Promise<{ ok: boolean; detail: string }> {
  const script = `const i=require(${JSON.stringify(file)}).info();console.log(JSON.stringify(i))`;
  const r = await runTool(process.execPath, ['-e', script], { cwd: ROOT });
  const lines = r.out.trim().split('\n');
  return {
    ok: r.code === 0,
    detail: r.code === 0 ? lines.at(-1)! : (lines.find((l) => /Error/.test(l)) ?? lines[0]!),
  };
}

async function stampOf(lt: Libtorch, source: string): Promise<string> {
  const h = createHash('sha256');
  h.update(await readFile(source));
  h.update(JSON.stringify(lt));
  h.update(process.versions.node);
  return h.digest('hex').slice(0, 16);
}

/**
 * Builds the addon where a libtorch is installed. 'auto' reports in one line why it was not built (training
 * then uses tfjs) and carries on; 'required' throws; 'off' does nothing.
 */
export async function ensureTorchAddon(
  mode: TorchMode,
  log: Log,
  paths: TorchBuildPaths = defaultBuildPaths(),
): Promise<string | undefined> {
  if (mode === 'off') return undefined;
  const BUILD = paths.build;
  const ADDON = path.join(BUILD, 'bgstudy_torch.node');
  try {
    const lt = await findLibtorch();
    if (typeof lt === 'string') throw new Error(lt);
    const stamp = await stampOf(lt, paths.source);
    const infoFile = path.join(BUILD, 'build.json');
    const previous = existsSync(infoFile)
      ? (JSON.parse(await readFile(infoFile, 'utf8')) as { stamp?: string }).stamp
      : undefined;
    if (previous !== stamp || !existsSync(ADDON)) {
      const cxx = process.env.CXX ?? 'c++';
      log(
        `compiling the libtorch addon against ${lt.source} (libtorch ${lt.version}) with ${cxx} (a minute)...`,
      );
      await mkdir(BUILD, { recursive: true });
      const tmp = `${ADDON}.tmp-${process.pid}`;
      let r = { code: 1, out: '' };
      for (const std of cxxStandards(lt)) {
        r = await runTool(cxx, compileArgs(lt, tmp, paths, std)).catch((err: Error) => ({
          code: 1,
          out: `${err.message} (install a C++ compiler, e.g. apt-get install g++)`,
        }));
        if (r.code === 0) break;
        log(
          `compiling with -std=${std} failed: ${r.out.trim().split('\n').slice(-2).join(' ').slice(0, 300)}`,
        );
      }
      if (r.code !== 0) {
        await rm(tmp, { force: true });
        throw new Error(`compiling the libtorch addon failed: ${r.out.trim().slice(-1500)}`);
      }
      await rename(tmp, ADDON);
      await writeFile(
        infoFile,
        JSON.stringify(
          { stamp, source: lt.source, libtorch: lt.libDir, torch: lt.version, cuda: lt.cuda },
          null,
          2,
        ),
      );
    }
    const probe = await probeTorchAddon(ADDON);
    if (!probe.ok) throw new Error(`the built addon does not load: ${probe.detail}`);
    return `libtorch ${lt.version} from ${lt.source}: ${probe.detail}`;
  } catch (err) {
    if (mode === 'required') throw err;
    log(`libtorch engine not built, training uses tfjs: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

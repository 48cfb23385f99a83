/**
 * Makes `require('@tensorflow/tfjs-node')` work where its install script cannot download libtensorflow and
 * its prebuilt addon (both from storage.googleapis.com): the package's JS comes from npm (scripts off), the
 * library from the pinned PyPI wheel (infra/libtensorflow.ts), and the addon is compiled here from the C++
 * the package ships, against Node-API headers from npm. Everything built lives in the cache folder, keyed by
 * versions, so `npm ci` followed by setup only relinks it.
 */
import { copyFile, lstat, mkdir, readFile, rename, rm, symlink, unlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheRoot } from './binaries';
import { extractLibtensorflow, obtainWheel, TENSORFLOW_CPU_WHEEL } from './libtensorflow';
import type { Log } from './libtensorflow';
import { runTool } from './run-tool';

export type TfjsNodeMode = 'auto' | 'required' | 'off';

const ROOT = path.resolve(__dirname, '..');
const PACKAGE = '@tensorflow/tfjs-node';
/** Node-API version the addon is built for: the highest tfjs-node 4.22 lists, so node-pre-gyp looks there. */
const NAPI_VERSION = 8;

/** Loads tfjs-node in a child process and multiplies two matrices: the only proof that it works. */
export async function probeTfjsNode(): Promise<{ ok: boolean; detail: string }> {
  const script =
    "const tf=require('@tensorflow/tfjs-node');" +
    'const y=tf.matMul(tf.tensor2d([1,2,3,4],[2,2]),tf.tensor2d([5,6,7,8],[2,2])).dataSync();' +
    "if(y.join()!=='19,22,43,50')throw new Error('wrong product '+y.join());" +
    'console.log(tf.backend().binding.TF_Version)';
  const r = await runTool(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  const lines = r.out.trim().split('\n');
  return {
    ok: r.code === 0,
    detail: r.code === 0 ? lines.at(-1)! : (lines.find((l) => /Error/.test(l)) ?? lines[0]!),
  };
}

function packageDir(): string | undefined {
  try {
    return path.dirname(require.resolve(`${PACKAGE}/package.json`, { paths: [ROOT] }));
  } catch {
    return undefined;
  }
}

/** Whether tfjs-node's addon is in place (cheap: no loading); `npm run setup` puts it there. */
export function tfjsNodeInstalled(): boolean {
  const dir = packageDir();
  return dir !== undefined && existsSync(path.join(dir, 'lib', `napi-v${NAPI_VERSION}`, 'tfjs_binding.node'));
}

/** The version package.json pins for tfjs-node (an optional dependency). */
async function pinnedVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
    optionalDependencies?: Record<string, string>;
  };
  const v = pkg.optionalDependencies?.[PACKAGE];
  if (!v) throw new Error(`package.json does not list ${PACKAGE}`);
  return v;
}

/**
 * npm drops an optional package whose install script failed; put its JS back with scripts off. --no-save
 * leaves package.json and the lockfile alone (the lockfile already pins it and its dependencies).
 */
async function installPackageFiles(version: string, log: Log): Promise<string> {
  log(`installing ${PACKAGE}@${version} from npm without its install script...`);
  const npm = process.env.npm_execpath;
  const [cmd, args] = npm && npm.endsWith('.js') ? [process.execPath, [npm]] : ['npm', []];
  const r = await runTool(
    cmd,
    [...args, 'install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `${PACKAGE}@${version}`],
    { cwd: ROOT },
  );
  if (r.code !== 0)
    throw new Error(`npm install ${PACKAGE} failed: ${r.out.trim().split('\n').slice(-3).join(' ')}`);
  const dir = packageDir();
  if (!dir) throw new Error(`npm install ${PACKAGE} left no package`);
  return dir;
}

/** Compiles the addon from the package's binding/*.cc into `<built>/tfjs_binding.node`. */
async function compileAddon(pkgDir: string, built: string, log: Log): Promise<void> {
  const cxx = process.env.CXX ?? 'c++';
  const headers = path.join(path.dirname(require.resolve('node-api-headers/package.json')), 'include');
  log(`compiling the tfjs-node addon with ${cxx} (a few seconds)...`);
  const r = await runTool(cxx, [
    '-O2',
    '-shared',
    '-fPIC',
    '-std=c++17',
    `-DNAPI_VERSION=${NAPI_VERSION}`,
    '-I',
    headers,
    '-I',
    path.join(built, 'include'),
    path.join(pkgDir, 'binding', 'tfjs_backend.cc'),
    path.join(pkgDir, 'binding', 'tfjs_binding.cc'),
    '-L',
    path.join(built, 'lib'),
    '-l:libtensorflow_cc.so.2',
    '-l:libtensorflow_framework.so.2',
    // Where tfjs-node's own build looks for the libraries, relative to lib/napi-v8/tfjs_binding.node.
    '-Wl,-rpath,$ORIGIN/../../deps/lib',
    '-o',
    path.join(built, 'tfjs_binding.node'),
  ]).catch((err: Error) => ({
    code: 1,
    out: `${err.message} (install a C++ compiler, e.g. apt-get install g++)`,
  }));
  if (r.code !== 0) throw new Error(`compiling the tfjs-node addon failed: ${r.out.trim().slice(-1500)}`);
}

/** Downloads, extracts and compiles into a versioned cache folder (atomically: a half-built one never counts). */
async function buildInCache(pkgDir: string, version: string, log: Log): Promise<string> {
  const base = path.join(cacheRoot(), 'tfjs-node');
  const built = path.join(
    base,
    `tfjs-node-${version}-tf-${TENSORFLOW_CPU_WHEEL.version}-napi${NAPI_VERSION}`,
  );
  if (existsSync(path.join(built, 'tfjs_binding.node'))) return built;
  const tmp = `${built}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    const wheel = await obtainWheel(TENSORFLOW_CPU_WHEEL, base, log);
    const t0 = Date.now();
    const files = await extractLibtensorflow(wheel, tmp);
    log(`extracted ${files} files from ${path.basename(wheel)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    await compileAddon(pkgDir, tmp, log);
    await rm(built, { recursive: true, force: true });
    await rename(tmp, built);
    return built;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Puts the addon where tfjs-node looks (lib/napi-v8/) and links deps/lib to the cached libraries. */
async function linkIntoPackage(pkgDir: string, built: string): Promise<void> {
  const addonDir = path.join(pkgDir, 'lib', `napi-v${NAPI_VERSION}`);
  await mkdir(addonDir, { recursive: true });
  const addon = path.join(addonDir, 'tfjs_binding.node');
  await copyFile(path.join(built, 'tfjs_binding.node'), `${addon}.tmp`);
  await rename(`${addon}.tmp`, addon);
  const deps = path.join(pkgDir, 'deps');
  await mkdir(deps, { recursive: true });
  const link = path.join(deps, 'lib');
  if (
    await lstat(link).then(
      () => true,
      () => false,
    )
  ) {
    await unlink(link).catch(() => rm(link, { recursive: true, force: true }));
  }
  await symlink(path.join(built, 'lib'), link, 'dir');
}

/**
 * Ensures tfjs-node loads, building it from PyPI's libtensorflow where needed. 'auto' reports a failure and
 * carries on (training then uses wasm); 'required' throws; 'off' does nothing.
 */
export async function ensureTfjsNode(mode: TfjsNodeMode, log: Log): Promise<string | undefined> {
  if (mode === 'off') return undefined;
  try {
    const already = await probeTfjsNode();
    if (already.ok) return `${PACKAGE} with libtensorflow ${already.detail}`;
    if (process.platform !== 'linux' || os.arch() !== 'x64')
      throw new Error(
        `libtensorflow from PyPI is set up for linux/x64 only (this is ${process.platform}/${os.arch()}); ` +
          `where storage.googleapis.com is reachable, npm's own install of ${PACKAGE} works`,
      );
    const version = await pinnedVersion();
    const pkgDir = packageDir() ?? (await installPackageFiles(version, log));
    const built = await buildInCache(pkgDir, version, log);
    await linkIntoPackage(pkgDir, built);
    const probe = await probeTfjsNode();
    if (!probe.ok) throw new Error(`${PACKAGE} still does not load: ${probe.detail}`);
    return `${PACKAGE} with libtensorflow ${probe.detail} (${TENSORFLOW_CPU_WHEEL.project} ${TENSORFLOW_CPU_WHEEL.version} from PyPI)`;
  } catch (err) {
    if (mode === 'required') throw err;
    log(`${PACKAGE} not set up, training will use wasm: ${(err as Error).message}`);
    return undefined;
  }
}

import { createWriteStream } from 'node:fs';
import { access, chmod, mkdir, rename, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { BinaryNotFoundError } from '../common/errors';
import { runTool } from './run-tool';

/** The two native services the project runs, pinned. */
export interface BinarySpec {
  name: 'temporal' | 'versitygw';
  envVar: string;
  goPackage: string;
  version: string;
  /** Typical `go install` time on 2 cores with an empty Go cache, said while it builds. */
  buildMinutes: number;
  /** Official release archive for this platform, or undefined where none is published. */
  downloadUrl: (platform: NodeJS.Platform, arch: string) => string | undefined;
}

const goArch = (arch: string) => (arch === 'x64' ? 'amd64' : arch);

export const TEMPORAL: BinarySpec = {
  name: 'temporal',
  envVar: 'BGSTUDY_TEMPORAL_BIN',
  goPackage: 'github.com/temporalio/cli/cmd/temporal',
  // Newer tags carry a replace directive, which `go install pkg@version` refuses.
  version: 'v1.5.1',
  buildMinutes: 4,
  // The same endpoint @temporalio/testing downloads from.
  downloadUrl: (platform, arch) =>
    `https://temporal.download/cli/archive/v1.5.1?platform=${platform === 'win32' ? 'windows' : platform}&arch=${goArch(arch)}`,
};

export const VERSITYGW: BinarySpec = {
  name: 'versitygw',
  envVar: 'BGSTUDY_VERSITYGW_BIN',
  goPackage: 'github.com/versity/versitygw/cmd/versitygw',
  version: 'v1.7.0',
  buildMinutes: 2,
  downloadUrl: (platform, arch) => {
    const os = platform === 'darwin' ? 'Darwin' : platform === 'linux' ? 'Linux' : undefined;
    const cpu = arch === 'x64' ? 'x86_64' : arch === 'arm64' ? 'arm64' : undefined;
    return os && cpu
      ? `https://github.com/versity/versitygw/releases/download/v1.7.0/versitygw_v1.7.0_${os}_${cpu}.tar.gz`
      : undefined;
  },
};

/** The project's cache folder (BGSTUDY_CACHE_DIR, else .cache): ignored by git, shared by README, tests and CI. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.BGSTUDY_CACHE_DIR ?? path.join(__dirname, '..', '.cache'));
}

/** Where built or downloaded service binaries are cached. */
export function binCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), 'bin');
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Seconds as "2m05s". */
const elapsed = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

/**
 * `go install -v`, saying every 15 s how far it is (modules downloaded, packages compiled): a first build
 * takes minutes and would otherwise look hung.
 */
async function goInstall(spec: BinarySpec, dir: string, env: NodeJS.ProcessEnv, log: (l: string) => void) {
  const go = await onPath('go', env);
  if (!go) return undefined;
  log(
    `building ${spec.name} ${spec.version} with go install (once; typically ${spec.buildMinutes} min on 2 cores, ` +
      `cached in ${dir})...`,
  );
  await mkdir(dir, { recursive: true });
  const t0 = Date.now();
  let downloaded = 0;
  let compiled = 0;
  let last = '';
  const tick = setInterval(
    () =>
      log(
        `  ${spec.name}: ${elapsed(Date.now() - t0)}, ${downloaded} modules downloaded, ${compiled} packages ` +
          `compiled${last ? ` (${last})` : ''}`,
      ),
    15_000,
  );
  try {
    const r = await runTool(go, ['install', '-v', `${spec.goPackage}@${spec.version}`], {
      env: { ...env, GOBIN: dir, CGO_ENABLED: '0' },
      onLine: (l) => {
        if (l.startsWith('go: downloading')) downloaded++;
        else if (!l.startsWith('go:')) {
          compiled++;
          last = l.trim();
        }
      },
    });
    if (r.code !== 0) {
      log(r.out.slice(-4000));
      throw new Error(`go install ${spec.goPackage}@${spec.version} exited with ${r.code}`);
    }
  } finally {
    clearInterval(tick);
  }
  log(`built ${spec.name} in ${elapsed(Date.now() - t0)}`);
  const built = path.join(dir, spec.name);
  return (await isExecutable(built)) ? built : undefined;
}

/** Downloads a release archive and extracts the one executable named like the binary. */
async function download(spec: BinarySpec, dir: string, log: (l: string) => void) {
  const url = spec.downloadUrl(process.platform, process.arch);
  if (!url) return undefined;
  log(`downloading ${spec.name} ${spec.version} from ${url} ...`);
  const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  if (!res.ok || !res.body) throw new Error(`download of ${url} failed: HTTP ${res.status}`);
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, spec.name);
  const tmp = `${target}.download-${process.pid}`;
  let found = false;
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    if (!found && header.type === 'file' && path.basename(header.name) === spec.name) {
      found = true;
      pipeline(stream, createWriteStream(tmp)).then(() => next(), next);
    } else {
      stream.on('end', () => next());
      stream.resume();
    }
  });
  await pipeline(Readable.fromWeb(res.body), createGunzip(), extract);
  if (!found) throw new Error(`${url} has no file named ${spec.name}`);
  await chmod(tmp, 0o755);
  await rename(tmp, target);
  return target;
}

/**
 * Finds (or obtains) a service binary, in this order: the path in the spec's env variable, one on PATH,
 * one cached in .cache/bin, `go install` where Go is present, then the official download where the
 * network allows. Throws BinaryNotFoundError saying what was tried.
 */
export async function ensureBinary(
  spec: BinarySpec,
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void; allowInstall?: boolean } = {},
): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((l: string) => console.error(`[infra] ${l}`));
  const explicit = env[spec.envVar];
  if (explicit) {
    if (await isExecutable(explicit)) return explicit;
    throw new BinaryNotFoundError(`${spec.envVar}=${explicit} is not an executable file`);
  }
  const fromPath = await onPath(spec.name, env);
  if (fromPath) return fromPath;
  const dir = binCacheDir(env);
  const cached = path.join(dir, spec.name);
  if (await isExecutable(cached)) return cached;
  if (options.allowInstall === false) {
    throw new BinaryNotFoundError(
      `${spec.name} not found (set ${spec.envVar}, put it on PATH, or run npm run setup)`,
    );
  }
  const tried: string[] = [];
  try {
    const built = await goInstall(spec, dir, env, log);
    if (built) return built;
    tried.push('go install: Go is not installed');
  } catch (err) {
    tried.push(`go install: ${(err as Error).message}`);
  }
  try {
    const got = await download(spec, dir, log);
    if (got) return got;
    tried.push(`download: no release for ${process.platform}/${process.arch}`);
  } catch (err) {
    tried.push(`download: ${(err as Error).message}`);
    await rm(`${cached}.download-${process.pid}`, { force: true });
  }
  throw new BinaryNotFoundError(
    `could not find or obtain ${spec.name} ${spec.version}. Tried ${spec.envVar}, PATH, ${dir}; ` +
      `${tried.join('; ')}. Install Go (then: go install ${spec.goPackage}@${spec.version}) or set ${spec.envVar}.`,
  );
}

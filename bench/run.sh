#!/usr/bin/env bash
# etcd-pki against cfssl, workload by workload, in the same run and interleaved (docs/performance.md).
#   bench/run.sh                 full run: installs cfssl, builds Release in build-bench/, ~5 minutes
#   bench/run.sh --runs N        N timed runs per workload and tool (default 7)
#   bench/run.sh --update-docs   also replace the results section of docs/performance.md
#   bench/run.sh --smoke         tiny sizes, 1 run, with an existing build (BUILD_DIR, default build/):
#                                what CI runs, to check the harness works; asserts no time
# Prints, per workload: median wall time, CPU time and peak RSS of each tool, the ratio
# etcd-pki / cfssl, and etcd-pki's wall time as a multiple of the crypto floor / cores.
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=0
for a in "$@"; do [ "$a" = --smoke ] && smoke=1; done
if [ $smoke = 1 ]; then
  B=${BUILD_DIR:-build}
  [ -x "$B/cli/etcd-pki" ] && [ -x "$B/bench/crypto_floor" ] || { echo "bench: build first (scripts/build.sh)" >&2; exit 1; }
else
  scripts/setup.sh --bench
  B=build-bench
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DETCD_PKI_BUILD_TESTS=OFF -DETCD_PKI_BUILD_BENCH=ON >/dev/null
  cmake --build "$B" --target etcd-pki crypto_floor >/dev/null
fi
exec python3 bench/measure.py --etcd-pki "$B/cli/etcd-pki" --crypto-floor "$B/bench/crypto_floor" \
  --fixtures tests/data/fixtures/seed-etcd-single "$@"

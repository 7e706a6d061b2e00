#!/usr/bin/env bash
# Configures and builds etcd-pki in build/ (BUILD_TYPE=Release|RelWithDebInfo|Debug): everything,
# or only the targets given (scripts/build.sh etcd-pki: the CLI and the library, for the demo).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build build ${1:+--target "$@"}

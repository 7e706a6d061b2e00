#!/usr/bin/env bash
# The full test suite on a fresh Debian 12 machine: installs the build and test dependencies
# (cfssl, etcd), builds, and runs every test (unit, end to end, cfssl comparison, real etcd
# cluster, find_package consumer) through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)"

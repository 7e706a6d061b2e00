#!/usr/bin/env bash
# The full test suite on a fresh Debian 12 machine, in phases that stop at the first failure:
#   1. setup       installs the build and test dependencies (cfssl, etcd, clang-14/libFuzzer,
#                  lintian and the other package tools)
#   2. build       build/ (scripts/build.sh)
#   3. ctest       every test (unit, end to end, cfssl comparison, real etcd cluster,
#                  find_package consumer, man page, bash completion) through CTest
#   4. packages    the .debs (scripts/package.sh, build-pkg/), then installed with dpkg -i and tested
#                  as a user has them (packaging/test_installed.sh: lintian, CLI, man, completion,
#                  consumer with CMake and pkg-config, exported symbols) and removed again. Not a
#                  CTest: it installs into /usr as root, which a developer's ctest run must not do.
#   5. sanitizers  the whole suite again under ASan+UBSan+LSan, the [threads] unit tests under
#                  TSan (scripts/sanitize.sh)
#   6. fuzzing     every libFuzzer target for 60 s (scripts/fuzz.sh 60) with a fixed seed, so
#                  that the gate is reproducible; longer random-seed runs: docs/security.md
# One phase at a time: the e2e suites of phases 3 and 4 start etcd clusters on fixed ports.
set -euo pipefail
cd "$(dirname "$0")/.."
PHASE=""
phase() {
  PHASE=$1
  PHASE_START=$(date +%s)
  printf '\n==== test.sh: phase %s\n' "$PHASE"
}
done_phase() { echo "==== test.sh: phase $PHASE passed ($(($(date +%s) - PHASE_START))s)"; }
trap 'rc=$?; if [ $rc -ne 0 ]; then echo; echo "==== test.sh: FAILED in phase $PHASE (exit $rc)"; fi' EXIT

phase "1/6 setup"
scripts/setup.sh --test
done_phase
phase "2/6 build"
scripts/build.sh
done_phase
phase "3/6 ctest"
(cd build && ctest --output-on-failure -j "$(nproc)")
done_phase
phase "4/6 packages (scripts/package.sh, packaging/test_installed.sh)"
scripts/package.sh
packaging/test_installed.sh build-pkg
done_phase
phase "5/6 sanitizers (scripts/sanitize.sh)"
scripts/sanitize.sh
done_phase
phase "6/6 fuzzing (scripts/fuzz.sh 60)"
FUZZ_SEED=${FUZZ_SEED:-20261201} scripts/fuzz.sh 60
done_phase
echo
echo "==== test.sh: all phases passed"

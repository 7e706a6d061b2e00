#!/usr/bin/env bash
# The full test suite on a fresh Debian 12 machine, in phases that stop at the first failure:
#   1. setup       installs the build and test dependencies (cfssl, etcd, clang-14/libFuzzer)
#   2. build       build/ (scripts/build.sh)
#   3. ctest       every test (unit, end to end, cfssl comparison, real etcd cluster,
#                  find_package consumer) through CTest
#   4. sanitizers  the whole suite again under ASan+UBSan+LSan, the [threads] unit tests under
#                  TSan (scripts/sanitize.sh)
#   5. fuzzing     every libFuzzer target for 60 s (scripts/fuzz.sh 60) with a fixed seed, so
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

phase "1/5 setup"
scripts/setup.sh --test
done_phase
phase "2/5 build"
scripts/build.sh
done_phase
phase "3/5 ctest"
(cd build && ctest --output-on-failure -j "$(nproc)")
done_phase
phase "4/5 sanitizers (scripts/sanitize.sh)"
scripts/sanitize.sh
done_phase
phase "5/5 fuzzing (scripts/fuzz.sh 60)"
FUZZ_SEED=${FUZZ_SEED:-20261201} scripts/fuzz.sh 60
done_phase
echo
echo "==== test.sh: all phases passed"

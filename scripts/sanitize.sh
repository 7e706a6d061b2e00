#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer
# (build-asan/), then the [threads] unit tests under ThreadSanitizer (build-tsan/).
#   scripts/sanitize.sh            both phases
#   scripts/sanitize.sh asan|tsan  one phase
# BUILD_TYPE (default RelWithDebInfo: the optimisation the project ships with, and fast enough
# for the e2e tests' real etcd clusters; -g and frame pointers keep the reports readable).
#
# A sanitizer report must fail the run even where a test swallows the CLI's exit code or stderr
# (the e2e scripts run it hundreds of times, often with 2>/dev/null): every report is written to
# a log file (log_path) instead of stderr, and the phase fails if any log file exists afterwards,
# whatever ctest said. Runs one ctest at a time: two e2e suites must never run at once (the etcd
# tests use fixed ports).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
JOBS=${JOBS:-$(nproc)}
phases=("$@")
[ ${#phases[@]} -eq 0 ] && phases=(asan tsan)

say() { printf '\n== sanitize: %s\n' "$*"; }
secs() { echo $(($(date +%s) - $1)); }

# Fails (listing them) when the log folder holds any sanitizer report.
check_logs() {
  local dir=$1 what=$2 logs
  logs=$(find "$dir" -type f -size +0c | sort)
  if [ -n "$logs" ]; then
    echo "sanitize: FAILED: $what: $(echo "$logs" | wc -l) sanitizer report(s):"
    for f in $logs; do
      echo "---- $f"
      head -n 60 "$f"
    done
    return 1
  fi
}

configure_and_build() {  # DIR SANITIZER [TARGET...]
  local dir=$1 san=$2 t0
  shift 2
  t0=$(date +%s)
  # Explicit checks: these functions run under `||`, where bash ignores set -e.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DETCD_PKI_SANITIZE="$san" >/dev/null || {
    echo "sanitize: FAILED: cmake configure of $dir"
    return 1
  }
  if [ $# -gt 0 ]; then cmake --build "$dir" -j "$JOBS" --target "$@"; else cmake --build "$dir" -j "$JOBS"; fi || {
    echo "sanitize: FAILED: build of $dir"
    return 1
  }
  echo "sanitize: built $dir in $(secs "$t0")s"
}

run_asan() {
  say "ASan+UBSan+LSan build (build-asan/, $BUILD_TYPE)"
  configure_and_build build-asan address || return 1
  local logs=$ROOT/build-asan/sanitizer-logs t0 rc=0
  rm -rf "$logs"
  mkdir -p "$logs"
  # detect_stack_use_after_return and the init-order checks are off by default; strict string
  # checks make strlen-style interceptors check the whole string.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:strict_string_checks=1:symbolize=1:log_path=$logs/asan"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:symbolize=1:log_path=$logs/ubsan"
  export LSAN_OPTIONS="report_objects=1"
  say "whole ctest suite under ASan+UBSan+LSan (reports: build-asan/sanitizer-logs/)"
  t0=$(date +%s)
  # Not e2e_test_faults: it makes every openat/write/... of the process fail in turn, the
  # sanitizer runtime's own (/proc/self/maps, its log files) included, which is a test of ASan,
  # not of etcd-pki. The paths it drives (roll back, recover) run under ASan in test_transaction.
  (cd build-asan && ctest --output-on-failure -j "$JOBS" -E '^e2e_test_faults$') || rc=$?
  echo "sanitize: ctest under ASan took $(secs "$t0")s (exit $rc)"
  check_logs "$logs" "ASan/UBSan/LSan" || return 1
  if [ "$rc" -ne 0 ]; then
    echo "sanitize: FAILED: ctest under ASan exited $rc (no sanitizer report; see the failures above)"
    return 1
  fi
  unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
}

run_tsan() {
  say "TSan build of the unit tests (build-tsan/, $BUILD_TYPE)"
  configure_and_build build-tsan thread unit_tests || return 1
  local logs=$ROOT/build-tsan/sanitizer-logs t0 rc=0
  rm -rf "$logs"
  mkdir -p "$logs"
  # OpenSSL is not instrumented: tests/tsan.supp is where a libcrypto-internal false positive
  # would be listed (each entry saying why; none is needed today); nothing in etcd-pki's own code
  # is suppressed.
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$ROOT/tests/tsan.supp:log_path=$logs/tsan"
  say "[threads] unit tests under TSan (reports: build-tsan/sanitizer-logs/)"
  t0=$(date +%s)
  build-tsan/tests/unit/unit_tests "[threads]" || rc=$?
  echo "sanitize: [threads] under TSan took $(secs "$t0")s (exit $rc)"
  check_logs "$logs" "TSan" || return 1
  if [ "$rc" -ne 0 ]; then
    echo "sanitize: FAILED: [threads] unit tests under TSan exited $rc"
    return 1
  fi
  unset TSAN_OPTIONS
}

for phase in "${phases[@]}"; do
  case "$phase" in
    asan) run_asan || exit 1 ;;
    tsan) run_tsan || exit 1 ;;
    *) echo "usage: scripts/sanitize.sh [asan] [tsan]" >&2; exit 2 ;;
  esac
done
say "OK (${phases[*]})"

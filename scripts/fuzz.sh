#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (build-fuzz/, clang-14, ASan+UBSan) and runs each for a
# while, then prints per target the executions, exec/s and coverage (cov: / ft: from libFuzzer's
# final stats). Fails when a target finds a crash, a sanitizer report, a leak, a timeout or an
# out-of-memory (the input is left in build-fuzz/artifacts/TARGET/, path printed).
#
#   scripts/fuzz.sh [SECONDS] [--update-corpus] [TARGET...]
#     SECONDS          per target (default: $FUZZ_SECONDS, else 60)
#     --update-corpus  merge what the run found into the committed fuzz/corpus/TARGET/ (libFuzzer
#                      -merge=1: only inputs that add coverage); without it the committed corpus
#                      is never modified (each run works on a scratch copy)
#     TARGET...        only these targets (default: all, as listed in fuzz/CMakeLists.txt)
#   env: FUZZ_SECONDS, FUZZ_JOBS (targets run at once, default 1; each uses one core),
#        FUZZ_TIMEOUT (seconds one input may take, default 20), FUZZ_CXX (default clang++-14),
#        FUZZ_SEED (libFuzzer's -seed; default random. scripts/test.sh, the CI gate, fixes it so
#        that a run is reproducible: same code, same inputs tried)
#
# Seeds: fuzz/corpus/TARGET/ (hand-written, committed), the JSON, PEM and DER files of
# tests/data (CSR JSON -> fuzz_request, ca-config -> fuzz_policy, cluster specs ->
# fuzz_cluster_json, certificates/keys/CSRs/CRLs -> fuzz_pem and fuzz_inspect) and the inputs of
# tests/data/fuzz-regressions/TARGET/. Dictionaries: fuzz/dict/TARGET.dict.
# Reproduce a finding: build-fuzz/fuzz/TARGET FILE; minimise: add -minimize_crash=1 -runs=100000.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
UPDATE=0
TARGETS=()
for a in "$@"; do
  case "$a" in
    --update-corpus) UPDATE=1 ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    [0-9]*) SECONDS_PER_TARGET=$a ;;
    fuzz_*) TARGETS+=("$a") ;;
    *) echo "fuzz: unknown argument \"$a\" (see scripts/fuzz.sh --help)" >&2; exit 2 ;;
  esac
done
ALL=$(sed -n 's/^  \(fuzz_[a-z_]*\).*/\1/p' fuzz/CMakeLists.txt)
[ ${#TARGETS[@]} -eq 0 ] && read -r -a TARGETS <<<"$(echo $ALL)"
for t in "${TARGETS[@]}"; do
  grep -qx "$t" <<<"$ALL" || { echo "fuzz: no target $t (targets: $(echo $ALL))" >&2; exit 2; }
done
JOBS=${FUZZ_JOBS:-1}
TIMEOUT=${FUZZ_TIMEOUT:-20}
SEED_ARGS=()
if [ -n "${FUZZ_SEED:-}" ]; then SEED_ARGS=(-seed="$FUZZ_SEED"); fi
CXX=${FUZZ_CXX:-clang++-14}

max_len() {
  case "$1" in
    fuzz_hosts) echo 512 ;;
    fuzz_initial_cluster) echo 1024 ;;
    fuzz_pem | fuzz_inspect) echo 6144 ;;
    *) echo 4096 ;;
  esac
}

# ---- build --------------------------------------------------------------------------------------
command -v "$CXX" >/dev/null || { echo "fuzz: $CXX not found (scripts/setup.sh --test installs clang-14)" >&2; exit 1; }
t0=$(date +%s)
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DETCD_PKI_FUZZ=ON -DETCD_PKI_BUILD_TESTS=OFF -DETCD_PKI_INSTALL=OFF >/dev/null
cmake --build build-fuzz --target "${TARGETS[@]}"
echo "fuzz: built ${#TARGETS[@]} targets in $(($(date +%s) - t0))s"

# ---- seeds --------------------------------------------------------------------------------------
# seed_corpus TARGET DIR: the committed corpus, the matching tests/data files and the regressions.
seed_corpus() {
  local t=$1 dir=$2 f
  rm -rf "$dir"
  mkdir -p "$dir"
  # (if-statements, not `[ ] && cp`: a false test as a function's last status would stop the
  # script under set -e)
  if [ -d "fuzz/corpus/$t" ]; then cp -r "fuzz/corpus/$t/." "$dir/"; fi
  if [ "$t" = fuzz_inspect ]; then cp -r fuzz/corpus/fuzz_pem/. "$dir/"; fi
  if [ -d "tests/data/fuzz-regressions/$t" ]; then cp -r "tests/data/fuzz-regressions/$t/." "$dir/"; fi
  while IFS= read -r -d '' f; do
    local kind=request
    case "$f" in
      *.json)
        if grep -q '"signing"' "$f"; then kind=policy; elif grep -qi '"members"' "$f"; then kind=cluster_json; fi
        if [ "fuzz_$kind" = "$t" ]; then cp "$f" "$dir/data-$(echo "${f#tests/data/}" | tr / _)"; fi ;;
      *)
        case "$t" in fuzz_pem | fuzz_inspect) cp "$f" "$dir/data-$(echo "${f#tests/data/}" | tr / _)" ;; esac ;;
    esac
  done < <(find tests/data -path tests/data/fuzz-regressions -prune -o -type f \
             \( -name '*.json' -o -name '*.pem' -o -name '*.crt' -o -name '*.csr' -o -name '*.key' -o -name '*.crl' -o -name '*.der' \) -print0)
}

# ---- run ----------------------------------------------------------------------------------------
RUN=$ROOT/build-fuzz/run
mkdir -p "$RUN"

# run_target TARGET: runs it; writes RUN/TARGET.log and RUN/TARGET.result ("ok|FAIL ... stats").
run_target() {
  local t=$1 bin=$ROOT/build-fuzz/fuzz/$1 corpus=$RUN/$1/corpus art=$ROOT/build-fuzz/artifacts/$1 log=$RUN/$1.log
  local dict=() rc=0 status=ok
  [ -f "fuzz/dict/$t.dict" ] && dict=(-dict="$ROOT/fuzz/dict/$t.dict")
  seed_corpus "$t" "$corpus"
  local seeds
  seeds=$(find "$corpus" -type f | wc -l)
  rm -rf "$art"
  mkdir -p "$art"
  "$bin" -max_total_time="$SECONDS_PER_TARGET" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -timeout="$TIMEOUT" \
    -print_final_stats=1 -artifact_prefix="$art/" "${SEED_ARGS[@]}" "${dict[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  local found
  found=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  if [ "$rc" -ne 0 ] || [ -n "$found" ]; then status=FAIL; fi
  local execs eps cov ft corp
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  printf '%s %s execs=%s exec/s=%s cov=%s ft=%s corpus=%s (from %s seeds) exit=%s\n' "$status" "$t" "${execs:-?}" \
    "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$seeds" "$rc" >"$RUN/$t.result"
  for f in $found; do echo "  finding: $f  (reproduce: build-fuzz/fuzz/$t $f)" >>"$RUN/$t.result"; done
  if [ "$status" = FAIL ]; then
    if [ -z "$found" ]; then echo "  libFuzzer exited $rc without an artifact; see $log" >>"$RUN/$t.result"; fi
    grep -m1 -E 'ERROR: |invariant violated|runtime error|==[0-9]+==' "$log" | sed 's/^/  /' >>"$RUN/$t.result" || true
  fi
  if [ "$UPDATE" = 1 ] && [ "$status" = ok ]; then
    mkdir -p "fuzz/corpus/$t"
    "$bin" -merge=1 -max_len="$(max_len "$t")" "fuzz/corpus/$t" "$corpus" >>"$log" 2>&1
    echo "  merged into fuzz/corpus/$t: now $(find "fuzz/corpus/$t" -type f | wc -l) files" >>"$RUN/$t.result"
  fi
  cat "$RUN/$t.result"
}

echo "fuzz: ${#TARGETS[@]} targets, ${SECONDS_PER_TARGET}s each, $JOBS at a time, seed ${FUZZ_SEED:-random} (logs: build-fuzz/run/)"
t0=$(date +%s)
running=0
for t in "${TARGETS[@]}"; do
  rm -f "$RUN/$t.result"
  if [ "$JOBS" -le 1 ]; then
    run_target "$t"
  else
    run_target "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then wait -n || true; running=$((running - 1)); fi
  fi
done
wait

echo
echo "fuzz: summary (${SECONDS_PER_TARGET}s per target, $(($(date +%s) - t0))s in all)"
failed=0
for t in "${TARGETS[@]}"; do
  if [ -f "$RUN/$t.result" ]; then cat "$RUN/$t.result"; else echo "FAIL $t (no result; see $RUN/$t.log)"; fi
  grep -q "^ok $t " "$RUN/$t.result" 2>/dev/null || failed=$((failed + 1))
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: FAILED: $failed target(s) found something (inputs under build-fuzz/artifacts/)"
  exit 1
fi
echo "fuzz: OK"

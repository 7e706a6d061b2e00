#!/usr/bin/env bash
# All-or-nothing under I/O faults and SIGKILL (issue 16). Every command that changes several files
# is run under strace, which makes one system call fail (EIO; ENOSPC for write) or kills the
# process at that call, for every call of every class the command makes (openat, write, fsync,
# fdatasync, syncfs, rename, renameat2, mkdir, unlink, symlink). Afterwards the folder must be
# the state before or a complete new state, as the command's exit code and error line say:
#   exit 0                                    -> complete new state
#   error line says "nothing changed"         -> byte-identical to before
#   error line says "etcd-pki repair"         -> `etcd-pki repair pki` exits 0, then complete
#   any other failure (fault while reading)   -> byte-identical to before
#   SIGKILL, then `etcd-pki repair pki`       -> byte-identical to before or complete
# and never a journal (.etcd-pki-journal) or temp file (.NAME.tmp-...) left behind.
# tests/e2e/fault_state.py compares the folders and checks the complete states.
#
# Environment: FAULT_STRIDE=K takes every K-th call (always the first and the last; default 1:
# every call); FAULT_SCENARIOS="a b c d e" picks scenarios (default all); FAULT_KEEP=N keeps the
# folders of the first N bad states of each scenario and pass under $WORK/bad (default 2).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
E="$ETCD_PKI"
export ETCD_PKI
# the interpreter itself, not a version manager's shim (pyenv's costs 0.1 s a call)
PY=$(python3 -c 'import sys; print(sys.executable)')
FS=("$PY" "$HERE/fault_state.py")
STRIDE=${FAULT_STRIDE:-1}
SCENARIOS=${FAULT_SCENARIOS:-a b c d e}
KEEP=${FAULT_KEEP:-2}
CLASSES=(openat write fsync fdatasync syncfs rename renameat2 mkdir unlink symlink)
TRACE_SET=$(IFS=,; echo "${CLASSES[*]}")
IC="a=https://127.0.0.1:2380,b=https://127.0.0.2:2380,c=https://127.0.0.3:2380"
command -v strace >/dev/null || { fail "strace is not installed (scripts/setup.sh --test)"; exit 1; }
T0=$SECONDS

# ---- the before-folders, made by clean runs -----------------------------------------------------------
# $WORK/before.S holds what the folder of scenario S looks like before its command (pki/ or nothing).
mkdir -p base && cd base || exit 1
run "$E" cluster --initial-cluster "$IC" --client root --out pki
expect_rc "setup: a clean 3-member cluster with a client" 0
cp -a pki pki3
run "$E" revoke pki/clients/root.pem -d pki --reason keyCompromise
expect_rc "setup: root revoked (the CRL for the crl scenario)" 0
mv pki pki3r
cd "$WORK" || exit 1
mkdir -p before.a before.b before.c before.d before.e
cp -a base/pki3 before.b/pki && cp -a base/pki3 before.c/pki && cp -a base/pki3 before.d/pki
cp -a base/pki3r before.e/pki

# scenario_cmd S: the command of scenario S in CMD (run inside the scenario's folder).
scenario_cmd() {
  case $1 in
    a) CMD=("$E" cluster --initial-cluster "$IC" --client root --out pki) ;;
    b) CMD=("$E" cluster --initial-cluster "$IC,d=https://127.0.0.4:2380" --client root --out pki) ;;
    c) CMD=("$E" renew pki --expiry 2000h) ;;
    d) CMD=("$E" revoke pki/clients/root.pem -d pki --reason keyCompromise) ;;
    e) CMD=("$E" crl -d pki --next-update 48h) ;;
  esac
}
scenario_name() {
  case $1 in a) echo "cluster, new" ;; b) echo "cluster, add d" ;; c) echo renew ;; d) echo revoke ;; e) echo crl ;; esac
}

# fs CHECK ARGS...: fault_state.py's problems on stdout (also when it fails without saying why).
fs() { local o; o=$("${FS[@]}" "$@" 2>&1) || o=${o:-fault_state.py $1 failed}; [ -z "$o" ] || printf '%s\n' "$o"; }

# ---- one run ------------------------------------------------------------------------------------------
R="$WORK/r"
# restore S: $R is a fresh copy of before.S; cds into it.
restore() { { cd "$WORK" && rm -rf "$R" && cp -a "$WORK/before.$1" "$R" && cd "$R"; } || exit 1; }
# quiet cmd...: runs it with stdout/stderr in $RUN_DIR; RC, ERRLINE. The braces keep bash's
# "Killed" notice out of the log.
quiet() {
  { "$@" >"$RUN_DIR/out" 2>"$RUN_DIR/err"; } 2>/dev/null
  RC=$?
  ERRLINE=$(grep -m1 '^etcd-pki: error:' "$RUN_DIR/err")
}
# judge S MODE CLASS N: restores, injects (MODE eio or kill) at call N of CLASS, decides what the
# folder must be and checks it. Sets BAD (empty when good) and STATE_BAD (1 when the folder, not
# only the repair's exit code, was wrong).
judge() {
  local s=$1 mode=$2 class=$3 n=$4 inj want rrc="" rerr="" problems
  if [ "$mode" = eio ]; then
    inj="$class:error=EIO:when=$n"
    [ "$class" = write ] && inj="$class:error=ENOSPC:when=$n"
  else
    inj="$class:signal=KILL:when=$n"
  fi
  restore "$s"
  quiet strace -f -o /dev/null -e trace="$class" -e inject="$inj" "${CMD[@]}"
  local rc=$RC errline=$ERRLINE
  if [ "$mode" = kill ]; then
    want=either
    [ "$rc" = 137 ] || NOT_KILLED=$((NOT_KILLED + 1))
    if [ -e pki ]; then
      quiet "$E" repair pki
      rrc=$RC; rerr=${ERRLINE:-$(head -n 1 "$RUN_DIR/err")}
    fi
  elif [ "$rc" = 0 ]; then
    want=complete
  elif [[ "$errline" == *"nothing changed"* ]]; then
    want=same
  elif [[ "$errline" == *"etcd-pki repair"* ]]; then
    want=complete
    quiet "$E" repair pki
    rrc=$RC; rerr=${ERRLINE:-$(head -n 1 "$RUN_DIR/err")}
  else
    want=same
  fi
  case $want in
    same) problems=$(fs same "$WORK/$s.before.json" pki --scan "$R") ;;
    complete) problems=$(fs complete "$WORK/$s.spec.json" pki --verify-rc "$VRC" --scan "$R") ;;
    either) problems=$(fs either "$WORK/$s.before.json" "$WORK/$s.spec.json" pki --verify-rc "$VRC" --scan "$R") ;;
  esac
  STATE_BAD=0
  [ -n "$problems" ] && STATE_BAD=1
  if [ -n "$rrc" ] && [ "$rrc" != 0 ]; then
    problems="repair exits $rrc (${rerr:-no message}); ${problems:-the folder itself is fine}"
  fi
  problems=${problems//$'\n'/; }
  BAD=""
  if [ -n "$problems" ]; then
    BAD="exit $rc, ${errline:-no error line}; wanted $want: $problems"
  fi
}

# ---- the scenarios --------------------------------------------------------------------------------------
TABLE=()
NOT_KILLED=0  # SIGKILL runs the signal did not reach (the command made fewer calls than counted)
for s in $SCENARIOS; do
  scenario_cmd "$s"
  st=$SECONDS
  name="$s ($(scenario_name "$s"))"
  "${FS[@]}" snapshot "$WORK/before.$s/pki" >"$WORK/$s.before.json"
  # two clean runs: the first counts the calls, both together tell which files are deterministic
  restore "$s"
  quiet strace -f -o "$WORK/$s.trace" -e trace="$TRACE_SET" "${CMD[@]}"
  expect_eq "$name: clean run under strace exits 0" "0" "$RC"
  cp -a pki "$WORK/$s.clean1"
  restore "$s"
  quiet "${CMD[@]}"
  expect_eq "$name: second clean run exits 0" "0" "$RC"
  cp -a pki "$WORK/$s.clean2"
  cd "$WORK" || exit 1
  "${FS[@]}" spec "$s.clean1" "$s.clean2" --before "$s.before.json" >"$s.spec.json" || { fail "$name: no spec from the clean runs"; continue; }
  quiet "$E" verify "$s.clean1"
  VRC=$RC
  echo "$VRC" >"$WORK/$s.vrc"
  problems=$(fs complete "$s.spec.json" "$s.clean2" --verify-rc "$VRC")
  expect_eq "$name: the checker accepts a clean run as complete" "" "$problems"
  problems=$(fs same "$s.before.json" "before.$s/pki")
  expect_eq "$name: the checker accepts the before-folder as unchanged" "" "$problems"

  for mode in eio kill; do
    KEPT=0
    for class in "${CLASSES[@]}"; do
      count=$(grep -cE "^[0-9]+ +$class\(" "$WORK/$s.trace")
      [ "$count" -gt 0 ] || continue
      runs=0 bad=0 state_bad=0
      for n in $(seq 1 "$STRIDE" "$count") $( [ $(((count - 1) % STRIDE)) -ne 0 ] && echo "$count"); do
        judge "$s" "$mode" "$class" "$n"
        runs=$((runs + 1))
        if [ -n "$BAD" ]; then
          bad=$((bad + 1)) state_bad=$((state_bad + STATE_BAD))
          fail "$s $mode $class N=$n: $BAD"
          if [ "$KEPT" -lt "$KEEP" ]; then
            KEPT=$((KEPT + 1)); mkdir -p "$WORK/bad"; cp -a "$R" "$WORK/bad/$s-$mode-$class-$n"
            echo "   (folder kept in $WORK/bad/$s-$mode-$class-$n)"
          fi
        fi
      done
      [ "$bad" = 0 ] && pass "$s $mode $class: $runs runs, no bad state"
      TABLE+=("$(printf '%-20s %-5s %-10s %5s %5s %6s' "$name" "$mode" "$class" "$runs" "$bad" "$state_bad")")
    done
  done
  echo "# scenario $name: $((SECONDS - st)) s"
done
cd "$WORK" || exit 1

# ---- the next run, not repair: killed at each rename, the same command run again must end in the
# complete state, and say so where it completed (or removed) an interrupted change.
for s in b c d; do
  [[ " $SCENARIOS " == *" $s "* ]] || continue
  scenario_cmd "$s"
  VRC=$(cat "$WORK/$s.vrc")
  count=$(grep -cE "^[0-9]+ +rename\(" "$WORK/$s.trace")
  said=0 bad=0
  for n in $(seq 1 "$count"); do
    restore "$s"
    quiet strace -f -o /dev/null -e trace=rename -e inject="rename:signal=KILL:when=$n" "${CMD[@]}"
    quiet "${CMD[@]}"
    rc=$RC
    grep -q "an interrupted change\|an unfinished change" "$RUN_DIR/err" && said=$((said + 1))
    problems=$(fs complete "$WORK/$s.spec.json" pki --verify-rc "$VRC" --scan "$R")
    [ "$s" != b ] && problems=""  # renew and revoke run again change more than one clean run: judged by exit code
    if [ "$rc" != 0 ] || [ -n "$problems" ]; then
      bad=$((bad + 1)); fail "$s: killed at rename $n, run again: exit $rc ${problems//$'\n'/; }"
    fi
  done
  cd "$WORK" || exit 1
  [ "$bad" = 0 ] && pass "$s: killed at each of $count renames, the next run completes"
  if [ "$count" -gt 0 ]; then
    if [ "$said" -gt 0 ]; then pass "$s: the next run says what it completed ($said of $count)"; else fail "$s: the next run never said it completed an interrupted change"; fi
  fi
done

echo "# bad = the run broke a rule; state = of those, the folder itself was wrong (not only repair's exit code)"
printf '# %-20s %-5s %-10s %5s %5s %6s\n' scenario pass class runs bad state
for line in "${TABLE[@]}"; do echo "# $line"; done
[ "$NOT_KILLED" = 0 ] || echo "# note: $NOT_KILLED SIGKILL run(s) ended without being killed"
echo "# stride $STRIDE, $((SECONDS - T0)) s"

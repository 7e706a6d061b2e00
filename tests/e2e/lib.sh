# Shared helpers for the end-to-end tests. Source it first; it makes a scratch folder,
# cds into it, and prints "N passed, N failed" at exit (non-zero exit when anything failed).
set -u
: "${ETCD_PKI:?set ETCD_PKI to the etcd-pki binary}"
: "${TEST_DATA:?set TEST_DATA to tests/data}"
FIXTURES="$TEST_DATA/fixtures"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/etcd-pki-e2e.XXXXXX")
cd "$WORK" || exit 1
PASSED=0
FAILED=0
_finish() {
  local rc=$?
  echo "$PASSED passed, $FAILED failed"
  if [ "$FAILED" -eq 0 ] && [ "$rc" -eq 0 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection"; fi
  [ "$FAILED" -eq 0 ] && exit "$rc"
  exit 1
}
trap _finish EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; }
# check "description" command...   (passes when the command succeeds)
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then pass "$d"; else fail "$d"; fi; }
# expect_eq "description" expected actual
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi; }
# expect_match "description" regex actual
expect_match() { if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1: [$3] does not match /$2/"; fi; }

# Shared by the real-etcd tests (test_etcd_cluster.sh, test_etcd_operate.sh). Source it after
# lib.sh. The caller sets PKI (the cluster output folder; ctl trusts $PKI/ca/ca.pem), starts etcd
# in the background and appends each PID to PIDS, and installs `trap 'stop_members; _finish' EXIT`.
# Not a test itself (tests/e2e/CMakeLists.txt only runs test_*.sh).
command -v etcd >/dev/null && command -v etcdctl >/dev/null || { fail "etcd and etcdctl are installed (scripts/setup.sh --test)"; exit 1; }

PIDS=()
# stop_pids PID...: SIGTERM, up to ~3 s for them to exit, then SIGKILL what is left. Only ever the
# PIDs given (the ones the test started), never by name.
stop_pids() {
  [ $# -eq 0 ] && return
  kill -TERM "$@" 2>/dev/null
  for _ in $(seq 1 30); do
    alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null
  wait "$@" 2>/dev/null
}
# stop_members: every etcd this test started.
stop_members() {
  [ ${#PIDS[@]} -eq 0 ] && return
  stop_pids "${PIDS[@]}"
  PIDS=()
}

# etcd.conf.yml fragment -> etcd flags: "key: value" -> --key=value; inside
# client-transport-security the keys keep their names, inside peer-transport-security they get
# the "peer-" prefix (--peer-cert-file, ...), exactly as etcd maps them.
fragment_flags() {
  awk '
    /^#/ || /^[[:space:]]*$/ { next }
    /^client-transport-security:/ { prefix = ""; next }
    /^peer-transport-security:/ { prefix = "peer-"; next }
    /^[^ ]/ { prefix = "" }
    {
      line = $0; sub(/^[[:space:]]+/, "", line)
      key = line; sub(/:.*/, "", key)
      val = line; sub(/^[^:]*:[[:space:]]*/, "", val); gsub(/^"|"$/, "", val)
      print "--" prefix key "=" val
    }' "$1"
}

ctl() {  # ctl ENDPOINTS CERT KEY args...
  local eps=$1 cert=$2 key=$3; shift 3
  ETCDCTL_API=3 timeout 20 etcdctl --endpoints="$eps" --cacert="$PKI/ca/ca.pem" --cert="$cert" --key="$key" \
    --dial-timeout=3s --command-timeout=5s "$@"
}

# Shared by the real-etcd tests (test_etcd_cluster.sh, test_etcd_operate.sh, test_etcd_deploy.sh,
# test_etcd_probe.sh). Source it after lib.sh. The caller sets PKI (the cluster output folder; ctl
# trusts $PKI/ca/ca.pem), starts etcd in the background and appends each PID to PIDS (and sets
# PID_OF[N] for member N), and installs `trap 'stop_members; _finish' EXIT`. The member helpers
# below also use EPS[N] (member N's client URL), ROOT and ROOT_KEY (a client certificate that
# works) and $WORK/mN.log (member N's log).
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

# ---- members started by the test: restarts, logs, health --------------------------------------------
proc_start() { awk '{ print $22 }' "/proc/$1/stat" 2>/dev/null; }  # start time: tells a restart from PID reuse
started_as() { echo "${PID_OF[$1]}:$(proc_start "${PID_OF[$1]}")"; }
log_of() { echo "$WORK/m$1.log"; }
log_size() { stat -c %s "$(log_of "$1")" 2>/dev/null || echo 0; }
log_since() { tail -c +"$(($2 + 1))" "$(log_of "$1")"; }  # log_since N OFFSET
# TLS rejections in what member N logged since OFFSET, without the lines matching ALLOWED (regex).
TLS_REJECTION='rejected connection|bad certificate|private key does not match|x509:|remote error: tls'
rejections_since() {
  log_since "$1" "$2" | grep -E "$TLS_REJECTION" | { if [ -n "${3:-}" ]; then grep -v -E "$3"; else cat; fi; } | head -3
}
# Until there is quorum (and while a member starts or stops) handshakes are cut: the other side
# logs "rejected connection" with error "EOF" or "connection reset by peer" — the client left, no
# certificate was refused. Allowed only around starts and stops; certificate errors always count.
CLIENT_LEFT='"error":"(EOF|read tcp [^"]*: connection reset by peer)"'
# wait_for SECONDS command...: retries every 0.5 s until it succeeds or the time is up.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.5
  done
}
healthy() { ctl "${EPS[$1]}" "$ROOT" "$ROOT_KEY" endpoint health; }
all_healthy() { local n; for n in "$@"; do healthy "$n" || return 1; done; }  # all_healthy N...
env_settings() { grep -v -E '^[[:space:]]*(#|$)' "$1"; }  # the KEY=VALUE lines of an env file
# start_from_env N [INSTALL]: etcd from $PKI/mN/etcd.env alone. The file is mapped (the install dir,
# default /etc/etcd/pki, -> the member's folder; ETCD_DATA_DIR -> the test's folder) into
# $WORK/mN.env, which the caller may change in ENV_HOOK (a function name, called with N), and each
# KEY=VALUE line is one argument of env -i: exactly what systemd's EnvironmentFile= hands etcd, no
# shell expansion, no flags. The loopback limitation (see test_etcd_cluster.sh) is the only addition.
start_from_env() {
  local n=$1 install=${2:-/etc/etcd/pki} dir="$PKI/m$1" settings
  sed -e "s#$install/#$dir/#g" -e "s#^ETCD_DATA_DIR=.*#ETCD_DATA_DIR=$WORK/data-m$n#" "$dir/etcd.env" >"$WORK/m$n.env"
  [ -n "${ENV_HOOK:-}" ] && "$ENV_HOOK" "$n"
  mapfile -t settings < <(env_settings "$WORK/m$n.env")
  env -i PATH="$PATH" "${settings[@]}" ETCD_LOGGER=zap ETCD_LOG_OUTPUTS=stderr \
    ETCD_EXPERIMENTAL_PEER_SKIP_CLIENT_SAN_VERIFICATION=true etcd >>"$(log_of "$n")" 2>&1 &
  PID_OF[n]=$!
  PIDS+=($!)
}
# loopback_spec FILE "CLIENT..." N...: a cluster spec with members mN on 127.0.0.N at
# $PEER_PORT/$CLIENT_PORT, and the clients named.
loopback_spec() {
  local f=$1 clients=$2 sep="" n c; shift 2
  {
    echo '{"members": ['
    for n in "$@"; do
      printf '%s {"name": "m%s", "ips": ["127.0.0.%s"], "peer_port": %s, "client_port": %s}\n' "$sep" "$n" "$n" "$PEER_PORT" "$CLIENT_PORT"
      sep=,
    done
    sep=""
    printf '], "clients": ['
    for c in $clients; do printf '%s{"name": "%s"}' "$sep" "$c"; sep=", "; done
    echo ']}'
  } >"$f"
}

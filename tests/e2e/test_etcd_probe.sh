#!/usr/bin/env bash
# `etcd-pki probe` against a real etcd cluster (Debian's etcd-server 3.4): what the members serve,
# not what the files say.
#   1. `etcd-pki cluster spec3.json -o pki` (m1..m3 on 127.0.0.1-3, client root); the members start
#      from their etcd.env exactly as test_etcd_deploy.sh starts them (env -i, one argument per
#      KEY=VALUE line, paths mapped, ETCD_EXPERIMENTAL_PEER_SKIP_CLIENT_SAN_VERIFICATION=true).
#   2. `etcd-pki probe pki` on the healthy cluster: exit 0; six endpoints (each member's client and
#      peer URL), each verified against the member's CA for the dialled IP, its client certificate
#      (client port: etcdctl.env's, the server certificate; peer port: the peer certificate of the
#      member whose IP the connection leaves from, m1's on loopback) accepted with an HTTP answer
#      to GET /version (etcd 3.4.23 on the client port), the served serial = the file's serial
#      (openssl x509 -serial), no finding; no member logged a TLS rejection for it. `--json`
#      parses with python3; a URL with --ca/--cert works alone.
#   3. m2's server.pem and server-key.pem copied over m3's while m3 runs (etcd re-reads them on
#      each handshake): exit 2, m3's client endpoint is the only one with a finding: error
#      san-missing, "x509: certificate is valid for 127.0.0.2, 127.0.0.1, ::1, not 127.0.0.3" (every
#      server certificate also covers loopback for etcd's own gateway, so m2's over m1's would be
#      valid at 127.0.0.1); m3's files put back: exit 0 again.
#   4. `etcd-pki renew pki/m1 --dir pki` while m1 runs: the next probe (no restart: same PID and
#      start time) sees m1's new server and peer serials on its client and peer ports, exit 0.
#   5. m3 paused (SIGSTOP: its ports accept TCP, nothing answers TLS, as a member without quorum)
#      and probed with --timeout 2s: exit 2, m3's two endpoints are tls-timeout errors, the others
#      clean, and the command returns within 3 x 2 s + 10 s slack (no hang). Resumed (SIGCONT),
#      then stopped (SIGTERM): m3's endpoints are "connection refused" errors, exit 2, within the
#      same bound.
# Loopback limitation as in test_etcd_deploy.sh: every connection to 127.0.0.x leaves from
# 127.0.0.1. Everything is bounded: etcd-pki probe and etcdctl under `timeout`, retry loops with a
# deadline in seconds. Ports 36379/36380 (the other etcd tests use 32xxx-35xxx).
#
# The test can fail. ETCD_PROBE_BREAK (only for showing that) breaks one step on purpose; tried
# with etcd 3.4.23 (62 checks when nothing is broken):
#   no-swap    step 3 copies m3's own files over themselves instead of m2's. Fails (5): "probe
#              after the swap exits 2", "m3's client endpoint: one finding, san-missing", "m3 client:
#              etcd's error names the SANs ...", "m3 client serves m2's serial ...", "text output:
#              the Go error under m3's client endpoint".
#   wrong-ca   every probe is also given --ca of another cluster's CA. Fails (27): every endpoint
#              that answers is a chain error (x509: certificate signed by unknown authority), so
#              every "exits 0" and "clean" check, and the URL probe (--ca given twice is refused).
E2E_DIR=$(cd "$(dirname "$0")" && pwd)  # lib.sh changes into the scratch folder
source "$E2E_DIR/lib.sh"
source "$E2E_DIR/prom_lib.sh" || { fail "tests/e2e/prom_lib.sh loads"; exit 1; }  # PY, prom
source "$E2E_DIR/etcd_lib.sh" || { fail "tests/e2e/etcd_lib.sh loads"; exit 1; }  # stop_pids, stop_members, ctl
trap 'kill -CONT "${PIDS[@]}" 2>/dev/null; stop_members; _finish' EXIT  # a paused member resumed first
BREAK=${ETCD_PROBE_BREAK:-}
command -v python3 >/dev/null || { fail "python3 is installed"; exit 1; }

CLIENT_PORT=36379
PEER_PORT=36380
PKI="$WORK/pki"
INSTALL=/etc/etcd/pki
ROOT="$PKI/clients/root.pem" ROOT_KEY="$PKI/clients/root-key.pem"
EPS=() PID_OF=()
for n in 1 2 3; do EPS[n]="https://127.0.0.$n:$CLIENT_PORT"; done

# ---- helpers --------------------------------------------------------------------------------------
spec() { loopback_spec "$1" "root" "${@:2}"; }  # spec FILE N...: members mN on 127.0.0.N, clients root
file_serial() { timeout 5 openssl x509 -in "$1" -noout -serial 2>/dev/null | sed 's/^serial=//'; }
start_member() { start_from_env "$1" "$INSTALL"; }  # etcd from pki/mN/etcd.env alone (etcd_lib.sh)
# probe ARGS...: etcd-pki probe (RC/OUT/ERR), under a hard bound; MS is how long it took.
probe() {
  local extra=() t0
  [ "$BREAK" = wrong-ca ] && extra=(--ca "$WORK/other/ca/ca.pem")
  t0=$(date +%s%N)
  run timeout 120 "$ETCD_PKI" probe "$@" "${extra[@]}"
  MS=$((($(date +%s%N) - t0) / 1000000))
}
# py EXPR: EXPR evaluated by python3 with j = the JSON in $OUT (empty when it does not parse).
py() { python3 -c 'import json, sys; j = json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1" <<<"$OUT" 2>/dev/null; }
# One line per endpoint: "mN-role findings verified client_cert same_as_disk".
ENDPOINT_SUMMARY="'\\n'.join(' '.join([e['member'] + '-' + e['role'], str(len(e['findings'])), str(e['verified']), e['client_cert'], str(e['same_as_disk'])]) for e in j['endpoints'])"
clean_summary() {
  local n
  for n in 1 2 3; do printf 'm%s-client 0 True accepted True\nm%s-peer 0 True accepted True\n' "$n" "$n"; done
}
# served SERIAL of member N's ROLE endpoint, from the JSON in $OUT.
served_serial() { py "[e[\"leaf\"][\"serial\"] for e in j[\"endpoints\"] if e[\"member\"] == \"m$1\" and e[\"role\"] == \"$2\"][0]"; }
# rules N ROLE: "severity:rule" of the findings of member N's ROLE endpoint.
rules_of() { py "\" \".join(f[\"severity\"] + \":\" + f[\"rule\"] for e in j[\"endpoints\"] if e[\"member\"] == \"m$1\" and e[\"role\"] == \"$2\" for f in e[\"findings\"])"; }
etcd_error_of() { py "\" | \".join(f[\"etcd_error\"] for e in j[\"endpoints\"] if e[\"member\"] == \"m$1\" and e[\"role\"] == \"$2\" for f in e[\"findings\"])"; }

# ---- 1. the cluster, started from etcd.env ---------------------------------------------------------
spec spec3.json 1 2 3
run "$ETCD_PKI" cluster spec3.json -o pki
expect_rc "cluster spec3.json -o pki (m1..m3, client root)" 0
if [ "$BREAK" = wrong-ca ]; then "$ETCD_PKI" cluster spec3.json -o other >/dev/null 2>&1; fi
for n in 1 2 3; do start_member "$n"; done
if wait_for 60 all_healthy 1 2 3; then pass "all three members healthy"
else fail "all three members healthy"; exit 1; fi

# ---- 2. a healthy cluster --------------------------------------------------------------------------
declare -A OFF
for n in 1 2 3; do OFF[$n]=$(log_size "$n"); done
probe pki --json
expect_rc "probe pki --json on the healthy cluster exits 0" 0
expect_eq "--json parses: six endpoints" 6 "$(py 'len(j["endpoints"])')"
expect_eq "every endpoint: no finding, verified, client certificate accepted, the file on disk" "$(clean_summary)" "$(py "$ENDPOINT_SUMMARY")"
expect_eq "--json: no errors, no warnings, no findings" "0 0 0" "$(py '" ".join(str(x) for x in (j["errors"], j["warnings"], len(j["findings"])))')"
expect_eq "the URLs are the members' advertised client and peer URLs" \
  "https://127.0.0.1:$CLIENT_PORT https://127.0.0.1:$PEER_PORT https://127.0.0.2:$CLIENT_PORT https://127.0.0.2:$PEER_PORT https://127.0.0.3:$CLIENT_PORT https://127.0.0.3:$PEER_PORT" \
  "$(py '" ".join(e["url"] for e in j["endpoints"])')"
for n in 1 2 3; do
  expect_eq "m$n's client port serves pki/m$n/server.pem's serial" "$(file_serial "$PKI/m$n/server.pem")" "$(served_serial "$n" client)"
  expect_eq "m$n's peer port serves pki/m$n/peer.pem's serial" "$(file_serial "$PKI/m$n/peer.pem")" "$(served_serial "$n" peer)"
done
expect_eq "client ports: etcdctl.env's certificate (the server certificate) presented, GET /version answered by etcd 3.4" \
  "pki/m1/server.pem 200 3.4 pki/m2/server.pem 200 3.4 pki/m3/server.pem 200 3.4" \
  "$(py '" ".join(e["presented"] + " " + str(e["http_status"]) + " " + e["etcd_version"][:3] for e in j["endpoints"] if e["role"] == "client")')"
expect_eq "peer ports: m1's peer certificate presented (every connection leaves from 127.0.0.1), answered" \
  "pki/m1/peer.pem pki/m1/peer.pem pki/m1/peer.pem" \
  "$(py '" ".join(e["presented"] for e in j["endpoints"] if e["role"] == "peer" and e["http_status"] > 0)')"
expect_eq "the leaf in the JSON: CNs, not_before and not_after of pki/m2/server.pem" \
  "m2 etcd-ca $(date -u -d "$(openssl x509 -in "$PKI/m2/server.pem" -noout -enddate | sed 's/notAfter=//')" +%Y-%m-%dT%H:%M:%SZ)" \
  "$(py '[e["leaf"]["subject_cn"] + " " + e["leaf"]["issuer_cn"] + " " + e["leaf"]["not_after"] for e in j["endpoints"] if e["member"] == "m2"][0]')"
for n in 1 2 3; do
  expect_eq "m$n logged no TLS rejection for the probe" "" "$(rejections_since "$n" "${OFF[$n]}" "$CLIENT_LEFT")"
done
# The same as metrics (probe.prom, read with prometheus_client): one series per endpoint's leaf,
# labelled like expiry's with the endpoint in place of the file.
probe pki --format prometheus --output probe.prom
expect_rc "probe pki --format prometheus --output probe.prom exits 0" 0
expect_eq "metrics: one x509_cert_not_after series per endpoint, each probe a success, each leaf the file on disk" "6 1 1 6" \
  "$(prom probe.prom '" ".join(str(x) for x in (len(series("x509_cert_not_after")), int(min(v for l, v in series("etcd_pki_probe_success"))), int(min(v for l, v in series("etcd_pki_probe_served_is_on_disk"))), len(series("etcd_pki_probe_served_is_on_disk"))))')"
M2_SERVER_DEC=$("$PY" -c 'import sys; print(int(sys.argv[1], 16))' "$(file_serial "$PKI/m2/server.pem")")
expect_eq "metrics: m2's client endpoint serves its server certificate (CN, issuer, decimal serial, role)" "m2 etcd-ca $M2_SERVER_DEC server" \
  "$(prom probe.prom '[" ".join((l["subject_CN"], l["issuer_CN"], l["serial_number"], l["role"])) for l, v in series("x509_cert_not_after") if l["endpoint"] == sys.argv[3]][0]' "https://127.0.0.2:$CLIENT_PORT")"
expect_eq "metrics: its notAfter is openssl's" "$(date -u -d "$(openssl x509 -in "$PKI/m2/server.pem" -noout -enddate | sed 's/notAfter=//')" +%s)" \
  "$(prom probe.prom '[int(v) for l, v in series("x509_cert_not_after") if l["endpoint"] == sys.argv[3]][0]' "https://127.0.0.2:$CLIENT_PORT")"
probe pki
expect_rc "probe pki (text) exits 0" 0
expect_contains "text: the summary line" "6 endpoint(s) probed: 0 error(s), 0 warning(s)" "$OUT"
expect_contains "text: m1's client endpoint verified for 127.0.0.1" "verified against pki/m1/ca.pem for 127.0.0.1" "$OUT"
probe "https://127.0.0.2:$CLIENT_PORT" --ca pki/ca/ca.pem --cert "$ROOT" --json
expect_rc "probe of a URL with --ca and --cert (root) exits 0" 0
expect_eq "the URL alone: one endpoint, verified, root accepted" "1 True accepted" \
  "$(py 'str(len(j["endpoints"])) + " " + str(j["endpoints"][0]["verified"]) + " " + j["endpoints"][0]["client_cert"]')"

# ---- 3. m2's server certificate served by m3 -------------------------------------------------------
# (Not over m1's: every server certificate also holds 127.0.0.1, ::1 and localhost, which etcd's
# gateway dials, so m2's would be valid at 127.0.0.1.)
mkdir -p saved && cp -p "$PKI/m3/server.pem" "$PKI/m3/server-key.pem" saved/
SWAP_FROM=m2
[ "$BREAK" = no-swap ] && SWAP_FROM=m3
cp "$PKI/$SWAP_FROM/server.pem" "$PKI/m3/.server.pem.new" && cp "$PKI/$SWAP_FROM/server-key.pem" "$PKI/m3/.server-key.pem.new"
mv "$PKI/m3/.server-key.pem.new" "$PKI/m3/server-key.pem" && mv "$PKI/m3/.server.pem.new" "$PKI/m3/server.pem"
M2_SANS_GO="x509: certificate is valid for 127.0.0.2, 127.0.0.1, ::1, not 127.0.0.3"
probe pki --json
expect_rc "probe after the swap exits 2" 2
expect_eq "m3's client endpoint: one finding, san-missing" "error:san-missing" "$(rules_of 3 client)"
expect_eq "m3 client: etcd's error names the SANs it has and the address dialled" "$M2_SANS_GO" "$(etcd_error_of 3 client)"
expect_eq "m3 client serves m2's serial (what its file now holds)" "$(file_serial "$PKI/m2/server.pem")" "$(served_serial 3 client)"
for ep in "1 client" "1 peer" "2 client" "2 peer" "3 peer"; do
  expect_eq "m${ep% *} ${ep#* }: still clean" "" "$(rules_of $ep)"
done
probe pki
expect_contains "text output: the Go error under m3's client endpoint" "etcd: $M2_SANS_GO" "$OUT"
cp -p saved/server-key.pem "$PKI/m3/.server-key.pem.new" && cp -p saved/server.pem "$PKI/m3/.server.pem.new"
mv "$PKI/m3/.server-key.pem.new" "$PKI/m3/server-key.pem" && mv "$PKI/m3/.server.pem.new" "$PKI/m3/server.pem"
probe pki --json
expect_rc "m3's files put back: probe exits 0" 0
expect_eq "m3's files put back: every endpoint clean" "$(clean_summary)" "$(py "$ENDPOINT_SUMMARY")"

# ---- 4. renew while the member runs ----------------------------------------------------------------
OLD_SERVER=$(file_serial "$PKI/m1/server.pem") OLD_PEER=$(file_serial "$PKI/m1/peer.pem")
M1_STARTED=$(started_as 1)
run "$ETCD_PKI" renew pki/m1 --dir pki
expect_rc "renew pki/m1 --dir pki" 0
NEW_SERVER=$(file_serial "$PKI/m1/server.pem") NEW_PEER=$(file_serial "$PKI/m1/peer.pem")
check "renew gave m1 new serials" test "$NEW_SERVER" != "$OLD_SERVER" -a "$NEW_PEER" != "$OLD_PEER" -a -n "$NEW_SERVER"
probe pki --json
expect_rc "probe after the renew exits 0" 0
expect_eq "m1's client port serves the renewed server serial" "$NEW_SERVER" "$(served_serial 1 client)"
expect_eq "m1's peer port serves the renewed peer serial" "$NEW_PEER" "$(served_serial 1 peer)"
expect_eq "after the renew: every endpoint clean, the files on disk" "$(clean_summary)" "$(py "$ENDPOINT_SUMMARY")"
expect_eq "m1 was not restarted (same PID and start time)" "$M1_STARTED" "$(started_as 1)"

# ---- 5. a member that does not answer, then one that is gone -----------------------------------------
TIMEOUT_S=2 BOUND_MS=$(((3 * 2 + 10) * 1000))
kill -STOP "${PID_OF[3]}"
probe pki --json --timeout ${TIMEOUT_S}s
kill -CONT "${PID_OF[3]}"
expect_rc "m3 paused: probe exits 2" 2
check "m3 paused: probe returned within 3 x ${TIMEOUT_S}s + 10s (took ${MS} ms)" test "$MS" -lt "$BOUND_MS"
expect_eq "m3 paused: its client endpoint is a TLS time-out" "error:tls-timeout" "$(rules_of 3 client)"
expect_eq "m3 paused: its peer endpoint is a TLS time-out" "error:tls-timeout" "$(rules_of 3 peer)"
for ep in "1 client" "1 peer" "2 client" "2 peer"; do
  expect_eq "m3 paused: m${ep% *} ${ep#* } clean" "" "$(rules_of $ep)"
done
stop_pids "${PID_OF[3]}"
PIDS=("${PID_OF[1]}" "${PID_OF[2]}")
check "m3 is stopped" test ! -d "/proc/${PID_OF[3]}"
probe pki --json --timeout ${TIMEOUT_S}s
expect_rc "m3 stopped: probe exits 2" 2
check "m3 stopped: probe returned within 3 x ${TIMEOUT_S}s + 10s (took ${MS} ms)" test "$MS" -lt "$BOUND_MS"
expect_eq "m3 stopped: its client endpoint is unreachable" "error:unreachable" "$(rules_of 3 client)"
expect_eq "m3 stopped: connection refused, in Go's words" "dial tcp 127.0.0.3:$CLIENT_PORT: connect: connection refused" "$(etcd_error_of 3 client)"
expect_eq "m3 stopped: its peer endpoint is unreachable" "error:unreachable" "$(rules_of 3 peer)"
for ep in "1 client" "1 peer" "2 client" "2 peer"; do
  expect_eq "m3 stopped: m${ep% *} ${ep#* } clean" "" "$(rules_of $ep)"
done
expect_eq "m3 stopped: --json has one entry per endpoint" 6 "$(py 'len(j["endpoints"])')"
probe pki --timeout ${TIMEOUT_S}s --format prometheus --output probe.prom
expect_rc "m3 stopped: probe --format prometheus exits 2 (and writes the metrics)" 2
expect_eq "m3 stopped: metrics: success 0 for m3's two endpoints, 1 for the others; no certificate series for m3" "m1:1 m1:1 m2:1 m2:1 m3:0 m3:0 4" \
  "$(prom probe.prom '" ".join(sorted("%s:%d" % (l["member"], v) for l, v in series("etcd_pki_probe_success"))) + " " + str(len(series("x509_cert_not_after")))')"

stop_members

#!/usr/bin/env bash
# An offline root, an intermediate CA for etcd, and a real 3-member etcd cluster whose members and
# clients trust ONLY the root (issue 13, part 1):
#   1. `init-ca root.json -o root`, then `init-ca int.json --ca root/ca.pem -o int`: int/ca.pem is
#      the intermediate alone (CA:TRUE, pathlen 0, no EKU, issued by the root), int/ca-chain.pem is
#      intermediate then root, int/ca-key.pem is 0600.
#   2. Bad input, each with nothing written: a leaf given as --ca (exit 6), a --ca-key that is not
#      the CA's (6), a CA under the pathlen-0 intermediate (8), a chain file out of order (6), an
#      intermediate whose EKU lacks client auth given to cluster (6), a client named "ca" (3).
#   3. `cluster SPEC --ca int/ca.pem` (m1..m3 on 127.0.0.1-3, client root): every leaf file is the
#      leaf then the intermediate (never the root), every member's ca.pem and clients/ca.pem are
#      the root byte for byte; openssl verify -CAfile root -untrusted LEAF-FILE -purpose
#      sslserver/sslclient passes for each leaf; `verify --ca root/ca.pem`, `verify pki` (which
#      finds the anchor itself) and `verify pki/m1` are clean; expiry lists the intermediate.
#   4. The members start from their etcd.env alone (start_from_env): all healthy, put on each
#      member, get on every member, etcdctl with clients/ca.pem as its CA works, no TLS rejection in
#      any log. The control: the client certificate without its intermediate is refused (so the
#      chain in the file is what makes it work).
#   5. `renew pki/m1 --ca int/ca.pem`: the renewed files still hold leaf + intermediate, m1 serves
#      the new certificate on a new connection without a restart, verify is still clean.
# Ports 37379/37380 only (no other test uses them). The loopback limitation of the other real-etcd
# tests applies (ETCD_EXPERIMENTAL_PEER_SKIP_CLIENT_SAN_VERIFICATION, set by start_from_env).
E2E_DIR=$(cd "$(dirname "$0")" && pwd)  # lib.sh changes into the scratch folder
source "$E2E_DIR/lib.sh"
source "$E2E_DIR/etcd_lib.sh" || { fail "tests/e2e/etcd_lib.sh loads"; exit 1; }
trap 'stop_members; _finish' EXIT

CLIENT_PORT=37379
PEER_PORT=37380
PKI="$WORK/pki"
ROOT_CA="$WORK/root/ca.pem"
ROOT="$PKI/clients/root.pem" ROOT_KEY="$PKI/clients/root-key.pem"
EPS=() PID_OF=()
for n in 1 2 3; do EPS[n]="https://127.0.0.$n:$CLIENT_PORT"; done
# The members trust only the root: so does etcdctl here (etcd_lib.sh's ctl trusts pki/ca/ca.pem,
# which a cluster signed by an existing CA does not have).
ctl() {  # ctl ENDPOINTS CERT KEY args...
  local eps=$1 cert=$2 key=$3; shift 3
  ETCDCTL_API=3 timeout 20 etcdctl --endpoints="$eps" --cacert="${CTL_CA:-$ROOT_CA}" --cert="$cert" --key="$key" \
    --dial-timeout=3s --command-timeout=5s "$@"
}
certs_in() { grep -c -- '-----BEGIN CERTIFICATE-----' "$1" 2>/dev/null || echo 0; }
nth_cert() { awk -v n="$2" '/-----BEGIN CERTIFICATE-----/ { i++ } i == n { print } /-----END CERTIFICATE-----/ && i == n { exit }' "$1"; }
ext_text() { timeout 5 openssl x509 -in "$1" -noout -text 2>/dev/null; }
subject_of() { timeout 5 openssl x509 -in "$1" -noout -subject -nameopt RFC2253 2>/dev/null | sed 's/^subject=//'; }
issuer_of() { timeout 5 openssl x509 -in "$1" -noout -issuer -nameopt RFC2253 2>/dev/null | sed 's/^issuer=//'; }
same() { cmp -s "$1" "$2"; }
fails() { ! "$@"; }  # check "..." fails cmd: passes when cmd fails

# ---- 1. root and intermediate ---------------------------------------------------------------------
echo '{"CN": "hier root", "key": {"algo": "ecdsa", "size": 256}}' >root.json
echo '{"CN": "hier etcd intermediate", "key": {"algo": "ecdsa", "size": 256}}' >int.json
run "$ETCD_PKI" init-ca root.json -o root
expect_rc "init-ca makes the root" 0
run "$ETCD_PKI" init-ca int.json --ca root/ca.pem --ca-key root/ca-key.pem -o int
expect_rc "init-ca --ca makes the intermediate" 0
expect_contains "it names the chain file it wrote" "int/ca-chain.pem" "$ERR"
expect_eq "int/ca.pem holds the intermediate alone" 1 "$(certs_in int/ca.pem)"
expect_eq "int/ca.pem is issued by the root" "CN=hier root" "$(issuer_of int/ca.pem)"
T=$(ext_text int/ca.pem)
expect_match "the intermediate is CA:TRUE with pathlen 0" "CA:TRUE, pathlen:0" "$T"
expect_not_contains "the intermediate has no extended key usage" "Extended Key Usage" "$T"
expect_match "the intermediate may sign certificates and CRLs" "Certificate Sign, CRL Sign" "$T"
expect_eq "int/ca-chain.pem holds two certificates" 2 "$(certs_in int/ca-chain.pem)"
nth_cert int/ca-chain.pem 1 >chain1.pem
nth_cert int/ca-chain.pem 2 >chain2.pem
check "int/ca-chain.pem starts with the intermediate" same chain1.pem int/ca.pem
check "int/ca-chain.pem ends with the root" same chain2.pem root/ca.pem
expect_eq "int/ca-key.pem is 0600" 600 "$(file_mode int/ca-key.pem)"
check "openssl: the intermediate verifies against the root" timeout 5 openssl verify -CAfile root/ca.pem int/ca.pem

# ---- 2. bad input: clear errors, nothing written ----------------------------------------------------
echo '{"CN": "leaf", "hosts": ["127.0.0.1"], "key": {"algo": "ecdsa", "size": 256}}' >leaf.json
run "$ETCD_PKI" issue leaf.json -p server --ca root/ca.pem --ca-key root/ca-key.pem -o leafdir
expect_rc "a leaf for the bad-input cases" 0
run "$ETCD_PKI" init-ca int.json --ca leafdir/leaf.pem --ca-key leafdir/leaf-key.pem -o bad1
expect_rc "init-ca --ca with a leaf (CA:FALSE): exit 6 (ca)" 6
expect_contains "the error says it is not a CA" "not a CA certificate" "$ERR"
check "nothing written for a leaf given as --ca" fails test -e bad1
run "$ETCD_PKI" init-ca int.json --ca root/ca.pem --ca-key int/ca-key.pem -o bad2
expect_rc "init-ca --ca with another CA's key: exit 6" 6
check "nothing written for a mismatched --ca-key" fails test -e bad2
echo '{"CN": "too deep", "key": {"algo": "ecdsa", "size": 256}}' >deep.json
run "$ETCD_PKI" init-ca deep.json --ca int/ca.pem -o bad3
expect_rc "a CA under the pathlen-0 intermediate: exit 8 (policy)" 8
expect_contains "the error names the pathlen" "pathlen 0" "$ERR"
check "nothing written under a pathlen-0 intermediate" fails test -e bad3
mkdir -p swapped && cp int/ca.pem int/ca-key.pem swapped/ && cat root/ca.pem int/ca.pem root/ca.pem >swapped/ca-chain.pem
run "$ETCD_PKI" issue leaf.json -p server --ca swapped/ca.pem --ca-key swapped/ca-key.pem -o bad4
expect_rc "a chain file that does not start with the CA: exit 6" 6
expect_contains "the error names the chain file" "swapped/ca-chain.pem" "$ERR"
check "nothing written with a broken chain file" fails test -e bad4
cat int/ca.pem int/ca.pem >swapped/ca-chain.pem
run "$ETCD_PKI" issue leaf.json -p server --ca swapped/ca.pem --ca-key swapped/ca-key.pem -o bad4
expect_rc "a chain file out of order: exit 6" 6
expect_contains "the error says the order is wrong" "out of order or incomplete" "$ERR"
check "nothing written with a chain out of order" fails test -e bad4
# An intermediate whose EKU lacks client auth (made with openssl): Go refuses its leaves (etcd#16802).
timeout 10 openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout eku-key.pem -subj "/CN=eku intermediate" -out eku.csr 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n' >eku.ext
timeout 10 openssl x509 -req -in eku.csr -CA root/ca.pem -CAkey root/ca-key.pem -CAcreateserial -days 30 -extfile eku.ext -out eku.pem 2>/dev/null
loopback_spec spec3.json "root" 1 2 3
run "$ETCD_PKI" cluster spec3.json --ca eku.pem --ca-key eku-key.pem -o bad5
expect_rc "cluster with an intermediate whose EKU lacks client auth: exit 6" 6
expect_contains "the error names the missing usage" "client auth" "$ERR"
check "nothing written by the refused cluster run" fails test -e bad5/m1
echo '{"members": [{"name": "m1", "ips": ["127.0.0.1"]}], "clients": [{"name": "ca"}]}' >ca-client.json
run "$ETCD_PKI" cluster ca-client.json --ca int/ca.pem -o bad6
expect_rc "a client named ca: exit 3 (input)" 3
expect_contains "the error says why" "trust file" "$ERR"
check "nothing written for a client named ca" fails test -e bad6/m1

# ---- 3. the cluster signed by the intermediate, trusting the root ------------------------------------
run "$ETCD_PKI" cluster spec3.json --ca int/ca.pem --ca-key int/ca-key.pem -o "$PKI"
expect_rc "cluster --ca int/ca.pem" 0
check "no ca/ folder: the CA is the existing intermediate" fails test -e "$PKI/ca"
for n in 1 2 3; do
  for f in server peer; do
    file="$PKI/m$n/$f.pem"
    expect_eq "m$n/$f.pem is leaf + intermediate" 2 "$(certs_in "$file")"
    nth_cert "$file" 2 >second.pem
    check "m$n/$f.pem's second certificate is the intermediate" same second.pem int/ca.pem
    check "openssl verify -CAfile root -untrusted m$n/$f.pem -purpose sslserver" \
      timeout 5 openssl verify -CAfile "$ROOT_CA" -untrusted "$file" -purpose sslserver "$file"
    check "openssl verify ... -purpose sslclient (m$n/$f.pem)" \
      timeout 5 openssl verify -CAfile "$ROOT_CA" -untrusted "$file" -purpose sslclient "$file"
  done
  check "m$n/ca.pem is the root, byte for byte" same "$PKI/m$n/ca.pem" "$ROOT_CA"
done
check "clients/ca.pem is the root, byte for byte" same "$PKI/clients/ca.pem" "$ROOT_CA"
expect_eq "clients/root.pem is leaf + intermediate" 2 "$(certs_in "$ROOT")"
check "openssl verify -CAfile root -untrusted clients/root.pem -purpose sslclient" \
  timeout 5 openssl verify -CAfile "$ROOT_CA" -untrusted "$ROOT" -purpose sslclient "$ROOT"
check "openssl: without the file's intermediate the client certificate does not verify" \
  fails timeout 5 openssl verify -CAfile "$ROOT_CA" -purpose sslclient "$ROOT"
run "$ETCD_PKI" verify --ca "$ROOT_CA" "$PKI"
expect_rc "verify --ca root/ca.pem pki: clean" 0
expect_contains "verify checked the 7 leaves" "7 certificate(s) checked" "$OUT"
run "$ETCD_PKI" verify "$PKI"
expect_rc "verify pki finds the root itself: clean" 0
run "$ETCD_PKI" verify "$PKI/m1"
expect_rc "verify pki/m1: clean" 0
run "$ETCD_PKI" verify --ca int/ca.pem "$PKI"
expect_rc "verify --ca int/ca.pem: the members trust another CA (the root)" 2
expect_contains "... as ca-mismatch" "ca-mismatch" "$OUT"
run "$ETCD_PKI" expiry "$PKI" --json
expect_match "expiry lists the intermediate in the leaf files with its own expiry" '"role": *"intermediate"' "$OUT"
run "$ETCD_PKI" cluster spec3.json --ca int/ca.pem --ca-key int/ca-key.pem -o "$PKI"
expect_rc "a second cluster run" 0
expect_contains "... keeps everything and writes nothing" "issued 0, kept 7, wrote 0 files" "$ERR"

# ---- 4. real etcd: members trust only the root ------------------------------------------------------
for n in 1 2 3; do start_from_env "$n"; done
if wait_for 90 all_healthy 1 2 3; then pass "all three members healthy (they trust only the root)"; else fail "all three members healthy"; fi
for n in 1 2 3; do
  check "put through m$n with the client certificate" ctl "${EPS[$n]}" "$ROOT" "$ROOT_KEY" put "k$n" "v$n"
done
for n in 1 2 3; do
  for k in 1 2 3; do
    expect_eq "get k$k through m$n" "v$k" "$(ctl "${EPS[$n]}" "$ROOT" "$ROOT_KEY" get "k$k" --print-value-only 2>/dev/null)"
  done
done
expect_eq "etcdctl with clients/ca.pem as its CA" "v1" \
  "$(CTL_CA="$PKI/clients/ca.pem" ctl "${EPS[2]}" "$ROOT" "$ROOT_KEY" get k1 --print-value-only 2>/dev/null)"
expect_eq "member list: three started" 3 "$(ctl "${EPS[1]}" "$ROOT" "$ROOT_KEY" member list 2>/dev/null | grep -c ', started, ')"
for n in 1 2 3; do
  expect_eq "m$n's log: no TLS rejection" "" "$(rejections_since "$n" 0 "$CLIENT_LEFT")"
done
declare -A SIZE
for n in 1 2 3; do SIZE[$n]=$(log_size "$n"); done
nth_cert "$ROOT" 1 >root-leaf-only.pem
check "control: the client certificate without its intermediate is refused" \
  fails ctl "${EPS[1]}" "$WORK/root-leaf-only.pem" "$ROOT_KEY" get k1
expect_match "control: m1 logs the refusal" "bad certificate|unknown authority" "$(log_since 1 "${SIZE[1]}")"

# ---- 5. renew with the intermediate: still leaf + intermediate, served without a restart -------------
OLD_SERIAL=$(timeout 5 openssl x509 -in "$PKI/m1/server.pem" -noout -serial)
run "$ETCD_PKI" renew "$PKI/m1" --ca int/ca.pem --ca-key int/ca-key.pem
expect_rc "renew pki/m1 --ca int/ca.pem" 0
expect_eq "the renewed server.pem is leaf + intermediate" 2 "$(certs_in "$PKI/m1/server.pem")"
check "a new serial" fails test "$OLD_SERIAL" = "$(timeout 5 openssl x509 -in "$PKI/m1/server.pem" -noout -serial)"
SERVED=$(timeout 5 openssl s_client -connect "127.0.0.1:$CLIENT_PORT" -CAfile "$ROOT_CA" -cert "$ROOT" -cert_chain "$ROOT" -key "$ROOT_KEY" \
  -servername 127.0.0.1 </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null)
expect_eq "m1 serves the renewed certificate on a new connection (no restart)" \
  "$(timeout 5 openssl x509 -in "$PKI/m1/server.pem" -noout -serial)" "$SERVED"
check "put through m1 after the renewal" ctl "${EPS[1]}" "$ROOT" "$ROOT_KEY" put after renew
run "$ETCD_PKI" verify --ca "$ROOT_CA" "$PKI"
expect_rc "verify --ca root/ca.pem after the renewal: clean" 0

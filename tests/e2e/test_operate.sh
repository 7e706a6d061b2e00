#!/usr/bin/env bash
# Day two: inspect, verify, expiry, renew, revoke, crl (docs/operate.md, docs/cli.md) against a
# real `cluster` output. Broken certificates are made with openssl (`openssl ca` takes explicit
# -startdate/-enddate, so expired and not-yet-valid certificates need no clock games); every
# verify case asserts its exit code, the exact set of findings (--json), the message and the
# error etcd would print, and that verify changed nothing. inspect --json is compared field by
# field with Debian's cfssl 1.2.0 `certinfo`; the CA index and CRL are checked with openssl
# (including `openssl ca -gencrl` reading our index); renew is checked from the outside,
# including a concurrent reader that must never see a certificate with a key of another
# generation.
source "$(dirname "$0")/lib.sh"
E="$ETCD_PKI"

# ---- helpers ------------------------------------------------------------------------------------------
# fresh NAME: a copy of the clean cluster (each broken case gets its own).
fresh() { rm -rf "$1" && cp -a clean "$1"; }
# full_state DIR: dir_state plus every symlink's target (dir_state only sees a link's length).
full_state() { dir_state "$1"; (cd "$1" && find . -type l -printf '%p -> %l\n' | LC_ALL=C sort); }
serial_of() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'; }
pubkey_of_cert() { openssl x509 -in "$1" -noout -pubkey; }
pubkey_of_key() { openssl pkey -in "$1" -pubout; }
sha_of() { sha256sum <"$1" | cut -d' ' -f1; }
# when "+30 days": a date for openssl ca -startdate/-enddate, relative to now.
when() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
# findings JSON: verify --json's findings as sorted "severity file rule" lines.
findings() {
  python3 -c 'import json, sys
r = json.load(sys.stdin)
print("\n".join(sorted(f["severity"] + " " + f["file"] + " " + f["rule"] for f in r["findings"])))' <<<"$1"
}
# json_get JSON EXPR: a Python expression over the parsed JSON `j`, printed.
json_get() { python3 -c 'import json, sys; j = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

# verify_case LABEL DIR RC "FINDINGS" [verify args...]: runs verify (text and --json) on DIR and
# checks the exit code, the exact findings ("severity file rule" lines, sorted) and that nothing
# in DIR changed. Afterwards OUT holds the text report for the message checks.
verify_case() {
  local l=$1 d=$2 rc=$3 want=$4 before text; shift 4
  before=$(full_state "$d")
  run "$E" verify "$d" "$@"
  expect_rc "$l: verify exits $rc" "$rc"
  text=$OUT
  run "$E" verify "$d" --json "$@"
  expect_rc "$l: verify --json exits $rc" "$rc"
  expect_eq "$l: exactly these findings" "$want" "$(findings "$OUT")"
  expect_eq "$l: verify changed nothing" "$before" "$(full_state "$d")"
  OUT=$text
}

# openssl's own CA, for certificates etcd-pki would never make. Its database is its own (not the
# project's ca-index.txt); it signs with the cluster's CA key.
OSCA="$WORK/osca"
openssl_ca "$OSCA"
# ext_like CERT [EKU] [KU]: openssl extension lines with CERT's SANs, key usage and EKU (EKU and
# KU replaceable, in openssl's names: serverAuth, digitalSignature,keyEncipherment).
ext_like() {
  local san ku eku
  san=$(cert_ext "$1" subjectAltName | sed 's/IP Address:/IP:/g; s/, /,/g')
  ku=${3:-$(cert_ext "$1" keyUsage | sed 's/^critical: *//; s/Digital Signature/digitalSignature/; s/Key Encipherment/keyEncipherment/; s/, /,/g')}
  eku=${2:-$(cert_ext "$1" extendedKeyUsage | sed 's/TLS Web Server Authentication/serverAuth/; s/TLS Web Client Authentication/clientAuth/; s/, /,/g')}
  printf '%s\n' "basicConstraints = critical,CA:FALSE" "keyUsage = critical,$ku" "extendedKeyUsage = $eku" \
    "subjectAltName = $san" "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid"
}
# os_sign KEY SUBJECT EXTFILE STARTDATE ENDDATE OUT: a certificate for KEY from the clean CA.
os_sign() {
  openssl req -new -key "$1" -subj "$2" -out "$OSCA/req.csr" 2>"$OSCA/err" &&
    openssl ca -config "$OSCA/ca.cnf" -batch -notext -in "$OSCA/req.csr" -cert clean/ca/ca.pem -keyfile clean/ca/ca-key.pem \
      -startdate "$4" -enddate "$5" -extfile "$3" -out "$6" >>"$OSCA/err" 2>&1
}

# ======================================================================================================
# 1. A clean cluster: verify, expiry, inspect
# ======================================================================================================
run "$E" cluster --initial-cluster a=https://10.0.0.1:2380,b=https://10.0.0.2:2380 --client root -o pki
expect_rc "cluster a,b + client root" 0
[ "$RC" = 0 ] || exit 1
cp -a pki clean
LEAVES="a/server a/peer b/server b/peer clients/root"

verify_case "clean cluster" pki 0 ""
expect_contains "clean cluster: summary line" "5 certificate(s) checked against pki/ca/ca.pem and pki/ca/ca.crl: 0 error(s), 0 warning(s)" "$OUT"
verify_case "clean member folder pki/a" pki/a 0 ""
expect_contains "pki/a: its own ca.pem, server and peer" "2 certificate(s) checked against pki/a/ca.pem and pki/a/ca.crl: 0 error(s), 0 warning(s)" "$OUT"
run "$E" verify pki --json
check "verify --json parses (python3 json)" python3 -c 'import json, sys; json.loads(sys.argv[1])' "$OUT"
expect_eq "verify --json: errors 0" 0 "$(json_get "$OUT" 'j["errors"]')"
expect_eq "verify --json: warnings 0" 0 "$(json_get "$OUT" 'j["warnings"]')"
expect_eq "verify --json: every leaf checked" "a/peer.pem a/server.pem b/peer.pem b/server.pem clients/root.pem" \
  "$(json_get "$OUT" '" ".join(sorted(j["checked"]))')"
expect_eq "verify --json: ca_file" pki/ca/ca.pem "$(json_get "$OUT" 'j["ca_file"]')"

before=$(full_state pki)
run "$E" expiry pki
expect_rc "expiry pki (fresh certificates): exit 0" 0
expect_match "expiry: a leaf row with role and CA" 'pki/a/server\.pem +server +[0-9T:Z-]+ +364d [0-9]+h +etcd-ca' "$OUT"
expect_match "expiry: the CA counted once with its copies (clients/ca.pem too)" 'pki/[a-z]+/ca\.pem \(\+3 copies\) +ca ' "$OUT"
expect_contains "expiry: summary" "7 certificate(s) and CRL(s); 0 due" "$OUT"
run "$E" expiry --within 400d pki
expect_rc "expiry --within 400d: exit 1 (the 1-year leaves are due)" 1
expect_contains "expiry --within 400d: 5 due" "5 due (certificates expiring within 400d" "$OUT"
expect_match "expiry --within 400d: due rows are marked" '(^|'$'\n'')! +pki/a/server\.pem' "$OUT"
run "$E" expiry --json pki
expect_rc "expiry --json: exit 0" 0
expect_eq "expiry --json: any_within false" False "$(json_get "$OUT" 'j["any_within"]')"
expect_eq "expiry --json: within_seconds (30d)" 2592000 "$(json_get "$OUT" 'j["within_seconds"]')"
expect_eq "expiry --json: crl_within_seconds (1d)" 86400 "$(json_get "$OUT" 'j["crl_within_seconds"]')"
expect_eq "expiry --json: 7 entries (the CRL cluster made counted once, with its copies)" 7 "$(json_get "$OUT" 'len(j["entries"])')"
expect_eq "expiry --json: sorted by expiry, the CA last" ca "$(json_get "$OUT" 'j["entries"][-1]["role"]')"
expect_eq "expiry --json: the CA's 3 copies (clients/ca.pem too)" 3 "$(json_get "$OUT" 'len(j["entries"][-1]["copies"])')"
expect_eq "expiry --json: roles" "ca client crl peer peer server server" "$(json_get "$OUT" '" ".join(sorted(e["role"] for e in j["entries"]))')"
expect_eq "expiry --json: a/server.pem fields" "CN=a|etcd-ca|server|False" \
  "$(json_get "$OUT" '"|".join(str(x) for e in j["entries"] if e["file"] == "pki/a/server.pem" for x in (e["subject"], e["ca"], e["role"], e["within"]))')"
na=$(cert_not_after pki/a/server.pem)
expect_eq "expiry --json: expires = openssl's notAfter" "$(date -u -d "@$na" +%Y-%m-%dT%H:%M:%SZ)" \
  "$(json_get "$OUT" '[e["expires"] for e in j["entries"] if e["file"] == "pki/a/server.pem"][0]')"
left=$(json_get "$OUT" '[e["seconds_left"] for e in j["entries"] if e["file"] == "pki/a/server.pem"][0]')
now=$(date -u -d "$(json_get "$OUT" 'j["now"]')" +%s)
expect_eq "expiry --json: seconds_left = notAfter - now" "$((na - now))" "$left"
expect_eq "expiry and verify changed nothing" "$before" "$(full_state pki)"

run "$E" inspect pki/a/server.pem
expect_rc "inspect a certificate" 0
expect_contains "inspect: kind" "pki/a/server.pem: certificate" "$OUT"
expect_match "inspect: Subject" 'Subject: +CN=a'$'\n' "$OUT"
expect_match "inspect: Issuer" 'Issuer: +CN=etcd-ca'$'\n' "$OUT"
expect_contains "inspect: SANs" "DNS:a, DNS:localhost, IP:10.0.0.1, IP:127.0.0.1, IP:::1" "$OUT"
expect_match "inspect: EKU" 'Ext key usage: +TLS Web Server Authentication, TLS Web Client Authentication' "$OUT"
expect_match "inspect: time left" 'Not after: +[0-9T:-]+Z \(in 364d [0-9]+h\)' "$OUT"
expect_match "inspect: serial as openssl prints it" "Serial: +$(serial_of pki/a/server.pem | sed 's/../&:/g; s/:$//')"$'\n' "$OUT"
run "$E" inspect pki/a/server.pem pki/a/server-key.pem pki/a/peer-key.pem pki/ca/ca.csr
expect_rc "inspect a certificate, two keys and a CSR" 0
expect_contains "inspect: a key's kind" "pki/a/server-key.pem: private key" "$OUT"
expect_match "inspect: the key matches its certificate" 'Matches: +pki/a/server\.pem' "$OUT"
expect_match "inspect: another key matches none" 'Matches: +none of the certificates given' "$OUT"
expect_contains "inspect: a CSR's kind" "pki/ca/ca.csr: csr" "$OUT"
expect_match "inspect: the CA CSR asks for CA" 'CA: +requested' "$OUT"
fresh q && "$E" crl -d q 2>/dev/null
run "$E" inspect q/ca/ca.crl q/ca/ca-crl.pem
expect_rc "inspect the CRL (DER and PEM)" 0
expect_contains "inspect: a DER CRL's kind" "q/ca/ca.crl: crl" "$OUT"
expect_contains "inspect: a PEM CRL's kind" "q/ca/ca-crl.pem: crl" "$OUT"
expect_match "inspect: the empty CRL" 'Revoked: +0' "$OUT"
expect_match "inspect: the CRL's next update, 7 days" 'Next update: +[0-9T:-]+Z \(in (7d|6d 23h)\)' "$OUT"
openssl x509 -in pki/a/server.pem -outform DER -out server.der
run "$E" inspect --json server.der
der_json=$OUT
run "$E" inspect --json pki/a/server.pem
expect_eq "inspect: a DER certificate reads like its PEM" \
  "$(json_get "$OUT" 'j["sha256_fingerprint"] + j["serial_number"]')" "$(json_get "$der_json" 'j["sha256_fingerprint"] + j["serial_number"]')"

# ======================================================================================================
# 2. verify against certificates broken in each way
# ======================================================================================================
TIME_EXT="$OSCA/a-server.ext"
ext_like clean/a/server.pem >"$TIME_EXT"
# expired: the same key, subject, SANs and usages, valid 60 to 30 days ago.
fresh expired
if os_sign clean/a/server-key.pem /CN=a "$TIME_EXT" "$(when '-60 days')" "$(when '-30 days')" expired/a/server.pem; then pass "openssl ca: an expired copy of a/server.pem"; else fail "openssl ca (expired): $(cat "$OSCA/err")"; fi
for x in subjectAltName extendedKeyUsage keyUsage; do
  expect_eq "expired copy: same $x as the original" "$(cert_ext clean/a/server.pem $x)" "$(cert_ext expired/a/server.pem $x)"
done
expect_eq "expired copy: same subject" "$(cert_subject clean/a/server.pem)" "$(cert_subject expired/a/server.pem)"
verify_case "expired" expired 2 "error a/server.pem expired"
expect_contains "expired: rule and file" "error: a/server.pem: expired: server certificate expired on" "$OUT"
expect_contains "expired: etcd's error" "etcd: x509: certificate has expired or is not yet valid: current time" "$OUT"
expect_match "expired: 'is after' notAfter" 'is after [0-9T:-]+Z' "$OUT"
run "$E" inspect expired/a/server.pem
expect_match "inspect: an expired certificate says EXPIRED" 'Not after: +[0-9T:-]+Z \(EXPIRED ' "$OUT"

fresh future
if os_sign clean/a/server-key.pem /CN=a "$TIME_EXT" "$(when '+30 days')" "$(when '+400 days')" future/a/server.pem; then pass "openssl ca: a not-yet-valid copy"; else fail "openssl ca (future): $(cat "$OSCA/err")"; fi
verify_case "not yet valid" future 2 "error a/server.pem not-yet-valid"
expect_contains "not yet valid: rule" "error: a/server.pem: not-yet-valid: server certificate is not valid until" "$OUT"
expect_contains "not yet valid: says clock skew" "clock skew?" "$OUT"
expect_contains "not yet valid: etcd's error" "x509: certificate has expired or is not yet valid" "$OUT"
expect_match "not yet valid: 'is before' notBefore" 'is before [0-9T:-]+Z' "$OUT"
run "$E" inspect future/a/server.pem
expect_contains "inspect: NOT YET VALID" "(NOT YET VALID: starts" "$OUT"

# wrong SAN: an address the member must answer on that its certificates lack.
fresh san
verify_case "--address 10.9.9.9 (cluster)" san 2 "$(printf '%s\n' 'error a/peer.pem san-missing' 'error a/server.pem san-missing' 'error b/peer.pem san-missing' 'error b/server.pem san-missing')" --address 10.9.9.9
expect_contains "--address: rule and message" "error: a/server.pem: san-missing: server certificate does not cover IP 10.9.9.9" "$OUT"
expect_contains "--address: etcd's error names the valid IP SANs (Go's HostnameError)" "etcd: x509: certificate is valid for 10.0.0.1, 127.0.0.1, ::1, not 10.9.9.9" "$OUT"
verify_case "--address etcd.example.com (member a)" san/a 2 "$(printf '%s\n' 'error peer.pem san-missing' 'error server.pem san-missing')" --address etcd.example.com
expect_contains "--address with a name: message" "does not cover host name etcd.example.com" "$OUT"
expect_contains "--address with a name: etcd's error" "x509: certificate is valid for a, not etcd.example.com" "$OUT"
# The member's etcd.conf.yml advertises an IP its server certificate lacks.
sed -i 's#^advertise-client-urls: "https://10.0.0.1:2379"#advertise-client-urls: "https://10.0.0.99:2379"#' san/a/etcd.conf.yml
check "etcd.conf.yml edited" grep -q 'advertise-client-urls: "https://10.0.0.99:2379"' san/a/etcd.conf.yml
verify_case "etcd.conf.yml advertises 10.0.0.99" san 2 "error a/server.pem san-missing"
expect_contains "advertise URL: message" "error: a/server.pem: san-missing: server certificate does not cover IP 10.0.0.99" "$OUT"
expect_contains "advertise URL: etcd's error" "x509: certificate is valid for 10.0.0.1, 127.0.0.1, ::1, not 10.0.0.99" "$OUT"

# missing EKU: peer.pem (and a new key) signed by the CA with server auth only.
fresh eku
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out eku/a/peer-key.pem 2>/dev/null && chmod 600 eku/a/peer-key.pem
ext_like clean/a/peer.pem serverAuth >"$OSCA/eku.ext"
if os_sign eku/a/peer-key.pem /CN=a "$OSCA/eku.ext" "$(when '-1 hour')" "$(when '+300 days')" eku/a/peer.pem; then pass "openssl ca: a peer certificate with server auth only"; else fail "openssl ca (eku): $(cat "$OSCA/err")"; fi
expect_eq "the new peer.pem has server auth only" "TLS Web Server Authentication" "$(cert_ext eku/a/peer.pem extendedKeyUsage)"
verify_case "peer without client auth" eku 2 "error a/peer.pem peer-eku"
expect_contains "peer EKU: rule and message" "error: a/peer.pem: peer-eku: peer certificate lacks \"client auth\"" "$OUT"
expect_contains "peer EKU: etcd's error" "x509: certificate specifies an incompatible key usage" "$OUT"
expect_contains "peer EKU: the dialer's side" "remote error: tls: bad certificate" "$OUT"
# The same certificate as the server certificate: server-eku.
cp eku/a/peer.pem eku/a/server.pem && cp eku/a/peer-key.pem eku/a/server-key.pem
# (the peer certificate's SANs also lack the client listen address 127.0.0.1)
verify_case "server without client auth" eku 2 "$(printf '%s\n' 'error a/peer.pem peer-eku' 'error a/server.pem san-missing' 'error a/server.pem server-eku')"
expect_contains "server EKU: message" "server certificate lacks \"client auth\": etcd's gRPC gateway dials its own member with it" "$OUT"

# key mismatch: member a's server and peer keys swapped.
fresh swap
mv swap/a/server-key.pem swap/a/tmp-key && mv swap/a/peer-key.pem swap/a/server-key.pem && mv swap/a/tmp-key swap/a/peer-key.pem
verify_case "keys swapped" swap 2 "$(printf '%s\n' 'error a/peer-key.pem key-mismatch' 'error a/server-key.pem key-mismatch')"
expect_contains "key mismatch: rule" "error: a/server-key.pem: key-mismatch: the private key does not belong to the certificate next to it" "$OUT"
expect_contains "key mismatch: etcd's error" "etcd: tls: private key does not match public key" "$OUT"

# foreign CA: a server certificate (and key) from a second `init-ca`.
run "$E" init-ca --out other
expect_rc "a second CA (init-ca --out other)" 0
echo '{"CN":"a","hosts":["a","localhost","10.0.0.1","127.0.0.1","::1"],"key":{"algo":"ecdsa","size":256}}' >other/a.json
run "$E" issue --profile server --ca other/ca.pem --ca-key other/ca-key.pem --out other/leaf other/a.json
expect_rc "a server certificate from the other CA" 0
fresh foreign
cp other/leaf/a.pem foreign/a/server.pem && cp other/leaf/a-key.pem foreign/a/server-key.pem
verify_case "server certificate of another CA" foreign 2 "error a/server.pem chain"
expect_contains "foreign CA: rule" "error: a/server.pem: chain: not signed by the trusted CA CN=etcd-ca" "$OUT"
expect_contains "foreign CA: etcd's error" "x509: certificate signed by unknown authority" "$OUT"
fresh foreign-ca
cp other/ca.pem foreign-ca/b/ca.pem
verify_case "member b trusts another CA" foreign-ca 2 "error b/ca.pem ca-mismatch"
expect_contains "ca-mismatch: message" "this member trusts a different CA than ca/ca.pem" "$OUT"
expect_contains "ca-mismatch: etcd's error" "signed by unknown authority" "$OUT"

# key permissions: world-readable is an error, group-readable a warning.
fresh perm
chmod 644 perm/a/server-key.pem
verify_case "key mode 0644" perm 2 "error a/server-key.pem key-permissions"
expect_contains "0644: message" "error: a/server-key.pem: key-permissions: private key mode is 0644 (readable by every user); chmod 600 it" "$OUT"
chmod 640 perm/a/server-key.pem
verify_case "key mode 0640" perm 1 "warning a/server-key.pem key-permissions"
expect_contains "0640: message" "warning: a/server-key.pem: key-permissions: private key mode is 0640 (wider than 0600)" "$OUT"
expect_contains "0640: summary counts a warning" "0 error(s), 1 warning(s)" "$OUT"
expect_eq "verify did not fix the mode" 640 "$(file_mode perm/a/server-key.pem)"

# key encipherment on an EC key (openssl signs what etcd-pki would drop).
fresh kenc
ext_like clean/a/server.pem "" digitalSignature,keyEncipherment >"$OSCA/kenc.ext"
if os_sign clean/a/server-key.pem /CN=a "$OSCA/kenc.ext" "$(when '-1 hour')" "$(when '+300 days')" kenc/a/server.pem; then pass "openssl ca: EC certificate with key encipherment"; else fail "openssl ca (kenc): $(cat "$OSCA/err")"; fi
expect_eq "the certificate has key encipherment" "critical: Digital Signature, Key Encipherment" "$(cert_ext kenc/a/server.pem keyUsage)"
verify_case "EC key with key encipherment" kenc 1 "warning a/server.pem ec-key-encipherment"
expect_contains "ec-key-encipherment: message" "warning: a/server.pem: ec-key-encipherment: \"key encipherment\" on a ECDSA P-256 key: it only applies to RSA" "$OUT"
expect_contains "ec-key-encipherment: what etcd does" "none (Go ignores it)" "$OUT"

# ======================================================================================================
# 3. inspect --json against cfssl certinfo (1.2.0): ECDSA and RSA, leaves and a CA
# ======================================================================================================
cat >"$WORK/certinfo_cmp.py" <<'EOF'
# certinfo_cmp.py OURS.json CFSSL.json: one "field<TAB>ours<TAB>cfssl" line per certinfo field.
# cfssl 1.2.0 does not zero-pad key-ID bytes ("5C:B:32"); its values are padded before comparing.
import json, sys
ours, theirs = (json.load(open(p)) for p in sys.argv[1:3])
def pad(v):
    return ":".join(b.zfill(2) for b in v.split(":")) if v else v
for f in ["subject", "issuer", "serial_number", "sans", "not_before", "not_after", "sigalg", "pem"]:
    print(f + "\t" + json.dumps(ours.get(f), sort_keys=True) + "\t" + json.dumps(theirs.get(f), sort_keys=True))
for f in ["authority_key_id", "subject_key_id"]:
    print(f + "\t" + json.dumps(ours.get(f)) + "\t" + json.dumps(pad(theirs.get(f))))
EOF
# compare_certinfo LABEL CERT
compare_certinfo() {
  local l=$1 c=$2 f a b n=0
  "$E" inspect --json "$c" >"$RUN_DIR/ours.json" 2>"$RUN_DIR/ours.err" || { fail "$l: etcd-pki inspect --json $c: $(cat "$RUN_DIR/ours.err")"; return; }
  cfssl certinfo -cert "$c" >"$RUN_DIR/cfssl.json" 2>"$RUN_DIR/cfssl.err" || { fail "$l: cfssl certinfo -cert $c: $(cat "$RUN_DIR/cfssl.err")"; return; }
  while IFS=$'\t' read -r f a b; do
    expect_eq "$l: $f as cfssl certinfo" "$b" "$a"
    n=$((n + 1))
  done < <(python3 "$WORK/certinfo_cmp.py" "$RUN_DIR/ours.json" "$RUN_DIR/cfssl.json")
  expect_eq "$l: 10 fields compared" 10 "$n"
}
compare_certinfo "ECDSA server certificate" pki/a/server.pem
compare_certinfo "ECDSA client certificate" pki/clients/root.pem
compare_certinfo "ECDSA CA" pki/ca/ca.pem
echo '{"CN":"rsa-ca","key":{"algo":"rsa","size":2048},"names":[{"C":"US","O":"etcd"}]}' >rsa-ca.json
run "$E" init-ca --out rsa rsa-ca.json
expect_rc "an RSA CA" 0
cat >rsa-leaf.json <<'EOF'
{"CN":"rsa-leaf","hosts":["rsa.example.com","10.1.2.3","2001:db8::7"],"key":{"algo":"rsa","size":2048},
 "names":[{"C":"US","ST":"CA","L":"San Francisco","O":"etcd","OU":"ops"},{"OU":"dev"}]}
EOF
run "$E" issue --profile peer --ca rsa/ca.pem --ca-key rsa/ca-key.pem --out rsa rsa-leaf.json
expect_rc "an RSA leaf with a full subject" 0
compare_certinfo "RSA leaf" rsa/rsa-leaf.pem
compare_certinfo "RSA CA" rsa/ca.pem
# The padding normalization only matters when a key-ID byte is below 0x10; say so when it did.
for c in pki/a/server.pem pki/clients/root.pem pki/ca/ca.pem rsa/rsa-leaf.pem rsa/ca.pem; do
  if cfssl certinfo -cert "$c" 2>/dev/null | grep -Eq '"(authority|subject)_key_id": "([0-9A-F]{1,2}:)*[0-9A-F](:|")'; then echo "# $c: cfssl printed an unpadded key-ID byte"; fi
done

# ======================================================================================================
# 4. revoke and crl
# ======================================================================================================
fresh rv
root_serial=$(serial_of rv/clients/root.pem)
run "$E" revoke rv/clients/root.pem -d rv --reason keyCompromise
expect_rc "revoke clients/root.pem --reason keyCompromise" 0
expect_contains "revoke: says what it did" "etcd-pki: revoked serial $root_serial (keyCompromise); CRL with 1 revoked certificate(s)" "$ERR"
expect_eq "revoke: nothing on stdout" "" "$OUT"
check "ca-index.txt: an R line with the serial and reason" grep -Eq "^R	[0-9]{12}Z	[0-9]{12}Z,keyCompromise	$root_serial	unknown	/CN=root\$" rv/ca/ca-index.txt
expect_eq "ca-index.txt: one R line" 1 "$(grep -c '^R' rv/ca/ca-index.txt)"
expect_eq "ca-index.txt: the other 4 still V" 4 "$(grep -c '^V' rv/ca/ca-index.txt)"
crl_text=$(openssl crl -in rv/ca/ca.crl -inform DER -noout -text 2>&1)
expect_contains "ca.crl (DER): lists the serial" "Serial Number: $root_serial" "$crl_text"
expect_contains "ca.crl (DER): reason Key Compromise" "Key Compromise" "$crl_text"
expect_contains "ca.crl: v2" "Version 2 (0x1)" "$crl_text"
expect_contains "ca.crl: CRL number" "X509v3 CRL Number" "$crl_text"
expect_contains "ca.crl: the CA's AKI" "$(cert_ski rv/ca/ca.pem)" "$crl_text"
check "ca.crl and ca-crl.pem are the same CRL" cmp <(openssl crl -in rv/ca/ca.crl -inform DER -outform DER) <(openssl crl -in rv/ca/ca-crl.pem -outform DER)
run openssl crl -in rv/ca/ca-crl.pem -CAfile rv/ca/ca.pem -noout
expect_rc "openssl crl -CAfile: the CRL's signature verifies" 0
expect_contains "openssl crl: verify OK" "verify OK" "$ERR$OUT"
run openssl verify -crl_check -CRLfile rv/ca/ca-crl.pem -CAfile rv/ca/ca.pem rv/clients/root.pem
expect_rc "openssl verify -crl_check: the revoked client fails" 2
expect_contains "openssl verify: certificate revoked" "certificate revoked" "$ERR$OUT"
run openssl verify -crl_check -CRLfile rv/ca/ca-crl.pem -CAfile rv/ca/ca.pem rv/a/server.pem
expect_rc "openssl verify -crl_check: a member's server.pem passes" 0

# Serial forms, each on another certificate.
colon=$(serial_of rv/b/server.pem | sed 's/../&:/g; s/:$//')
run "$E" revoke "$colon" -d rv --reason superseded
expect_rc "revoke by serial, hex with colons ($colon)" 0
check "b/server.pem: R line, superseded" grep -Eq "^R	.*,superseded	$(serial_of rv/b/server.pem)	" rv/ca/ca-index.txt
hex=$(serial_of rv/b/peer.pem)
run "$E" revoke "0x$(tr 'A-F' 'a-f' <<<"$hex")" -d rv --reason cessationOfOperation
expect_rc "revoke by serial, 0x lower-case hex" 0
check "b/peer.pem: R line, cessationOfOperation" grep -Eq "^R	.*,cessationOfOperation	$hex	" rv/ca/ca-index.txt
dec=$(python3 -c 'import sys; print(int(sys.argv[1], 16))' "$(serial_of rv/a/peer.pem)")
run "$E" revoke "dec:$dec" -d rv
expect_rc "revoke by serial, dec: (cfssl's decimal)" 0
check "a/peer.pem: R line without a reason (unspecified)" grep -Eq "^R	[0-9]{12}Z	[0-9]{12}Z	$(serial_of rv/a/peer.pem)	" rv/ca/ca-index.txt
expect_eq "the CRL now lists 4 serials" 4 "$(openssl crl -in rv/ca/ca.crl -inform DER -noout -text | grep -c 'Serial Number:')"

before=$(full_state rv)
run "$E" revoke 123456789 -d rv
expect_rc "revoke an unknown all-digit serial: exit 2" 2
expect_contains "unknown serial: a clear message" "etcd-pki: error: serial 123456789 is not in rv/ca/ca-index.txt; give the certificate file, or the serial as 0xHEX or dec:DECIMAL" "$ERR"
expect_eq "unknown serial: one line" 1 "$(line_count "$ERR")"
expect_eq "unknown serial: nothing changed" "$before" "$(full_state rv)"
idx_before=$(cat rv/ca/ca-index.txt)
run "$E" revoke rv/clients/root.pem -d rv --reason keyCompromise
expect_rc "revoke an already revoked certificate: exit 0" 0
expect_contains "already revoked: a warning" "etcd-pki: warning: serial $root_serial was already revoked" "$ERR"
expect_eq "already revoked: the index is unchanged" "$idx_before" "$(cat rv/ca/ca-index.txt)"
before=$(full_state rv)
run "$E" revoke other/leaf/a.pem -d rv
expect_rc "revoke a certificate of another CA: exit 6" 6
expect_contains "another CA: says so" "other/leaf/a.pem: was not issued by CN=etcd-ca (rv/ca/ca.pem); it cannot be revoked by this CA" "$ERR"
expect_eq "another CA: nothing changed" "$before" "$(full_state rv)"

verify_case "verify after revoking" rv 2 "$(printf '%s\n' 'error a/peer.pem revoked' 'error b/peer.pem revoked' 'error b/server.pem revoked' 'error clients/root.pem revoked')"
expect_contains "verify: revoked rule and CRL" "error: clients/root.pem: revoked: revoked in ca/ca.crl (serial $root_serial)" "$OUT"
# etcd prints the serial's bytes with %x (pkg/transport): lower case, two digits per byte, so a
# leading 0 digit stays, as openssl prints it (test_etcd_operate.sh and test_etcd_deploy.sh match
# this against real etcd logs).
expect_contains "verify: etcd's message" "certificate serial $(tr 'A-F' 'a-f' <<<"$root_serial") revoked" "$OUT"
run "$E" inspect --crl rv/ca/ca.crl rv/clients/root.pem rv/a/server.pem
expect_rc "inspect --crl" 0
expect_match "inspect --crl: REVOKED with the reason" 'Revoked: +REVOKED on [0-9T:-]+Z, keyCompromise' "$OUT"
expect_match "inspect --crl: the member's server certificate is not" 'Revoked: +no$' "$OUT"
run "$E" inspect --json --crl rv/ca/ca.crl rv/clients/root.pem
expect_eq "inspect --json --crl: revoked true" True "$(json_get "$OUT" 'j["revoked"]')"

serials_before=$(openssl crl -in rv/ca/ca.crl -inform DER -noout -text | grep 'Serial Number:' | sort)
run "$E" crl -d rv --next-update 1h
expect_rc "crl -d rv --next-update 1h" 0
last=$(openssl crl -in rv/ca/ca.crl -inform DER -noout -lastupdate | sed 's/^[^=]*=//')
next=$(openssl crl -in rv/ca/ca.crl -inform DER -noout -nextupdate | sed 's/^[^=]*=//')
expect_eq "crl: nextUpdate = thisUpdate + 1h" 3600 "$(($(date -u -d "$next" +%s) - $(date -u -d "$last" +%s)))"
expect_eq "crl: the same revoked serials" "$serials_before" "$(openssl crl -in rv/ca/ca.crl -inform DER -noout -text | grep 'Serial Number:' | sort)"
check "crl: the PEM copy was rewritten too" cmp <(openssl crl -in rv/ca/ca.crl -inform DER -outform DER) <(openssl crl -in rv/ca/ca-crl.pem -outform DER)
check "crl: still verifies" openssl crl -in rv/ca/ca-crl.pem -CAfile rv/ca/ca.pem -noout

# OpenSSL reads our index: `openssl ca -gencrl` over ca-index.txt gives the same entries.
crl_entries() { openssl crl -in "$1" "${@:2}" -noout -text | awk '/Serial Number:/ { if (s != "") print s; s = $3 } /CRL Reason Code/ { getline; sub(/^ +/, ""); s = s " " $0 } END { if (s != "") print s }' | sort; }
crl_serials() { openssl crl -in "$1" "${@:2}" -noout -text | awk '/Serial Number:/ { print $3 }' | sort; }
# gencrl_conf INDEX [extra line]: the smallest config `openssl ca -gencrl` takes.
gencrl_conf() { printf '[ ca ]\ndefault_ca = x\n[ x ]\ndatabase = %s\ndefault_md = sha256\ndefault_crl_days = 7\n%s\n' "$1" "${2:-}"; }
# A member's server and peer certificates share a subject (/CN=a), so OpenSSL needs
# unique_subject = no (its default is yes); docs/operate.md says so.
# With unique_subject = no, on the index with 4 revocations and 3 reasons.
gencrl_conf "$WORK/rv/ca/ca-index.txt" "unique_subject = no" >gencrl.cnf
before=$(full_state rv)
run openssl ca -config gencrl.cnf -gencrl -cert rv/ca/ca.pem -keyfile rv/ca/ca-key.pem -out openssl.crl
expect_rc "openssl ca -gencrl (unique_subject = no) reads ca-index.txt" 0
expect_eq "openssl ca -gencrl left the PKI alone" "$before" "$(full_state rv)"
expect_eq "openssl's CRL has the same revoked serials" "$(crl_serials rv/ca/ca.crl -inform DER)" "$(crl_serials openssl.crl)"
expect_eq "openssl's CRL has the same reasons" "$(crl_entries rv/ca/ca.crl -inform DER)" "$(crl_entries openssl.crl)"
expect_eq "4 revoked in both" 4 "$(crl_serials openssl.crl | wc -l)"

# ======================================================================================================
# 5. renew
# ======================================================================================================
fresh rn
declare -A OLD_SERIAL OLD_PUB
for n in $LEAVES; do OLD_SERIAL[$n]=$(serial_of rn/$n.pem); OLD_PUB[$n]=$(pubkey_of_cert rn/$n.pem); done
run "$E" renew rn
expect_rc "renew rn (every leaf)" 0
expect_contains "renew: summary" "etcd-pki: renewed 5, not due 0" "$ERR"
expect_eq "renew: nothing on stdout" "" "$OUT"
renew_err=$ERR
for n in $LEAVES; do
  new=$(serial_of rn/$n.pem)
  check "$n: a new serial" test "$new" != "${OLD_SERIAL[$n]}"
  expect_contains "$n: renew names the new serial" "renewed rn/$n.pem (serial $new," "$renew_err"
  for x in subjectAltName extendedKeyUsage keyUsage basicConstraints; do
    expect_eq "$n: same $x" "$(cert_ext clean/$n.pem $x)" "$(cert_ext rn/$n.pem $x)"
  done
  expect_eq "$n: same subject" "$(cert_subject clean/$n.pem RFC2253,show_type)" "$(cert_subject rn/$n.pem RFC2253,show_type)"
  expect_eq "$n: same issuer" "$(cert_issuer clean/$n.pem)" "$(cert_issuer rn/$n.pem)"
  expect_eq "$n: same lifetime" "$(cert_validity clean/$n.pem)" "$(cert_validity rn/$n.pem)"
  check "$n: a new key" test "$(pubkey_of_cert rn/$n.pem)" != "${OLD_PUB[$n]}"
  check "$n: the new key belongs to the new certificate" same_public_key rn/$n.pem rn/$n-key.pem
  check "$n: openssl verifies the chain" openssl verify -CAfile rn/ca/ca.pem rn/$n.pem
  base=${n##*/}
  expect_eq "$n: the certificate is a symlink into .etcd-pki" ".etcd-pki/$base.pem.current/$base.pem" "$(readlink rn/$n.pem)"
  expect_eq "$n: the key is a symlink into .etcd-pki" ".etcd-pki/$base.pem.current/$base-key.pem" "$(readlink rn/$n-key.pem)"
  expect_eq "$n: the key file behind it is 0600" 600 "$(stat -L -c %a rn/$n-key.pem)"
  backup=$(sed -n "s#^etcd-pki: renewed rn/$n\.pem (.*previous pair kept in \(.*\))\$#\1#p" <<<"$renew_err")
  check "$n: the backup folder is under .etcd-pki" test -d "$backup"
  check "$n: the backup holds the old certificate, byte for byte" cmp "$backup/$base.pem" clean/$n.pem
  check "$n: the backup holds the old key, byte for byte" cmp "$backup/$base-key.pem" clean/$n-key.pem
  check "ca-index.txt: the new serial of $n" grep -Eq "^V	[0-9]{12}Z		$new	unknown	" rn/ca/ca-index.txt
  check "ca-index.txt: the old serial of $n is still there" grep -q "	${OLD_SERIAL[$n]}	" rn/ca/ca-index.txt
done
for m in a b; do
  ok=0 bad=0
  while read -r name sum _; do
    [[ $name == \#* || -z $name ]] && continue
    if [ "sha256:$(sha_of rn/$m/$name | tr a-f A-F)" = "$sum" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "# MANIFEST $m/$name: $sum"; fi
  done <rn/$m/MANIFEST
  expect_eq "$m/MANIFEST: every sha256 line matches sha256sum of the file (10 files)" "10 0" "$ok $bad"
done
verify_case "verify after renew" rn 0 ""
run "$E" expiry --json rn
expect_eq "expiry skips the .etcd-pki backups (still 7 entries)" 7 "$(json_get "$OUT" 'len(j["entries"])')"

# --reuse-key: a new certificate for the same key.
pub=$(pubkey_of_cert rn/a/server.pem); ser=$(serial_of rn/a/server.pem)
run "$E" renew rn/a/server.pem -d rn --reuse-key
expect_rc "renew --reuse-key a/server.pem" 0
expect_eq "--reuse-key: the same public key" "$pub" "$(pubkey_of_cert rn/a/server.pem)"
expect_eq "--reuse-key: the key file holds that key" "$pub" "$(pubkey_of_key rn/a/server-key.pem)"
check "--reuse-key: a new serial" test "$(serial_of rn/a/server.pem)" != "$ser"

# --within 30d: nothing is due on year-long certificates; nothing changes.
before=$(full_state rn)
run "$E" renew rn --within 30d
expect_rc "renew --within 30d" 0
expect_contains "--within 30d: renews nothing" "etcd-pki: renewed 0, not due 5" "$ERR"
expect_contains "--within 30d: says not due" "etcd-pki: not due: rn/a/server.pem" "$ERR"
expect_eq "--within 30d: nothing changed" "$before" "$(full_state rn)"

# A revoked certificate is not renewed (the others are).
fresh rr
run "$E" revoke rr/clients/root.pem -d rr
expect_rc "revoke clients/root.pem before renewing" 0
root_before=$(sha_of rr/clients/root.pem)
run "$E" renew rr
expect_rc "renew with a revoked certificate: exit 0" 0
expect_contains "renew: a warning for the revoked certificate" "etcd-pki: warning: rr/clients/root.pem: revoked on" "$ERR"
expect_contains "renew: not renewed" "not renewed (issue a new certificate deliberately" "$ERR"
expect_contains "renew: the other 4 renewed" "etcd-pki: renewed 4, not due 1" "$ERR"
expect_eq "the revoked certificate is unchanged" "$root_before" "$(sha_of rr/clients/root.pem)"
check "the revoked certificate is still a regular file" test ! -L rr/clients/root.pem

# Errors leave every file unchanged (all targets are checked before anything is written).
fresh rk
mv rk/b/server-key.pem rk/b/tmp-key && mv rk/b/peer-key.pem rk/b/server-key.pem && mv rk/b/tmp-key rk/b/peer-key.pem
before=$(full_state rk)
run "$E" renew rk
expect_rc "renew with swapped keys in b: exit 5 (key)" 5
expect_contains "swapped keys: names the key and certificate" "the key does not match the certificate rk/b/peer.pem; not renewed" "$ERR"
expect_eq "swapped keys: no file changed, not even member a's" "$before" "$(full_state rk)"
fresh rf
cp other/leaf/a.pem rf/a/server.pem && cp other/leaf/a-key.pem rf/a/server-key.pem
before=$(full_state rf)
run "$E" renew rf
expect_rc "renew a certificate of another CA: exit 6" 6
expect_contains "another CA: says so" "rf/a/server.pem: was not issued by CN=etcd-ca (rf/ca/ca.pem); not renewed" "$ERR"
expect_eq "another CA: no file changed" "$before" "$(full_state rf)"
run "$E" renew rf/a/peer.pem --ca other/ca.pem --ca-key other/ca-key.pem
expect_rc "renew with the wrong CA given: exit 6" 6
expect_eq "wrong CA: no file changed" "$before" "$(full_state rf)"

# ---- atomicity, from the outside ---------------------------------------------------------------------
# A reader reads server.pem, server-key.pem, server.pem again (as etcd does per handshake, plus a
# re-read to know the certificate did not change meanwhile) while the foreground renews
# a/server.pem 30 times with new keys. Every snapshot whose two certificate reads are equal must
# pair that certificate with ITS key. If the library renamed the key and then the certificate
# (or wrote them in place), a snapshot taken between the two steps reads old cert, new key, old
# cert and is counted as a mismatch; the control at the end proves the checker flags such a
# snapshot. (Hitting that window is likely but not certain over 30 swaps; correct code passes
# every time, so this part never fails spuriously.) After each renew the foreground waits (on a
# FIFO, not a clock) until the reader has completed a full read of the new state, so each of the
# 31 generations is seen at least once; every generation is copied out of .etcd-pki right after
# it is made (renew keeps only the current and the previous one).
cat >"$WORK/reader.py" <<'EOF'
import hashlib, json, os, sys
cert, key, reqf, ackfifo, out = sys.argv[1:6]
def h(p):
    with open(p, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
pairs, torn, errors, acked = {}, 0, [], None
ack = open(ackfifo, "w", buffering=1)
while True:
    try:
        with open(reqf) as f:
            req = f.read().strip()
    except OSError:
        req = None
    try:
        c1 = h(cert); k = h(key); c2 = h(cert)
    except OSError as e:
        errors.append(str(e))
    else:
        if c1 == c2:
            pairs[c1 + " " + k] = pairs.get(c1 + " " + k, 0) + 1
        else:
            torn += 1
    if req is not None and req != acked:
        acked = req
        ack.write(req + "\n")
        if req == "stop":
            break
json.dump({"pairs": pairs, "torn": torn, "errors": errors}, open(out, "w"))
EOF
cat >"$WORK/pairs_check.py" <<'EOF'
# pairs_check.py SNAPSHOTS.json GENS_DIR: "snapshots mismatched generations_seen generations torn errors"
import hashlib, json, os, sys
snap = json.load(open(sys.argv[1]))
def h(p):
    with open(p, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
key_of = {}
for g in os.listdir(sys.argv[2]):
    d = os.path.join(sys.argv[2], g)
    key_of[h(os.path.join(d, "server.pem"))] = h(os.path.join(d, "server-key.pem"))
total = mismatched = 0
seen = set()
for pair, n in snap["pairs"].items():
    c, k = pair.split()
    total += n
    seen.add(c)
    if key_of.get(c) != k:  # a certificate of no generation counts as a mismatch too
        mismatched += n
print(total, mismatched, len(seen), len(key_of), snap["torn"], len(snap["errors"]))
EOF
fresh at
mkdir gens && mkfifo ack.fifo
echo 0 >req
python3 "$WORK/reader.py" at/a/server.pem at/a/server-key.pem req ack.fifo snapshots.json &
reader=$!
exec 3<>ack.fifo  # read-write: opening never blocks, even if the reader died
# sync_reader TOKEN: ask the reader for a full read started after now; wait for its answer.
sync_reader() {
  local got
  echo "$1" >req.tmp && mv req.tmp req
  while read -r -t 60 got <&3; do [ "$got" = "$1" ] && return 0; done
  return 1
}
renew_fail=0 sync_fail=0
sync_reader 0 || sync_fail=$((sync_fail + 1))
for i in $(seq 1 30); do
  "$E" renew at/a/server.pem -d at 2>>"$RUN_DIR/renew30.err" || renew_fail=$((renew_fail + 1))
  for g in at/a/.etcd-pki/server.pem.[0-9]*; do [ -e "gens/${g##*/}" ] || cp -a "$g" gens/; done
  sync_reader "$i" || sync_fail=$((sync_fail + 1))
done
sync_reader stop || sync_fail=$((sync_fail + 1))
wait "$reader"
expect_eq "reader exited cleanly" 0 "$?"
exec 3<&-
expect_eq "30 renewals of a/server.pem, all exit 0" 0 "$renew_fail"
expect_eq "the reader answered every sync" 0 "$sync_fail"
expect_eq "31 generations kept aside (the original + 30)" 31 "$(ls gens | wc -l)"
check "generation 1 is the original pair" cmp gens/"$(ls gens | head -n 1)"/server.pem clean/a/server.pem
# Each generation is itself a matching pair (public-key SHA-256 of certificate and key agree).
gen_check=$("$E" inspect --json gens/*/server.pem gens/*/server-key.pem | python3 -c 'import collections, json, sys
fps = collections.defaultdict(set)
for item in json.load(sys.stdin):
    fps[item["file"].rsplit("/", 1)[0]].add(item["public_key_sha256"])
print(sum(len(v) != 1 for v in fps.values()), len(fps))')
expect_eq "every generation's key belongs to its certificate (bad, checked)" "0 31" "$gen_check"
read -r snaps mism seen ngens torn errs <<<"$(python3 "$WORK/pairs_check.py" snapshots.json gens)"
echo "# reader: $snaps consistent snapshots, $torn torn (certificate changed between the reads), $seen generations seen"
check "the reader took snapshots (>0)" test "${snaps:-0}" -gt 0
expect_eq "no snapshot pairs a certificate with another generation's key" 0 "$mism"
expect_eq "the reader saw all 31 generations" 31 "$seen"
expect_eq "no read failed (no missing file at any instant)" 0 "$errs"
# Control: the checker flags a new certificate read with the previous key.
python3 - gens snapshots.json control.json <<'EOF'
import hashlib, json, os, sys
gens = sorted(os.listdir(sys.argv[1]))
h = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
snap = json.load(open(sys.argv[2]))
new_cert = h(os.path.join(sys.argv[1], gens[-1], "server.pem"))
old_key = h(os.path.join(sys.argv[1], gens[-2], "server-key.pem"))
snap["pairs"][new_cert + " " + old_key] = 1
json.dump(snap, open(sys.argv[3], "w"))
EOF
read -r _ cmism _ <<<"$(python3 "$WORK/pairs_check.py" control.json gens)"
expect_eq "control: a torn pair (new cert, old key) is detected" $((mism + 1)) "$cmism"
check "after 30 renewals the pair on disk matches" same_public_key at/a/server.pem at/a/server-key.pem
expect_eq "after 30 renewals: two generations kept" 2 "$(find at/a/.etcd-pki -maxdepth 1 -type d -name 'server.pem.[0-9]*' | wc -l)"
verify_case "verify after 30 renewals" at 0 ""

# ======================================================================================================
# 6. Bad input for the new commands: one error line, the documented code, nothing written
# ======================================================================================================
# bad LABEL CODE NEEDLE cmd...
bad() {
  local l=$1 code=$2 needle=$3 before; shift 3
  before=$(full_state .)
  run "$@"
  expect_rc "$l: exit $code" "$code"
  expect_eq "$l: one line on stderr" 1 "$(line_count "$ERR")"
  expect_contains "$l: message" "etcd-pki: error: $needle" "$ERR"
  expect_eq "$l: nothing on stdout" "" "$OUT"
  expect_eq "$l: nothing changed" "$before" "$(full_state .)"
}
mkdir badin && cd badin || exit 1
cp -a ../clean pki
echo "this is not a certificate" >garbage.pem
bad "inspect a missing file (input: missing input files are 3, as for CSR JSON)" 3 "no-such.pem: cannot read: No such file or directory" "$E" inspect no-such.pem
bad "inspect garbage" 3 "garbage.pem: no certificate, CSR, key or CRL found (PEM or DER)" "$E" inspect garbage.pem
bad "inspect a folder" 9 "pki: is a folder, not a file" "$E" inspect pki
bad "verify a file, not a folder" 2 "garbage.pem: not a folder (give a member bundle folder or a cluster output folder)" "$E" verify garbage.pem
bad "verify a missing path" 3 "no-such: no such folder" "$E" verify no-such
bad "verify --warn-within bogus (a bad duration is a config error)" 4 '--warn-within: invalid duration "soon"' "$E" verify pki --warn-within soon
bad "expiry of a missing path" 3 "no-such: no such file or folder" "$E" expiry pki no-such
bad "renew --expiry 10x (a bad duration is a config error, docs/cli.md)" 4 '--expiry: invalid duration "10x"' "$E" renew pki --expiry 10x
bad "renew --expiry 0" 2 "--expiry: must be positive" "$E" renew pki --expiry 0
bad "renew --expiry -1h" 2 "--expiry: must not be negative" "$E" renew pki --expiry -1h
bad "renew a folder without certificates" 2 "pki/ca: no certificate with its key found to renew" "$E" renew pki/ca
bad "revoke --reason bogus" 2 '--reason: unknown revocation reason "bogus" (use one of: unspecified, keyCompromise' "$E" revoke pki/clients/root.pem -d pki --reason bogus
bad "revoke an invalid serial" 2 'invalid serial number "zz:11"' "$E" revoke zz:11 -d pki
bad "crl --next-update 0" 2 "--next-update: the next update must be in the future" "$E" crl -d pki --next-update 0
bad "crl without a CA" 6 "nope/ca/ca.pem: cannot read: No such file or directory" "$E" crl -d nope
cd "$WORK" || exit 1

#!/usr/bin/env bash
# Seed 000 (shared/seeds/000_*.txt, fixtures in tests/data/fixtures/seed-etcd-single): the cfssl
# workflow run unchanged, with cfssl -> etcd-pki and cfssljson -> etcd-pki json, then the same PKI
# from the native commands (init-ca, issue). Every file is checked field by field with openssl,
# and the certificates are finally used by a real etcd (https, client-cert-auth) and etcdctl.
source "$(dirname "$0")/lib.sh"
SEED="$FIXTURES/seed-etcd-single"
E="$ETCD_PKI"

CA_SUBJECT="CN=Etcd,OU=System,O=Etcd,L=BeiJing,ST=BeiJing,C=CN"
LEAF_SUBJECT="CN=etcd,OU=System,O=ETCD,L=beijing,ST=BeiJing,C=CN"
LEAF_SANS="IP Address:127.0.0.1, IP Address:10.20.13.10, IP Address:10.20.13.11, IP Address:10.20.13.12"
H=3600

# check_seed_set DIR LABEL: ca.pem, ca-key.pem, ca.csr, etcd.pem, etcd-key.pem, etcd.csr as the
# seed expects them (CA from ca-csr.json, one etcd certificate for server, peer and client use).
check_seed_set() {
  local d=$1 l=$2 f
  for f in ca.pem ca-key.pem ca.csr etcd.pem etcd-key.pem etcd.csr; do
    check "$l: $f written" test -s "$d/$f"
  done
  # (ca-index.txt, the CA's issued index, is checked where `issue` writes it.)
  expect_eq "$l: exactly the six PKI files plus the three JSON inputs" \
    "ca-config.json ca-csr.json ca-key.pem ca.csr ca.pem etcd-csr.json etcd-key.pem etcd.csr etcd.pem" \
    "$(cd "$d" && ls -A | grep -v -x ca-index.txt | sort | tr '\n' ' ' | sed 's/ $//')"
  expect_eq "$l: ca-key.pem mode" 600 "$(file_mode "$d/ca-key.pem")"
  expect_eq "$l: etcd-key.pem mode" 600 "$(file_mode "$d/etcd-key.pem")"
  for f in ca.pem ca.csr etcd.pem etcd.csr; do expect_eq "$l: $f mode" 644 "$(file_mode "$d/$f")"; done
  expect_eq "$l: CA key is PKCS#1 RSA like cfssl's" "-----BEGIN RSA PRIVATE KEY-----" "$(pem_label "$d/ca-key.pem")"
  expect_eq "$l: etcd key is PKCS#1 RSA like cfssl's" "-----BEGIN RSA PRIVATE KEY-----" "$(pem_label "$d/etcd-key.pem")"
  expect_eq "$l: etcd.csr PEM type" "-----BEGIN CERTIFICATE REQUEST-----" "$(pem_label "$d/etcd.csr")"

  # The chain and the purposes etcd needs: the one certificate serves clients and peers.
  check "$l: etcd.pem verifies as a TLS server cert" verify_purpose "$d/ca.pem" "$d/etcd.pem" sslserver
  check "$l: etcd.pem verifies as a TLS client cert" verify_purpose "$d/ca.pem" "$d/etcd.pem" sslclient
  check "$l: etcd.pem valid for IP 10.20.13.11" verify_purpose "$d/ca.pem" "$d/etcd.pem" sslserver -verify_ip 10.20.13.11
  check "$l: etcd.pem valid for IP 127.0.0.1" verify_purpose "$d/ca.pem" "$d/etcd.pem" sslserver -verify_ip 127.0.0.1
  if verify_purpose "$d/ca.pem" "$d/etcd.pem" sslserver -verify_ip 10.20.13.13; then
    fail "$l: etcd.pem must not be valid for 10.20.13.13"
  else pass "$l: etcd.pem is not valid for an IP outside hosts"; fi
  check "$l: ca.pem is self-signed and trusted" verify_purpose "$d/ca.pem" "$d/ca.pem" any
  check "$l: ca-key.pem belongs to ca.pem" same_public_key "$d/ca.pem" "$d/ca-key.pem"
  check "$l: etcd-key.pem belongs to etcd.pem" same_public_key "$d/etcd.pem" "$d/etcd-key.pem"
  if same_public_key "$d/etcd.pem" "$d/ca-key.pem"; then fail "$l: etcd.pem must not carry the CA key"
  else pass "$l: etcd.pem has its own key"; fi

  # The CA.
  expect_eq "$l: CA subject" "$CA_SUBJECT" "$(cert_subject "$d/ca.pem")"
  expect_eq "$l: CA issuer = subject" "$CA_SUBJECT" "$(cert_issuer "$d/ca.pem")"
  expect_eq "$l: CA key usage" "critical: Certificate Sign, CRL Sign" "$(cert_ext "$d/ca.pem" keyUsage)"
  expect_eq "$l: CA has no EKU" "" "$(cert_ext "$d/ca.pem" extendedKeyUsage)"
  expect_eq "$l: CA basic constraints" "critical: CA:TRUE" "$(cert_ext "$d/ca.pem" basicConstraints)"
  expect_eq "$l: CA has no SAN (no hosts)" "" "$(cert_ext "$d/ca.pem" subjectAltName)"
  expect_eq "$l: CA validity is cfssl's 43800h" $((43800 * H)) "$(cert_validity "$d/ca.pem")"
  expect_eq "$l: CA key" "rsa 2048" "$(cert_key "$d/ca.pem")"
  expect_eq "$l: CA signature" sha256WithRSAEncryption "$(cert_sigalg "$d/ca.pem")"
  expect_match "$l: CA has an SKI" '^([0-9A-F]{2}:){19}[0-9A-F]{2}$' "$(cert_ski "$d/ca.pem")"
  expect_eq "$l: self-signed CA has no AKI (as cfssl)" "" "$(cert_aki "$d/ca.pem")"
  expect_eq "$l: ca.csr subject" "$CA_SUBJECT" "$(csr_subject "$d/ca.csr")"
  check "$l: ca.csr signature verifies" csr_signature_ok "$d/ca.csr"

  # The etcd certificate.
  expect_eq "$l: etcd subject" "$LEAF_SUBJECT" "$(cert_subject "$d/etcd.pem")"
  expect_eq "$l: etcd issuer = CA subject" "$CA_SUBJECT" "$(cert_issuer "$d/etcd.pem")"
  expect_eq "$l: etcd SANs (exactly the four IPs, CN not added)" "$LEAF_SANS" "$(cert_ext "$d/etcd.pem" subjectAltName)"
  expect_eq "$l: etcd key usage" "critical: Digital Signature, Key Encipherment" "$(cert_ext "$d/etcd.pem" keyUsage)"
  expect_eq "$l: etcd EKU" "TLS Web Server Authentication, TLS Web Client Authentication" \
    "$(cert_ext "$d/etcd.pem" extendedKeyUsage)"
  expect_eq "$l: etcd basic constraints" "critical: CA:FALSE" "$(cert_ext "$d/etcd.pem" basicConstraints)"
  expect_eq "$l: etcd key" "rsa 2048" "$(cert_key "$d/etcd.pem")"
  expect_eq "$l: etcd signature" sha256WithRSAEncryption "$(cert_sigalg "$d/etcd.pem")"
  expect_eq "$l: etcd AKI = CA SKI" "$(cert_ski "$d/ca.pem")" "$(cert_aki "$d/etcd.pem")"
  expect_match "$l: etcd has an SKI" '^([0-9A-F]{2}:){19}[0-9A-F]{2}$' "$(cert_ski "$d/etcd.pem")"
  # Validity: the profile asks for 87600h, the CA only lives 43800h -> capped at the CA's notAfter.
  local ca_nb ca_na nb na
  ca_nb=$(cert_not_before "$d/ca.pem"); ca_na=$(cert_not_after "$d/ca.pem")
  nb=$(cert_not_before "$d/etcd.pem"); na=$(cert_not_after "$d/etcd.pem")
  expect_eq "$l: etcd notAfter capped at the CA notAfter" "$ca_na" "$na"
  check "$l: etcd validity shorter than the 87600h asked for" test $((na - nb)) -lt $((87600 * H))
  check "$l: etcd notBefore not before the CA's" test "$nb" -ge "$ca_nb"
  check "$l: etcd notBefore within minutes of the CA's" test $((nb - ca_nb)) -le 600
  check "$l: notBefore is on a whole minute (cfssl rounds)" test $((nb % 60)) -eq 0
  expect_eq "$l: etcd.csr subject" "$LEAF_SUBJECT" "$(csr_subject "$d/etcd.csr")"
  expect_eq "$l: etcd.csr SANs" "$LEAF_SANS" "$(csr_ext "$d/etcd.csr" "Subject Alternative Name")"
  expect_eq "$l: etcd.csr signature" sha256WithRSAEncryption "$(csr_sigalg "$d/etcd.csr")"
  check "$l: etcd.csr signature verifies" csr_signature_ok "$d/etcd.csr"
  expect_eq "$l: etcd.csr holds the etcd key" "$(openssl pkey -in "$d/etcd-key.pem" -pubout 2>/dev/null)" \
    "$(openssl req -in "$d/etcd.csr" -noout -pubkey 2>/dev/null)"
}

# ---- 1. the seed, word for word, with etcd-pki standing in for cfssl and cfssljson ----------------
cfssl() { "$ETCD_PKI" "$@"; }
cfssljson() { "$ETCD_PKI" json "$@"; }

mkdir seed && cd seed || exit 1
cfssl print-defaults config > ca-config.json
cfssl print-defaults csr > ca-csr.json
expect_eq "print-defaults config is byte-identical to cfssl's" "$(command cfssl print-defaults config | sha256sum)" \
  "$(sha256sum <ca-config.json)"
expect_eq "print-defaults csr is byte-identical to cfssl's" "$(command cfssl print-defaults csr | sha256sum)" \
  "$(sha256sum <ca-csr.json)"
check "print-defaults output ends with an empty line, as cfssl's" test "$(tail -c 2 ca-csr.json | od -An -c | tr -d ' ')" = '\n\n'
# The seed then overwrites both with its own files (the fixtures), and adds etcd-csr.json.
cp "$SEED/ca-config.json" "$SEED/ca-csr.json" "$SEED/etcd-csr.json" .

cfssl gencert -initca ca-csr.json 2>"$RUN_DIR/initca.err" | cfssljson -bare ca - 2>"$RUN_DIR/json-ca.err"
st=("${PIPESTATUS[@]}")
expect_eq "gencert -initca | json -bare ca - succeeds" "0 0" "${st[*]}"
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=Etcd etcd-csr.json 2>"$RUN_DIR/gencert.err" | cfssljson -bare etcd 2>"$RUN_DIR/json-etcd.err"
st=("${PIPESTATUS[@]}")
expect_eq "gencert -ca ... -profile=Etcd | json -bare etcd succeeds" "0 0" "${st[*]}"
ERR=$(cat "$RUN_DIR/gencert.err")
expect_match "gencert warns that the 87600h leaf is capped at the CA's notAfter" \
  'warning: etcd-csr.json: .*capped at the CA.s notAfter' "$ERR"
expect_eq "the warning is one line" 1 "$(line_count "$ERR")"
expect_eq "initca prints no warning for the seed CA" "" "$(grep -i warning "$RUN_DIR/initca.err")"
expect_eq "json reports the files it wrote" "etcd-pki: wrote etcd.pem, etcd-key.pem, etcd.csr" "$(cat "$RUN_DIR/json-etcd.err")"
cd .. || exit 1
check_seed_set seed "gencert|json"

# ---- 2. the same with the native commands ---------------------------------------------------------
mkdir native && cd native || exit 1
cp "$SEED/ca-config.json" "$SEED/ca-csr.json" "$SEED/etcd-csr.json" .
run "$E" init-ca ca-csr.json
expect_rc "init-ca ca-csr.json" 0
expect_eq "init-ca names what it wrote" "etcd-pki: wrote ca.pem, ca-key.pem, ca.csr" "$ERR"
expect_eq "init-ca prints nothing on stdout" "" "$OUT"
run "$E" issue --profile Etcd --config ca-config.json etcd-csr.json
expect_rc "issue --profile Etcd --config ca-config.json etcd-csr.json (CA defaults to ./ca.pem)" 0
expect_match "issue warns about the capped validity" 'warning: etcd-csr.json: profile "Etcd" .*capped' "$ERR"
expect_match "issue names the files (etcd-csr.json -> etcd.*)" 'wrote etcd.pem, etcd-key.pem, etcd.csr$' "$ERR"
serial=$(openssl x509 -in etcd.pem -noout -serial | sed 's/^serial=//')
expect_eq "issue records the certificate in ca-index.txt (OpenSSL's index format)" "V ${serial} unknown /C=CN/ST=BeiJing/L=beijing/O=ETCD/OU=System/CN=etcd" \
  "$(awk -F'\t' '{print $1, $4, $5, $6}' ca-index.txt)"
cd .. || exit 1
check_seed_set native native
# Both ways give the same certificate fields (only keys, serials and signatures differ).
for f in ca.pem etcd.pem; do
  for ext in keyUsage extendedKeyUsage basicConstraints subjectAltName; do
    expect_eq "native = gencert: $f $ext" "$(cert_ext seed/$f $ext)" "$(cert_ext native/$f $ext)"
  done
  expect_eq "native = gencert: $f subject (with string types)" "$(cert_subject seed/$f RFC2253,show_type)" \
    "$(cert_subject native/$f RFC2253,show_type)"
done
if cmp -s seed/etcd-key.pem native/etcd-key.pem; then fail "two runs must make two different keys"
else pass "every run makes a fresh key"; fi
if [ "$(openssl x509 -in seed/etcd.pem -noout -serial)" != "$(openssl x509 -in native/etcd.pem -noout -serial)" ]; then
  pass "serials differ between runs"
else fail "serials differ between runs"; fi
serial=$(openssl x509 -in native/etcd.pem -noout -serial | sed 's/^serial=//')
expect_match "serial is at most 20 octets (a 20-octet one has the top bit clear)" '^([0-7][0-9A-F]{39}|[0-9A-F]{1,38})$' "$serial"
expect_not_contains "serial is positive" "Negative" "$(x509_text native/etcd.pem | grep -A1 'Serial Number')"

# ---- 3. the seed's goal: etcd serves https with these files and demands client certificates ---------
ETCD_PID=""
stop_etcd() {
  [ -n "$ETCD_PID" ] || return 0
  kill -TERM "$ETCD_PID" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$ETCD_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$ETCD_PID" 2>/dev/null
  wait "$ETCD_PID" 2>/dev/null
  ETCD_PID=""
}
trap 'rc=$?; stop_etcd; (exit $rc); _finish' EXIT

if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
  fail "etcd and etcdctl are installed"
else
  P=seed CPORT=22379 PPORT=22380
  etcd --name etcd-1 --data-dir "$RUN_DIR/etcd-data" \
    --listen-client-urls "https://127.0.0.1:$CPORT" --advertise-client-urls "https://127.0.0.1:$CPORT" \
    --listen-peer-urls "https://127.0.0.1:$PPORT" --initial-advertise-peer-urls "https://127.0.0.1:$PPORT" \
    --initial-cluster "etcd-1=https://127.0.0.1:$PPORT" --initial-cluster-token seed-e2e --initial-cluster-state new \
    --cert-file "$P/etcd.pem" --key-file "$P/etcd-key.pem" --client-cert-auth --trusted-ca-file "$P/ca.pem" \
    --peer-cert-file "$P/etcd.pem" --peer-key-file "$P/etcd-key.pem" --peer-client-cert-auth \
    --peer-trusted-ca-file "$P/ca.pem" >"$RUN_DIR/etcd.log" 2>&1 &
  ETCD_PID=$!
  ctl() { ETCDCTL_API=3 etcdctl --endpoints "https://127.0.0.1:$CPORT" --dial-timeout 2s --command-timeout "${CTL_TIMEOUT:-5s}" "$@"; }
  healthy=0
  for _ in $(seq 1 150); do  # poll (up to ~30 s) instead of assuming a start-up time
    kill -0 "$ETCD_PID" 2>/dev/null || break
    if ctl --cacert "$P/ca.pem" --cert "$P/etcd.pem" --key "$P/etcd-key.pem" endpoint health >/dev/null 2>&1; then
      healthy=1; break
    fi
    sleep 0.2
  done
  if [ $healthy = 1 ]; then pass "etcd starts with the seed certificates and etcdctl (mTLS) reports healthy"
  else fail "etcd healthy with the seed certificates; log: $(tail -n 5 "$RUN_DIR/etcd.log")"; fi
  run ctl --cacert "$P/ca.pem" --cert "$P/etcd.pem" --key "$P/etcd-key.pem" put seed-key seed-value
  expect_rc "etcdctl put over mTLS" 0
  run ctl --cacert "$P/ca.pem" --cert "$P/etcd.pem" --key "$P/etcd-key.pem" get seed-key --print-value-only
  expect_eq "etcdctl get returns the value" seed-value "$OUT"
  CTL_TIMEOUT=2s run ctl --cacert "$P/ca.pem" get seed-key
  if [ "$RC" != 0 ]; then pass "etcd refuses a client without a certificate (client-cert-auth)"
  else fail "etcd must refuse a client without a certificate"; fi
  CTL_TIMEOUT=2s run ctl --cacert native/ca.pem --cert native/etcd.pem --key native/etcd-key.pem get seed-key
  if [ "$RC" != 0 ]; then pass "a certificate from another CA is refused (each run makes its own CA)"
  else fail "a certificate from another CA must be refused"; fi
  run ctl --cacert "$P/ca.pem" --cert "$P/etcd.pem" --key "$P/etcd-key.pem" get seed-key --print-value-only
  expect_eq "etcd still serves the right certificate after the refusals" seed-value "$OUT"
  stop_etcd
fi

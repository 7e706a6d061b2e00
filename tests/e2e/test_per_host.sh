#!/usr/bin/env bash
# Per-host layout (tests/data/fixtures/seed-per-host, etcd's hack/tls-setup style): one CA, one
# server certificate for all members, one peer certificate per member, one client certificate,
# made with the native CLI into --out folders. Every certificate is verified for the purpose etcd
# uses it for and checked field by field with openssl.
source "$(dirname "$0")/lib.sh"
F="$FIXTURES/seed-per-host"
E="$ETCD_PKI"
H=3600
NAMES="OU=Private Cloud,O=etcd,L=Shanghai,ST=Shanghai,C=CN"
PEER_IPS=(192.168.6.204 192.168.6.205 192.168.6.206)
SIGN=(--config "$F/ca-config.json" --ca out/ca/ca.pem --ca-key out/ca/ca-key.pem)

# ---- the CA ---------------------------------------------------------------------------------------
run "$E" init-ca "$F/ca-csr.json" --out out/ca
expect_rc "init-ca --out out/ca" 0
expect_eq "init-ca reports its files" "etcd-pki: wrote out/ca/ca.pem, out/ca/ca-key.pem, out/ca/ca.csr" "$ERR"
expect_eq "--out folder created with mode 755" 755 "$(file_mode out/ca)"
CA=out/ca/ca.pem
expect_eq "CA subject" "CN=etcd CA,$NAMES" "$(cert_subject $CA)"
expect_eq "CA key usage" "critical: Certificate Sign, CRL Sign" "$(cert_ext $CA keyUsage)"
expect_eq "CA basic constraints" "critical: CA:TRUE" "$(cert_ext $CA basicConstraints)"
expect_eq "CA validity 43800h" $((43800 * H)) "$(cert_validity $CA)"
expect_eq "CA key" "rsa 2048" "$(cert_key $CA)"
expect_eq "CA key file mode" 600 "$(file_mode out/ca/ca-key.pem)"
check "CA key matches" same_public_key $CA out/ca/ca-key.pem
CA_SKI=$(cert_ski $CA)

# check_leaf LABEL DIR NAME SUBJECT SANS KU EKU KEY: the common field checks of one leaf.
check_leaf() {
  local l=$1 d=$2 n=$3 subject=$4 sans=$5 ku=$6 eku=$7 key=$8
  local c="$d/$n.pem"
  check "$l: $n.pem, $n-key.pem, $n.csr written" test -s "$c" -a -s "$d/$n-key.pem" -a -s "$d/$n.csr"
  expect_eq "$l: files in $d" "$n-key.pem $n.csr $n.pem" "$(cd "$d" && ls -A | sort | tr '\n' ' ' | sed 's/ $//')"
  expect_eq "$l: modes cert/key/csr" "644 600 644" "$(file_mode "$c") $(file_mode "$d/$n-key.pem") $(file_mode "$d/$n.csr")"
  check "$l: key matches certificate" same_public_key "$c" "$d/$n-key.pem"
  expect_eq "$l: subject" "$subject" "$(cert_subject "$c")"
  expect_eq "$l: issuer" "CN=etcd CA,$NAMES" "$(cert_issuer "$c")"
  expect_eq "$l: SANs" "$sans" "$(cert_ext "$c" subjectAltName)"
  expect_eq "$l: key usage" "$ku" "$(cert_ext "$c" keyUsage)"
  expect_eq "$l: extended key usage" "$eku" "$(cert_ext "$c" extendedKeyUsage)"
  expect_eq "$l: basic constraints" "critical: CA:FALSE" "$(cert_ext "$c" basicConstraints)"
  expect_eq "$l: key" "$key" "$(cert_key "$c")"
  expect_eq "$l: signature from the RSA CA key" sha256WithRSAEncryption "$(cert_sigalg "$c")"
  expect_eq "$l: validity 8760h (inside the CA's, not capped)" $((8760 * H)) "$(cert_validity "$c")"
  expect_eq "$l: AKI = CA SKI" "$CA_SKI" "$(cert_aki "$c")"
  expect_eq "$l: CSR subject" "$subject" "$(csr_subject "$d/$n.csr")"
  expect_eq "$l: CSR SANs" "$sans" "$(csr_ext "$d/$n.csr" "Subject Alternative Name")"
  check "$l: CSR signature verifies" csr_signature_ok "$d/$n.csr"
}

# ---- the server certificate (all members' names and IPs) -----------------------------------------
run "$E" issue --profile server "${SIGN[@]}" --out out/server "$F/server.json"
expect_rc "issue server" 0
expect_eq "server: no warnings, just the files" "etcd-pki: wrote out/server/server.pem, out/server/server-key.pem, out/server/server.csr" "$ERR"
check_leaf server out/server server "CN=etcd-server,$NAMES" \
  "DNS:localhost, DNS:z-b-data-1, DNS:z-b-data-2, DNS:z-b-data-3, IP Address:127.0.0.1, IP Address:192.168.6.204, IP Address:192.168.6.205, IP Address:192.168.6.206" \
  "critical: Digital Signature, Key Encipherment" "TLS Web Server Authentication, TLS Web Client Authentication" "rsa 2048"
check "server: verifies as sslserver" verify_purpose $CA out/server/server.pem sslserver
check "server: verifies as sslclient" verify_purpose $CA out/server/server.pem sslclient
for h in localhost z-b-data-1 z-b-data-2 z-b-data-3; do
  check "server: valid for host $h" verify_purpose $CA out/server/server.pem sslserver -verify_hostname $h
done
for ip in 127.0.0.1 "${PEER_IPS[@]}"; do
  check "server: valid for IP $ip" verify_purpose $CA out/server/server.pem sslserver -verify_ip $ip
done
if verify_purpose $CA out/server/server.pem sslserver -verify_hostname etcd-server; then
  fail "server: the CN must not count as a host name (cfssl never copies CN into SANs)"
else pass "server: not valid for its CN alone (CN is not a SAN)"; fi

# ---- one peer certificate per member -------------------------------------------------------------
for i in 1 2 3; do
  n=z-b-data-$i ip=${PEER_IPS[$((i - 1))]}
  run "$E" issue --profile peer "${SIGN[@]}" --out "out/$n" "$F/$n.json"
  expect_rc "issue peer $n" 0
  expect_eq "peer $n: no warnings" "etcd-pki: wrote out/$n/$n.pem, out/$n/$n-key.pem, out/$n/$n.csr" "$ERR"
  check_leaf "peer $n" "out/$n" "$n" "CN=$n,$NAMES" "DNS:$n, IP Address:$ip" \
    "critical: Digital Signature, Key Encipherment" "TLS Web Server Authentication, TLS Web Client Authentication" "rsa 2048"
  check "peer $n: verifies as sslserver" verify_purpose $CA "out/$n/$n.pem" sslserver
  check "peer $n: verifies as sslclient" verify_purpose $CA "out/$n/$n.pem" sslclient
  check "peer $n: valid for its name" verify_purpose $CA "out/$n/$n.pem" sslserver -verify_hostname $n
  check "peer $n: valid for its IP" verify_purpose $CA "out/$n/$n.pem" sslserver -verify_ip "$ip"
  other=$((i % 3 + 1))
  if verify_purpose $CA "out/$n/$n.pem" sslserver -verify_hostname "z-b-data-$other"; then
    fail "peer $n: must not be valid for z-b-data-$other"
  else pass "peer $n: not valid for another member's name"; fi
  if verify_purpose $CA "out/$n/$n.pem" sslserver -verify_ip "${PEER_IPS[$((other - 1))]}"; then
    fail "peer $n: must not be valid for ${PEER_IPS[$((other - 1))]}"
  else pass "peer $n: not valid for another member's IP"; fi
done
if cmp -s out/z-b-data-1/z-b-data-1-key.pem out/z-b-data-2/z-b-data-2-key.pem; then fail "each peer has its own key"
else pass "each peer has its own key"; fi

# ---- the client certificate: "hosts": [""], ECDSA P-256 --------------------------------------------
run "$E" issue --profile client "${SIGN[@]}" --out out/client "$F/client.json"
expect_rc "issue client" 0
expect_eq "client: three stderr lines (2 warnings + wrote)" 3 "$(line_count "$ERR")"
expect_contains "client: warns that the empty host is dropped (cfssl writes an empty DNS name)" \
  "warning: $F/client.json: hosts[0]: empty entry dropped" "$ERR"
expect_match "client: warns that key encipherment is dropped for the ECDSA key" \
  'warning: .*client.json: profile "client": "key encipherment" dropped for the ECDSA P-256 key' "$ERR"
check_leaf client out/client client "CN=client,$NAMES" "" "critical: Digital Signature" \
  "TLS Web Client Authentication" "ec 256 P-256"
expect_eq "client: no SAN extension at all in the certificate" "" \
  "$(x509_text out/client/client.pem | grep -c 'Subject Alternative Name' | sed 's/^0$//')"
expect_eq "client: no SAN requested in the CSR either" "" "$(csr_ext_names out/client/client.csr)"
expect_eq "client: key file is SEC1 EC, like cfssl's" "-----BEGIN EC PRIVATE KEY-----" "$(pem_label out/client/client-key.pem)"
expect_eq "client: CSR signed with the client's own key" ecdsa-with-SHA256 "$(csr_sigalg out/client/client.csr)"
check "client: verifies as sslclient" verify_purpose $CA out/client/client.pem sslclient
if verify_purpose $CA out/client/client.pem sslserver; then fail "client: must not verify as a TLS server"
else pass "client: does not verify as a TLS server (client auth only)"; fi

# ---- the whole set ------------------------------------------------------------------------------------
expect_eq "one folder per certificate" "ca client server z-b-data-1 z-b-data-2 z-b-data-3" "$(ls out | tr '\n' ' ' | sed 's/ $//')"
serials=$(for c in out/*/*.pem; do case $c in *-key.pem) ;; *) openssl x509 -in "$c" -noout -serial;; esac; done | sort | uniq -d)
expect_eq "all six serials differ" "" "$serials"

# --json prints cfssl's JSON and writes nothing.
run "$E" issue --profile peer "${SIGN[@]}" --out out/json --json "$F/z-b-data-1.json"
expect_rc "issue --json" 0
expect_eq "--json: stdout is one line" 1 "$(line_count "$OUT")"
expect_eq "--json: keys exactly cert, csr, key" '["cert","csr","key"]' "$(jq -c keys_unsorted <<<"$OUT")"
check "--json: writes no files" test ! -e out/json
jq -r .cert <<<"$OUT" >"$RUN_DIR/json.pem"
expect_eq "--json: the cert is the peer's" "DNS:z-b-data-1, IP Address:192.168.6.204" "$(cert_ext "$RUN_DIR/json.pem" subjectAltName)"
jq -r .key <<<"$OUT" >"$RUN_DIR/json-key.pem"
check "--json: key matches cert" same_public_key "$RUN_DIR/json.pem" "$RUN_DIR/json-key.pem"

# ---- the built-in etcd profiles (no --config), ECDSA member ---------------------------------------------
cat >m4.json <<'EOF'
{"CN":"z-b-data-4","hosts":["z-b-data-4","192.168.6.207"],"key":{"algo":"ecdsa","size":256},"names":[{"O":"etcd"}]}
EOF
run "$E" issue --profile peer --ca $CA --ca-key out/ca/ca-key.pem --out out/m4 m4.json
expect_rc "built-in peer profile" 0
expect_eq "built-in profile: no key-encipherment warning for ECDSA (the profile is meant for any key)" \
  "etcd-pki: wrote out/m4/m4.pem, out/m4/m4-key.pem, out/m4/m4.csr" "$ERR"
expect_eq "built-in peer: key usage" "critical: Digital Signature" "$(cert_ext out/m4/m4.pem keyUsage)"
expect_eq "built-in peer: EKU server + client" "TLS Web Server Authentication, TLS Web Client Authentication" \
  "$(cert_ext out/m4/m4.pem extendedKeyUsage)"
expect_eq "built-in peer: 8760h" $((8760 * H)) "$(cert_validity out/m4/m4.pem)"
check "built-in peer: verifies as server and client" \
  bash -c "openssl verify -CAfile $CA -purpose sslserver out/m4/m4.pem && openssl verify -CAfile $CA -purpose sslclient out/m4/m4.pem"
run "$E" issue --profile client --ca $CA --ca-key out/ca/ca-key.pem --out out/m4 --name m4-client m4.json
expect_rc "built-in client profile (--name)" 0
expect_eq "built-in client: EKU client only" "TLS Web Client Authentication" "$(cert_ext out/m4/m4-client.pem extendedKeyUsage)"
check "--name sets the base name" test -s out/m4/m4-client-key.pem

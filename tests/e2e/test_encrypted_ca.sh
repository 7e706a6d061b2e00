#!/usr/bin/env bash
# An encrypted CA key (PKCS#8, AES-256, PBKDF2) through every command that signs: init-ca and
# cluster write it, issue, sign, gencert, cluster re-runs, renew, revoke and crl read it with
# --passphrase-file or ETCD_PKI_CA_PASSPHRASE. Without the passphrase or with a wrong one: exit 5,
# one line naming the key file, nothing written or changed. openssl reads the key with the same
# passphrase and confirms its encryption parameters.
source "$(dirname "$0")/lib.sh"
E="$ETCD_PKI"
unset ETCD_PKI_CA_PASSPHRASE
printf 'correct horse battery staple\n' >pass.txt
printf 'wrong\n' >wrong.txt

# refused LABEL DIR CMD...: exit 5, the key file and the reason named, DIR unchanged.
refused() {
  local l=$1 d=$2 before
  shift 2
  before=$(dir_state "$d")
  run "$@"
  expect_rc "$l: exit 5" 5
  expect_eq "$l: one line" 1 "$(line_count "$ERR")"
  expect_contains "$l: names the key file" "ca-key.pem:" "$ERR"
  expect_eq "$l: nothing written or changed" "$before" "$(dir_state "$d")"
}

# ---- init-ca ----------------------------------------------------------------------------------------
run "$E" init-ca --out ca --passphrase-file pass.txt
expect_rc "init-ca --passphrase-file" 0
expect_eq "ca-key.pem is encrypted PKCS#8" "-----BEGIN ENCRYPTED PRIVATE KEY-----" "$(head -n 1 ca/ca-key.pem)"
expect_eq "ca-key.pem is 0600" 600 "$(file_mode ca/ca-key.pem)"
check "openssl decrypts it with the passphrase" openssl pkey -in ca/ca-key.pem -passin file:pass.txt -noout
check "openssl refuses a wrong passphrase" bash -c '! openssl pkey -in ca/ca-key.pem -passin pass:wrong -noout'
params=$(openssl asn1parse -in ca/ca-key.pem 2>&1)
for p in PBES2 PBKDF2 hmacWithSHA256 aes-256-cbc; do expect_contains "encryption: $p" ":$p" "$params"; done
expect_contains "encryption: 200000 PBKDF2 iterations (0x30D40)" "INTEGER           :030D40" "$params"
check "the key belongs to ca.pem" test "$(openssl x509 -in ca/ca.pem -noout -pubkey)" = "$(openssl pkey -in ca/ca-key.pem -passin file:pass.txt -pubout)"
check "the passphrase is not on any command line (no such flag)" bash -c "! '$E' init-ca --passphrase x --out nope 2>/dev/null"

ETCD_PKI_CA_PASSPHRASE=env-pass run "$E" init-ca --out envca
expect_rc "init-ca with ETCD_PKI_CA_PASSPHRASE" 0
check "envca key decrypts with the variable's value" openssl pkey -in envca/ca-key.pem -passin pass:env-pass -noout
run "$E" init-ca --out plain
expect_rc "init-ca without a passphrase" 0
expect_eq "then the key is not encrypted" "-----BEGIN EC PRIVATE KEY-----" "$(head -n 1 plain/ca-key.pem)"
mkdir emptyout && : >empty.txt
run "$E" init-ca --out emptyout --passphrase-file empty.txt
expect_rc "an empty passphrase file: usage error" 2
expect_contains "says it is empty" "empty.txt: the passphrase file is empty" "$ERR"
expect_eq "nothing written" "" "$(ls -A emptyout)"
ETCD_PKI_CA_PASSPHRASE= run "$E" init-ca --out emptyout
expect_rc "an empty ETCD_PKI_CA_PASSPHRASE: usage error" 2
expect_eq "nothing written (empty variable)" "" "$(ls -A emptyout)"

# ---- issue, sign, gencert ----------------------------------------------------------------------------
echo '{"CN":"etcd-1","hosts":["etcd-1","10.0.0.1"]}' >m.json
mkdir out
refused "issue without the passphrase" out "$E" issue --profile server --ca ca/ca.pem --ca-key ca/ca-key.pem --out out m.json
expect_contains "issue: says a passphrase is needed" "encrypted and no passphrase was given" "$ERR"
refused "issue with a wrong passphrase" out "$E" issue --profile server --ca ca/ca.pem --ca-key ca/ca-key.pem --out out --passphrase-file wrong.txt m.json
expect_contains "issue: says wrong passphrase" "wrong passphrase" "$ERR"
run "$E" issue --profile server --ca ca/ca.pem --ca-key ca/ca-key.pem --out out --passphrase-file pass.txt m.json
expect_rc "issue --passphrase-file" 0
check "m.pem verifies as a server against ca.pem" openssl verify -purpose sslserver -CAfile ca/ca.pem out/m.pem
expect_eq "the member key is not encrypted (etcd reads it)" "-----BEGIN EC PRIVATE KEY-----" "$(head -n 1 out/m-key.pem)"
ETCD_PKI_CA_PASSPHRASE='correct horse battery staple' run "$E" issue --profile client --ca ca/ca.pem --ca-key ca/ca-key.pem --out out -n c m.json
expect_rc "issue with ETCD_PKI_CA_PASSPHRASE" 0
check "c.pem verifies as a client" openssl verify -purpose sslclient -CAfile ca/ca.pem out/c.pem

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ext-key.pem -subj /CN=ext -out ext.csr 2>/dev/null
refused "sign without the passphrase" out "$E" sign --profile client --ca ca/ca.pem --ca-key ca/ca-key.pem --out out ext.csr
run "$E" sign --profile client --ca ca/ca.pem --ca-key ca/ca-key.pem --out out --passphrase-file pass.txt ext.csr
expect_rc "sign --passphrase-file" 0
check "ext.pem verifies" openssl verify -purpose sslclient -CAfile ca/ca.pem out/ext.pem

run "$E" gencert -ca ca/ca.pem -ca-key ca/ca-key.pem -profile peer m.json
expect_rc "gencert without the passphrase: exit 5" 5
run "$E" gencert -ca ca/ca.pem -ca-key ca/ca-key.pem -profile peer -passphrase-file pass.txt m.json
expect_rc "gencert -passphrase-file" 0
expect_contains "gencert prints cfssl's JSON" '"cert":"-----BEGIN CERTIFICATE-----' "$OUT"
run "$E" gencert -initca -passphrase-file pass.txt m.json
expect_rc "gencert -initca -passphrase-file" 0
expect_contains "gencert -initca: the key in the JSON is encrypted" '"key":"-----BEGIN ENCRYPTED PRIVATE KEY-----' "$OUT"

# ---- cluster, renew, revoke, crl ----------------------------------------------------------------------
IC="etcd-1=https://10.20.13.10:2380,etcd-2=https://10.20.13.11:2380,etcd-3=https://10.20.13.12:2380"
run "$E" cluster --initial-cluster "$IC" --client root --out pki --passphrase-file pass.txt
expect_rc "cluster --passphrase-file" 0
expect_eq "cluster: its new CA key is encrypted" "-----BEGIN ENCRYPTED PRIVATE KEY-----" "$(head -n 1 pki/ca/ca-key.pem)"
expect_eq "cluster: member keys are not" "-----BEGIN EC PRIVATE KEY-----" "$(head -n 1 pki/etcd-2/peer-key.pem)"
run "$E" verify pki
expect_rc "verify of the cluster: clean" 0
refused "cluster re-run adding a client, without the passphrase" pki "$E" cluster --initial-cluster "$IC" --client root --client ci --out pki
expect_not_contains "cluster: no advice to replace the CA" "--force" "$ERR"
run "$E" cluster --initial-cluster "$IC" --client root --client ci --out pki --passphrase-file pass.txt
expect_rc "cluster re-run with the passphrase" 0
check "the new client is signed by the kept CA" openssl verify -purpose sslclient -CAfile pki/ca/ca.pem pki/clients/ci.pem

refused "renew without the passphrase" pki "$E" renew pki
run "$E" renew pki --passphrase-file pass.txt
expect_rc "renew --passphrase-file" 0
run "$E" verify pki
expect_rc "verify after renew: clean" 0

refused "revoke without the passphrase" pki "$E" revoke pki/clients/ci.pem -d pki
ETCD_PKI_CA_PASSPHRASE='correct horse battery staple' run "$E" revoke pki/clients/ci.pem -d pki
expect_rc "revoke with ETCD_PKI_CA_PASSPHRASE" 0
check "the CRL verifies against the CA" openssl crl -in pki/ca/ca.crl -inform DER -CAfile pki/ca/ca.pem -noout
refused "crl without the passphrase" pki "$E" crl -d pki
run "$E" crl -d pki --passphrase-file pass.txt
expect_rc "crl --passphrase-file" 0

#!/usr/bin/env bash
# The CA key's passphrase asked for on a terminal (a pseudo-terminal driven by expect, tty.exp):
# only when stdin is a terminal, no passphrase was given and a key needs one; without echo; twice
# for a new key (init-ca/cluster --encrypt). Not a terminal: never asked, the usual error.
E2E_DIR=$(cd "$(dirname "$0")" && pwd)  # lib.sh changes into the scratch folder
source "$E2E_DIR/lib.sh"
E="$ETCD_PKI"
TTY="expect $E2E_DIR/tty.exp"
unset ETCD_PKI_CA_PASSPHRASE
PW='tty horse battery'
NEW="Passphrase to encrypt the CA key"
AGAIN="The same passphrase again: "
OLD="Passphrase of the CA key"
# on_tty LABEL PROMPT ANSWER ... -- CMD...: RC and the transcript T (carriage returns dropped).
on_tty() {
  $TTY "$RUN_DIR/tty" "$@" 2>"$RUN_DIR/tty.err"
  RC=$?
  T=$(tr -d '\r' <"$RUN_DIR/tty")
  ERR=$(cat "$RUN_DIR/tty.err")
}
printf '%s\n' "$PW" >pass.txt
cat >etcd-csr.json <<'JSON'
{"CN": "etcd", "hosts": ["127.0.0.1"], "key": {"algo": "ecdsa", "size": 256}}
JSON

# ---- init-ca --encrypt: asked twice, no echo -------------------------------------------------------
on_tty "$NEW ca/ca-key.pem with: " "$PW" "$AGAIN" "$PW" -- "$E" init-ca --encrypt --out ca
expect_rc "init-ca --encrypt on a terminal: asked twice" 0
expect_not_contains "the passphrase is not echoed" "$PW" "$T"
expect_contains "init-ca wrote its files" "wrote ca/ca.pem" "$T"
expect_eq "the new key is encrypted" "-----BEGIN ENCRYPTED PRIVATE KEY-----" "$(head -n 1 ca/ca-key.pem)"
expect_eq "ca-key.pem is 0600" 600 "$(file_mode ca/ca-key.pem)"
check "openssl decrypts it with the passphrase typed" openssl pkey -in ca/ca-key.pem -passin file:pass.txt -noout

on_tty "$NEW typo/ca-key.pem with: " "$PW" "$AGAIN" "not the same" -- "$E" init-ca --encrypt --out typo
expect_rc "two different answers: exit 2" 2
expect_contains "two different answers: said" "the two passphrases typed differ" "$T"
check "two different answers: nothing written" test ! -e typo/ca-key.pem

on_tty "$NEW empty/ca-key.pem with: " "" -- "$E" init-ca --encrypt --out empty
expect_rc "an empty answer: exit 2" 2
expect_contains "an empty answer: said" "the passphrase typed is empty" "$T"
check "an empty answer: nothing written" test ! -e empty/ca-key.pem

on_tty -- "$E" init-ca --out plain
expect_rc "init-ca without --encrypt on a terminal: nothing asked" 0
expect_eq "without --encrypt the key is not encrypted" "-----BEGIN EC PRIVATE KEY-----" "$(head -n 1 plain/ca-key.pem)"

run "$E" init-ca --encrypt --out notty </dev/null
expect_rc "init-ca --encrypt, not a terminal, no passphrase: exit 2" 2
expect_contains "  and says how to give one" "no passphrase was given (--passphrase-file FILE or ETCD_PKI_CA_PASSPHRASE)" "$ERR"
check "  nothing written" test ! -e notty/ca-key.pem
run "$E" init-ca --encrypt --out withfile --passphrase-file pass.txt </dev/null
expect_rc "init-ca --encrypt --passphrase-file: no terminal needed" 0

# ---- issue with the encrypted CA: asked once, only because the key needs it -------------------------
on_tty "$OLD ca/ca-key.pem: " "$PW" -- "$E" issue --profile server --ca ca/ca.pem --ca-key ca/ca-key.pem --out leaf etcd-csr.json
expect_rc "issue on a terminal: the CA key's passphrase asked once" 0
expect_not_contains "  not echoed" "$PW" "$T"
expect_eq "  one prompt" 1 "$(grep -c "$OLD" <<<"$T")"
check "  the certificate is signed by the CA" openssl verify -CAfile ca/ca.pem leaf/etcd.pem

on_tty "$OLD ca/ca-key.pem: " "wrong" -- "$E" issue --profile server --ca ca/ca.pem --ca-key ca/ca-key.pem --out wrongpw etcd-csr.json
expect_rc "a wrong passphrase typed: exit 5" 5
expect_contains "  wrong passphrase said" "wrong passphrase" "$T"
check "  nothing written" test ! -e wrongpw

on_tty -- "$E" issue --profile server --ca ca/ca.pem --ca-key ca/ca-key.pem --out withpf --passphrase-file pass.txt etcd-csr.json
expect_rc "--passphrase-file on a terminal: nothing asked" 0
on_tty -- env ETCD_PKI_CA_PASSPHRASE="$PW" "$E" issue --profile server --ca ca/ca.pem --ca-key ca/ca-key.pem --out withenv etcd-csr.json
expect_rc "ETCD_PKI_CA_PASSPHRASE on a terminal: nothing asked" 0
on_tty -- "$E" issue --profile server --ca plain/ca.pem --ca-key plain/ca-key.pem --out fromplain etcd-csr.json
expect_rc "an unencrypted CA key on a terminal: nothing asked" 0

run "$E" issue --profile server --ca ca/ca.pem --ca-key ca/ca-key.pem --out notty etcd-csr.json </dev/null
expect_rc "issue, not a terminal: exit 5 as before" 5
expect_contains "  the present error" "ca/ca-key.pem: the private key is encrypted and no passphrase was given" "$ERR"
expect_not_contains "  no prompt" "$OLD" "$ERR"
check "  nothing written" test ! -e notty/etcd.pem

# ---- cluster --encrypt, then a re-run and renew on the encrypted CA ---------------------------------
IC="etcd-1=https://10.20.13.10:2380,etcd-2=https://10.20.13.11:2380,etcd-3=https://10.20.13.12:2380"
on_tty "$NEW pki/ca/ca-key.pem with: " "$PW" "$AGAIN" "$PW" -- "$E" cluster --initial-cluster "$IC" --client root --out pki --encrypt
expect_rc "cluster --encrypt on a terminal: asked twice" 0
expect_eq "  the new CA key is encrypted" "-----BEGIN ENCRYPTED PRIVATE KEY-----" "$(head -n 1 pki/ca/ca-key.pem)"
check "  with the passphrase typed" openssl pkey -in pki/ca/ca-key.pem -passin file:pass.txt -noout
on_tty "$OLD pki/ca/ca-key.pem: " "$PW" -- "$E" cluster --initial-cluster "$IC" --client root --client backup --out pki
expect_rc "cluster re-run adding a client: the existing CA key's passphrase asked once" 0
check "  the new client is signed by the CA" openssl verify -CAfile pki/ca/ca.pem pki/clients/backup.pem
on_tty "$OLD pki/ca/ca-key.pem: " "$PW" -- "$E" renew pki
expect_rc "renew: asked once" 0
expect_eq "  one prompt" 1 "$(grep -c "$OLD" <<<"$T")"
run "$E" verify pki
expect_rc "verify after all that: clean" 0

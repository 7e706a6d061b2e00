#!/usr/bin/env bash
# Bad input: every error is ONE line on stderr ("etcd-pki: error: FILE: FIELD: message") naming
# the file and the field, exits with its documented code (include/etcd_pki/error.hpp: usage 2,
# input 3, config 4, key 5, ca 6, csr 7, policy 8, io 9, exists 10), prints nothing on stdout and
# leaves the folder exactly as it was (no output, no temp files). Where cfssl behaves differently
# (silently, or exit 0) the comment says so.
source "$(dirname "$0")/lib.sh"
E="$ETCD_PKI"

# expect_failure "description" CODE cmd...: runs cmd in the current folder and checks the error
# contract. ERR holds the message afterwards for the case-specific checks.
expect_failure() {
  local d=$1 code=$2 before after; shift 2
  before=$(dir_state .)
  run "$@"
  after=$(dir_state .)
  expect_rc "$d: exit $code" "$code"
  expect_eq "$d: exactly one line on stderr" 1 "$(line_count "$ERR")"
  expect_match "$d: the line is an etcd-pki error" '^etcd-pki: error: ' "$ERR"
  expect_eq "$d: nothing on stdout" "" "$OUT"
  expect_eq "$d: the folder is unchanged (no files, no temp files)" "$before" "$after"
}

mkdir t && cd t || exit 1
# Inputs that work: an ECDSA CA, a second CA, a config, a CSR JSON, and a leaf.
"$E" init-ca >/dev/null 2>&1 && "$E" init-ca --out other >/dev/null 2>&1 || { fail "set-up: init-ca"; exit 1; }
cat >config.json <<'EOF'
{"signing":{"default":{"expiry":"8760h"},"profiles":{
  "server":{"expiry":"8760h","usages":["signing","key encipherment","server auth"]},
  "peer":{"expiry":"8760h","usages":["signing","key encipherment","server auth","client auth"]},
  "client":{"expiry":"8760h","usages":["signing","client auth"]}}}}
EOF
echo '{"CN":"member-1","hosts":["member-1","10.0.0.1"],"key":{"algo":"ecdsa","size":256}}' >ok.json
"$E" issue --profile server --config config.json --out leaf ok.json >/dev/null 2>&1 || { fail "set-up: issue"; exit 1; }
SIGN=(--config config.json --ca ca.pem --ca-key ca-key.pem)

# ---- input (3): the CSR JSON -------------------------------------------------------------------------
printf '{"CN": "x",\n  "hosts": ["a",]\n}\n' >syntax.json
expect_failure "malformed CSR JSON" 3 "$E" issue --profile server "${SIGN[@]}" syntax.json
expect_contains "malformed CSR JSON: names the file" "syntax.json: " "$ERR"
expect_match "malformed CSR JSON: gives line and column" 'line 2, column [0-9]+' "$ERR"

echo '{"CN":"x","name":[{"O":"etcd"}]}' >name.json
expect_failure "\"name\" instead of \"names\"" 3 "$E" issue --profile server "${SIGN[@]}" name.json
expect_contains "\"name\": names file and field" 'name.json: name: unknown field "name"' "$ERR"
expect_contains "\"name\": suggests \"names\" (cfssl ignores the field silently)" 'did you mean "names"?' "$ERR"

echo '{"CN":"x","names":[{"O":"etcd","CN":"y"}]}' >cn-in-names.json
expect_failure "CN inside names[]" 3 "$E" issue --profile server "${SIGN[@]}" cn-in-names.json
expect_contains "CN inside names[]: names the entry" 'cn-in-names.json: names[0].CN: unknown field' "$ERR"

echo '{"CN":"x","hosts":"a.example.com"}' >hosts-string.json
expect_failure "hosts as a string" 3 "$E" issue --profile server "${SIGN[@]}" hosts-string.json
expect_contains "hosts as a string: names the field" 'hosts-string.json: hosts: expected an array of strings' "$ERR"

echo '{"CN":"x","ca":{"expiry":"1h"}}' >ca-block.json
expect_failure "a \"ca\" block outside init-ca" 3 "$E" issue --profile server "${SIGN[@]}" ca-block.json
expect_contains "\"ca\" block: names file and field" "ca-block.json: ca: " "$ERR"

expect_failure "missing CSR JSON file" 3 "$E" issue --profile server "${SIGN[@]}" no-such.json
expect_contains "missing CSR JSON file: names it" "no-such.json: cannot read: No such file or directory" "$ERR"

# ---- key (5) -------------------------------------------------------------------------------------------
echo '{"CN":"x","key":{"algo":"dsa","size":2048}}' >dsa.json
expect_failure "unknown key algorithm" 5 "$E" issue --profile server "${SIGN[@]}" dsa.json
expect_contains "unknown key algorithm: names file, field and value" 'dsa.json: key.algo: invalid algorithm "dsa"' "$ERR"
echo '{"CN":"x","key":{"algo":"RSA","size":2048}}' >upper.json
expect_failure "algorithm in capitals (cfssl also rejects it)" 5 "$E" issue --profile server "${SIGN[@]}" upper.json
expect_contains "algorithm in capitals: names the field" "upper.json: key.algo: " "$ERR"
echo '{"CN":"x","key":{"algo":"rsa","size":1024}}' >rsa1024.json
expect_failure "RSA 1024" 5 "$E" issue --profile server "${SIGN[@]}" rsa1024.json
expect_contains "RSA 1024: names file and field" "rsa1024.json: key.size: RSA key is too weak" "$ERR"
echo '{"CN":"x","key":{"algo":"ecdsa","size":224}}' >p224.json
expect_failure "ECDSA 224" 5 "$E" issue --profile server "${SIGN[@]}" p224.json
expect_contains "ECDSA 224: names file and field" "p224.json: key.size: " "$ERR"
# The same error through gencert | json: gencert fails, json gets nothing, no file anywhere.
before=$(dir_state .)
"$E" gencert -ca ca.pem -ca-key ca-key.pem rsa1024.json 2>"$RUN_DIR/g.err" | "$E" json -bare pipe 2>"$RUN_DIR/j.err"
st=("${PIPESTATUS[@]}")
expect_eq "gencert | json with a bad key: exits 5 then 3" "5 3" "${st[*]}"
expect_eq "gencert | json: one line each" "1 1" "$(wc -l <"$RUN_DIR/g.err") $(wc -l <"$RUN_DIR/j.err")"
expect_contains "json explains the empty input" "stdin: no input" "$(cat "$RUN_DIR/j.err")"
expect_eq "gencert | json: no files" "$before" "$(dir_state .)"

# ---- config (4): ca-config.json -------------------------------------------------------------------------
printf '{"signing": {\n  "default": {"expiry": "8760h"\n}\n' >broken-config.json
expect_failure "malformed ca-config.json" 4 "$E" issue --profile server --config broken-config.json --ca ca.pem --ca-key ca-key.pem ok.json
expect_contains "malformed ca-config.json: names the file" "broken-config.json: " "$ERR"
expect_match "malformed ca-config.json: gives line and column" 'line [0-9]+, column [0-9]+' "$ERR"

sed 's/"peer":{"expiry":"8760h"/"peer":{"expiry":"10x"/' config.json >bad-expiry.json
expect_failure "expiry \"10x\"" 4 "$E" issue --profile server --config bad-expiry.json --ca ca.pem --ca-key ca-key.pem ok.json
expect_contains "expiry \"10x\": names file, field and value" 'bad-expiry.json: signing.profiles.peer.expiry: invalid duration "10x"' "$ERR"
echo '{"signing":{"default":{"expiry":"10x"}}}' >bad-default.json
expect_failure "default expiry \"10x\" (breaks every command, as in cfssl)" 4 "$E" gencert -config bad-default.json -ca ca.pem -ca-key ca-key.pem ok.json
expect_contains "default expiry: names the field" "bad-default.json: signing.default.expiry: " "$ERR"

sed 's/"server auth"\]/"Server Auth"]/' config.json >bad-usage.json
expect_failure "unknown usage (cfssl drops it silently)" 4 "$E" issue --profile server --config bad-usage.json --ca ca.pem --ca-key ca-key.pem ok.json
expect_contains "unknown usage: names file, field and value" 'bad-usage.json: signing.profiles.server.usages[2]: unknown usage "Server Auth"' "$ERR"

expect_failure "unknown profile (cfssl silently uses the default)" 4 "$E" issue --profile sever "${SIGN[@]}" ok.json
expect_contains "unknown profile: names the file and the profile" 'config.json: profile: unknown profile "sever"' "$ERR"
expect_match "unknown profile: lists the profiles" 'server.*peer.*client' "$ERR"
expect_failure "unknown profile through gencert" 4 "$E" gencert -ca ca.pem -ca-key ca-key.pem -config config.json -profile sever ok.json
expect_failure "unknown profile without --config (built-in list)" 4 "$E" issue --profile etcd --ca ca.pem --ca-key ca-key.pem ok.json
expect_match "built-in profiles listed" 'server.*peer.*client.*ca' "$ERR"
expect_failure "missing config file" 4 "$E" issue --profile server --config no-such-config.json --ca ca.pem --ca-key ca-key.pem ok.json
expect_contains "missing config file: names it" "no-such-config.json: cannot read" "$ERR"

# ---- ca (6): the CA files ---------------------------------------------------------------------------------
expect_failure "missing CA certificate (cfssl: exit 1, or exit 0 without -ca)" 6 "$E" issue --profile server --config config.json --ca missing.pem --ca-key ca-key.pem ok.json
expect_contains "missing CA certificate: names it" "missing.pem: cannot read: No such file or directory" "$ERR"
expect_failure "missing CA key" 6 "$E" issue --profile server --config config.json --ca ca.pem --ca-key missing-key.pem ok.json
expect_contains "missing CA key: names it" "missing-key.pem: cannot read" "$ERR"
expect_failure "gencert with a missing -ca file" 6 "$E" gencert -ca missing.pem -ca-key ca-key.pem ok.json
expect_contains "gencert missing -ca: names it" "missing.pem" "$ERR"
expect_failure "gencert without -ca (cfssl prints nothing and exits 0)" 6 "$E" gencert -config config.json -profile server ok.json
expect_contains "gencert without -ca: names the flag" "-ca" "$ERR"
expect_failure "gencert without -ca-key" 6 "$E" gencert -ca ca.pem ok.json
expect_contains "gencert without -ca-key: names the flag" "-ca-key" "$ERR"
expect_failure "CA certificate and key do not match" 6 "$E" issue --profile server --config config.json --ca ca.pem --ca-key other/ca-key.pem ok.json
expect_contains "mismatch: names the key file and the certificate" "other/ca-key.pem: the CA key does not match the CA certificate ca.pem" "$ERR"
expect_failure "a leaf used as the CA" 6 "$E" issue --profile server --config config.json --ca leaf/ok.pem --ca-key leaf/ok-key.pem ok.json
expect_contains "leaf as CA: names the file and says why" "leaf/ok.pem: not a CA certificate" "$ERR"
expect_failure "a key file given as the CA certificate" 6 "$E" issue --profile server --config config.json --ca ca-key.pem --ca-key ca-key.pem ok.json
expect_contains "key as certificate: names the file" "ca-key.pem: " "$ERR"
expect_failure "a certificate given as the CA key (key category)" 5 "$E" issue --profile server --config config.json --ca ca.pem --ca-key ca.pem ok.json
expect_contains "certificate as key: names the file" "ca.pem: " "$ERR"

# ---- io (9): unreadable inputs and unwritable output ---------------------------------------------------------
mkdir adir
expect_failure "a folder as the CSR JSON" 9 "$E" issue --profile server "${SIGN[@]}" adir
expect_contains "folder as CSR: names it" "adir: is a folder, not a file" "$ERR"
expect_failure "a folder as the config" 9 "$E" issue --profile server --config adir --ca ca.pem --ca-key ca-key.pem ok.json
expect_contains "folder as config: names it" "adir: is a folder" "$ERR"
expect_failure "a folder as the CA certificate" 9 "$E" issue --profile server --config config.json --ca adir --ca-key ca-key.pem ok.json
expect_contains "folder as CA: names it" "adir: is a folder" "$ERR"
if [ "$(id -u)" != 0 ]; then  # root reads mode-000 files, so this only means something for other users
  cp ok.json locked.json && chmod 000 locked.json
  expect_failure "an unreadable CSR JSON (mode 000)" 9 "$E" issue --profile server "${SIGN[@]}" locked.json
  chmod 644 locked.json
fi
touch plainfile
expect_failure "--out below a regular file" 9 "$E" issue --profile server "${SIGN[@]}" --out plainfile/sub ok.json
expect_contains "--out below a file: names the file in the way" "plainfile: exists and is not a folder" "$ERR"
expect_eq "--out below a file: the file keeps its mode" 644 "$(file_mode plainfile)"
mkdir clash && mkdir clash/ok.pem
expect_failure "output path is a folder, even with --force" 9 "$E" issue --profile server "${SIGN[@]}" --out clash --force ok.json
expect_contains "output path is a folder: names it" "clash/ok.pem: is a folder" "$ERR"

# ---- exists (10): existing output is never overwritten without --force ------------------------------------
expect_failure "existing output, issue" 10 "$E" issue --profile server "${SIGN[@]}" --out leaf ok.json
expect_contains "existing output: names the file and the way out" "leaf/ok.pem: already exists; not overwritten (use --force" "$ERR"
expect_failure "existing output, init-ca" 10 "$E" init-ca
expect_contains "existing CA: names ca.pem" "ca.pem: already exists" "$ERR"
# Only one of the three files exists: still nothing is written (all or none).
mkdir partial && cp leaf/ok.csr partial/
expect_failure "one of the three files exists" 10 "$E" issue --profile server "${SIGN[@]}" --out partial ok.json
expect_contains "partial: names the existing file" "partial/ok.csr: already exists" "$ERR"
check "partial: ok.pem and ok-key.pem not written" test ! -e partial/ok.pem -a ! -e partial/ok-key.pem
# etcd-pki json (cfssljson) refuses too; cfssljson itself overwrites.
"$E" gencert -ca ca.pem -ca-key ca-key.pem -config config.json -profile server ok.json 2>/dev/null >"$RUN_DIR/leaf.json"
expect_failure "existing output, json -bare" 10 "$E" json -bare -f "$RUN_DIR/leaf.json" leaf/ok
expect_contains "json: names the file and -force" "leaf/ok.pem: already exists" "$ERR"
# --force replaces all three, with the right modes.
old_state=$(dir_state leaf)
old_serial=$(openssl x509 -in leaf/ok.pem -noout -serial)
run "$E" issue --profile server "${SIGN[@]}" --out leaf --force ok.json
expect_rc "--force replaces the files" 0
for f in ok.pem ok-key.pem ok.csr; do
  if [ "$(grep "^\./$f " <<<"$old_state")" = "$(dir_state leaf | grep "^\./$f ")" ]; then fail "--force: $f replaced"
  else pass "--force: $f replaced"; fi
done
expect_eq "--force: modes" "644 600 644" "$(file_mode leaf/ok.pem) $(file_mode leaf/ok-key.pem) $(file_mode leaf/ok.csr)"
check "--force: new key matches new cert" same_public_key leaf/ok.pem leaf/ok-key.pem
check "--force: a new certificate" test "$old_serial" != "$(openssl x509 -in leaf/ok.pem -noout -serial)"
expect_eq "--force: no temp files left" "" "$(ls -A leaf | grep -v -x -e ok.pem -e ok-key.pem -e ok.csr)"
run "$E" json -bare -force -f "$RUN_DIR/leaf.json" leaf/ok
expect_rc "json -bare -force replaces" 0
cmp -s leaf/ok.pem <(jq -j .cert "$RUN_DIR/leaf.json") && pass "json -force: the new cert is in place" || fail "json -force: the new cert is in place"

# ---- csr (7): sign with a bad CSR -------------------------------------------------------------------------------
# A real CSR whose subject was changed after signing: parses fine, signature does not verify.
echo '{"CN":"tamper-me","hosts":["t.example"]}' >tamper.json
"$E" issue --profile server "${SIGN[@]}" --out tmp-csr tamper.json >/dev/null 2>&1
openssl req -in tmp-csr/tamper.csr -outform DER -out "$RUN_DIR/t.der"
perl -0777 -pi -e 's/tamper-me/tamper-mX/' "$RUN_DIR/t.der"
openssl req -inform DER -in "$RUN_DIR/t.der" -out bad-sig.csr 2>/dev/null
rm -r tmp-csr
expect_eq "the tampered CSR says tamper-mX" "CN=tamper-mX" "$(csr_subject bad-sig.csr)"
if csr_signature_ok bad-sig.csr; then fail "openssl agrees the signature is bad"
else pass "openssl agrees the signature is bad"; fi
expect_failure "CSR with a bad signature" 7 "$E" sign --profile server "${SIGN[@]}" bad-sig.csr
expect_contains "bad signature: names the file" "bad-sig.csr: the CSR signature does not verify" "$ERR"
expect_failure "sign given a JSON file" 7 "$E" sign --profile server "${SIGN[@]}" ok.json
expect_contains "not a CSR: names the file" 'ok.json: no PEM "CERTIFICATE REQUEST" found' "$ERR"
printf -- '-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n' >garbage.csr
expect_failure "a CSR PEM with garbage inside" 7 "$E" sign --profile server "${SIGN[@]}" garbage.csr
expect_contains "garbage CSR: names the file" "garbage.csr: cannot parse the certificate request" "$ERR"

# ---- policy (8) ----------------------------------------------------------------------------------------------------
# other/ca.csr is a CA's CSR (CA:TRUE); "server" has no ca_constraint.
expect_failure "a CA CSR under a non-CA profile" 8 "$E" sign --profile server "${SIGN[@]}" other/ca.csr
expect_contains "CA CSR: names the CSR and the profile" 'other/ca.csr: the CSR asks for a CA certificate but profile "server"' "$ERR"
echo '{"CN":"short","ca":{"expiry":"4m"}}' >short-ca.json  # 4m < the 5m backdate: expired at birth (cfssl issues it)
expect_failure "a CA that would be expired when made" 8 "$E" init-ca --name short short-ca.json
expect_contains "expired CA: names the file" "short-ca.json: the certificate would already be expired" "$ERR"

# ---- usage (2) -------------------------------------------------------------------------------------------------------
expect_failure "gencert with the flag after the CSR" 2 "$E" gencert ok.json -initca
expect_contains "flag after the CSR: says where flags go" "flags go before the CSR JSON" "$ERR"
expect_failure "gencert with an unknown flag" 2 "$E" gencert -initca -nosuch ok.json
expect_contains "unknown flag: names it" "flag provided but not defined: -nosuch" "$ERR"
expect_failure "gencert -remote" 2 "$E" gencert -remote 127.0.0.1:8888 ok.json
expect_failure "a ',' in the CRL URL (used to crash OpenSSL's parser)" 2 "$E" issue --profile server "${SIGN[@]}" --crl 'http://a,b' --out crl ok.json
expect_contains "CRL URL: names the field" "crl: the CRL URL must not contain ','" "$ERR"
expect_failure "gencert -crl with a ','" 2 "$E" gencert -ca ca.pem -ca-key ca-key.pem -crl 'http://a,b' ok.json

# ---- json (cfssljson) input ---------------------------------------------------------------------------------------------
expect_failure "json with empty input" 3 "$E" json -bare empty </dev/null
expect_contains "empty input: says so" "stdin: no input" "$ERR"
printf '{"cert": "x"' >truncated.json
expect_failure "json with truncated JSON" 3 "$E" json -bare -f truncated.json trunc
expect_contains "truncated JSON: names the file" "truncated.json: invalid JSON" "$ERR"
expect_failure "json without -bare on gencert output" 3 "$E" json -f "$RUN_DIR/leaf.json" nobare
expect_contains "without -bare: says to use -bare" "use -bare" "$ERR"
echo '{"success":false,"errors":[{"code":5100,"message":"Invalid policy: no key usage available"}]}' >failed.json
expect_failure "json with a failed API response" 3 "$E" json -f failed.json resp
expect_contains "failed response: passes on the message" "Invalid policy: no key usage available" "$ERR"

# Standard input has the same 16 MiB limit as files (it used to be read whole, whatever its size).
head -c 20000000 /dev/zero | tr '\0' ' ' >big-stdin.json
expect_failure "20 MB of CSR JSON on stdin" 3 "$E" issue --profile server "${SIGN[@]}" --out stdin-big - <big-stdin.json
expect_contains "stdin too large: says so" "stdin: file too large (more than 16 MiB)" "$ERR"
expect_failure "20 MB of cfssl JSON on stdin (json)" 3 "$E" json -bare stdin-big-json <big-stdin.json
expect_contains "json stdin too large: says so" "stdin: file too large (more than 16 MiB)" "$ERR"
rm -f big-stdin.json

# OPENSSL_CONF, when set, is read as it is (without it etcd-pki skips OpenSSL's configuration file,
# docs/performance.md): a configuration that activates only the null provider leaves no algorithm.
printf 'openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n[provider_sect]\nnull = null_sect\n[null_sect]\nactivate = 1\n' \
  >"$RUN_DIR/null-provider.cnf"
expect_failure "OPENSSL_CONF with only the null provider" 11 env OPENSSL_CONF="$RUN_DIR/null-provider.cnf" "$E" init-ca --out nullconf
expect_contains "null provider: OpenSSL's reason" "generating an ECDSA P-256 key: error:0308010C:digital envelope routines::unsupported" "$ERR"
run env OPENSSL_CONF= "$E" init-ca --out emptyconf
expect_rc "an empty OPENSSL_CONF is no configuration" 0
rm -rf emptyconf

# The inputs and the set-up files are all still there, untouched.
check "the CA is intact" same_public_key ca.pem ca-key.pem

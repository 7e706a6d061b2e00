#!/usr/bin/env bash
# Hostile input catalogue: inputs built to break a PKI tool (huge, deeply nested, NUL bytes,
# absurd sizes and dates, wrong or broken CA material, symlinks, unwritable and full disks).
# For every refusal the contract is: the documented exit code (docs/cli.md), exactly one line on
# stderr that is an etcd-pki error naming the file/field, no NUL or non-UTF-8 byte in it, nothing
# on stdout, and the folder byte for byte as it was (no new file, no temp file, existing files
# untouched). Where the tool legitimately succeeds, the certificate is read back with openssl.
# Needs root (setpriv to nobody, unshare -m with tmpfs and bind mounts).
source "$(dirname "$0")/lib.sh"
E="$ETCD_PKI"

# clean_text FILE: no NUL byte and valid UTF-8.
clean_text() { [ "$(tr -d '\000' <"$1" | wc -c)" = "$(wc -c <"$1")" ] && iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1; }
# refused "label" CODE NEEDLE cmd...: the refusal contract above; NEEDLE is a fixed string the
# error line must contain. ERR holds the line afterwards.
refused() {
  local d=$1 code=$2 needle=$3 before after; shift 3
  before=$(dir_state .)
  run "$@"
  after=$(dir_state .)
  expect_rc "$d: exit $code" "$code"
  expect_eq "$d: exactly one line on stderr" 1 "$(line_count "$ERR")"
  expect_match "$d: an etcd-pki error" '^etcd-pki: error: ' "$ERR"
  expect_contains "$d: says what and where" "$needle" "$ERR"
  expect_eq "$d: nothing on stdout" "" "$OUT"
  check "$d: no NUL or non-UTF-8 byte on stderr" clean_text "$RUN_DIR/err"
  expect_eq "$d: the folder is unchanged (no output, no temp file)" "$before" "$after"
}
# san_list FILE: the certificate's SANs as openssl prints them, one line.
san_list() { cert_ext "$1" subjectAltName; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

mkdir t && cd t || exit 1
"$E" init-ca >/dev/null 2>&1 && "$E" init-ca --out other >/dev/null 2>&1 || { fail "set-up: init-ca"; exit 1; }
echo '{"CN":"member-1","hosts":["member-1","10.0.0.1"]}' >ok.json
"$E" issue --profile server --out leaf ok.json >/dev/null 2>&1 || { fail "set-up: issue"; exit 1; }
SIGN=(--ca ca.pem --ca-key ca-key.pem)
profile_config() {  # profile_config FILE EXTRA-JSON-FIELDS: a config with one profile "p"
  echo "{\"signing\":{\"profiles\":{\"p\":{\"usages\":[\"signing\",\"server auth\"]$2}}}}" >"$1"
}

# ======================================================================================================
echo "# row 1: a 100 MB CSR JSON"
# ======================================================================================================
# The huge files live outside the checked folder (dir_state hashes every file).
BIG="$WORK/big"
mkdir -p "$BIG"
python3 -c 'import sys; sys.stdout.write("{\"CN\":\"" + "a" * (100 << 20) + "\"}")' >"$BIG/huge-cn.json"
{ head -c $((100 << 20)) /dev/zero | tr '\0' ' '; echo '{"CN":"padded"}'; } >"$BIG/huge-ws.json"
refused "100 MB CN, init-ca" 3 "$BIG/huge-cn.json: file too large (more than 16 MiB)" "$E" init-ca --out big-ca "$BIG/huge-cn.json"
refused "100 MB CN, issue" 3 "$BIG/huge-cn.json: file too large (more than 16 MiB)" "$E" issue --profile server "${SIGN[@]}" --out big "$BIG/huge-cn.json"
refused "100 MB of white space, init-ca" 3 "$BIG/huge-ws.json: file too large" "$E" init-ca --out big-ca "$BIG/huge-ws.json"
refused "100 MB of white space, issue" 3 "$BIG/huge-ws.json: file too large" "$E" issue --profile server "${SIGN[@]}" --out big "$BIG/huge-ws.json"
# The same through stdin ("-"): the same 16 MiB limit (stdin used to be read whole, so
# `yes | etcd-pki init-ca -` ate all memory).
refused "100 MB CN on stdin, init-ca" 3 "stdin: file too large (more than 16 MiB)" "$E" init-ca --out big-ca - <"$BIG/huge-cn.json"
refused "100 MB CN on stdin, issue" 3 "stdin: file too large (more than 16 MiB)" "$E" issue --profile server "${SIGN[@]}" --out big - <"$BIG/huge-cn.json"
refused "100 MB of white space on stdin" 3 "stdin: file too large (more than 16 MiB)" "$E" init-ca --out big-ws - <"$BIG/huge-ws.json"
# Under the limit, a huge CN is refused by the CSR rules (a subject value is at most 1024 bytes);
# a 2 MiB one used to reach OpenSSL and fail there ("asn1 encoding routines::too long", exit 11).
python3 -c 'import sys; sys.stdout.write("{\"CN\":\"" + "a" * (2 << 20) + "\"}")' >"$BIG/cn-2m.json"
refused "2 MiB CN, init-ca (was an OpenSSL error, exit 11)" 3 "$BIG/cn-2m.json: CN: too long (2097152 bytes; at most 1024)" \
  "$E" init-ca --out big-ca "$BIG/cn-2m.json"
refused "2 MiB CN on stdin, issue" 3 "stdin: CN: too long (2097152 bytes; at most 1024)" \
  "$E" issue --profile server "${SIGN[@]}" --out big - <"$BIG/cn-2m.json"
python3 -c '
import json
print(json.dumps({"CN": "x", "names": [{"O": "o" * 1000} for i in range(100)]}))' >"$BIG/names-100k.json"
refused "100 names[] of 1000 bytes (a 100 KB subject)" 3 "$BIG/names-100k.json: names: the subject is too large (" \
  "$E" issue --profile server "${SIGN[@]}" --out big "$BIG/names-100k.json"
rm -rf big-ws "$BIG"

# ======================================================================================================
echo "# row 2: JSON nested 100000 levels deep"
# ======================================================================================================
deep() { python3 -c 'import sys; n = 100000; print(sys.argv[1] + "[" * n + "]" * n + sys.argv[2])' "$1" "$2"; }
deep '{"CN":"x","hosts":' '}' >deep-csr.json
deep '{"signing":{"default":' '}}' >deep-config.json
python3 -c 'n = 100000; print("{\"signing\":" + "{\"a\":" * n + "1" + "}" * n + "}")' >deep-objects.json
MEMBER='{"members":[{"name":"m1","ips":["10.0.0.1"]}]'
deep "$MEMBER,\"names\":" '}' >deep-spec-names.json
deep "$MEMBER,\"ca\":{\"csr\":" '}}' >deep-spec-ca.json
deep '{"members":' '}' >deep-spec-members.json
NESTED="invalid JSON: nested more than 100 levels deep at line 1, column"
refused "deep CSR JSON, init-ca" 3 "deep-csr.json: $NESTED 118" "$E" init-ca --out deep deep-csr.json
refused "deep CSR JSON, issue" 3 "deep-csr.json: $NESTED 118" "$E" issue --profile server "${SIGN[@]}" --out deep deep-csr.json
refused "deep ca-config.json (arrays)" 4 "deep-config.json: $NESTED" "$E" issue --profile server --config deep-config.json "${SIGN[@]}" --out deep ok.json
refused "deep ca-config.json (objects)" 4 "deep-objects.json: $NESTED" "$E" sign --profile server --config deep-objects.json "${SIGN[@]}" --out deep leaf/ok.csr
# These two crashed the cluster command (SIGSEGV, exit 139): the spec's names and ca.csr were
# copied and dumped recursively.
refused "deep cluster spec names (was a SIGSEGV)" 3 "deep-spec-names.json: $NESTED" "$E" cluster deep-spec-names.json --out deep
refused "deep cluster spec ca.csr (was a SIGSEGV)" 3 "deep-spec-ca.json: $NESTED" "$E" cluster deep-spec-ca.json --out deep
refused "deep cluster spec members" 3 "deep-spec-members.json: $NESTED" "$E" cluster deep-spec-members.json --out deep

# ======================================================================================================
echo "# row 3: NUL bytes and invalid UTF-8 in names"
# ======================================================================================================
# "www.example.com\0.evil.com" is the classic CN that a C-string reader takes for www.example.com.
printf '%s\n' '{"CN":"www.example.com\u0000.evil.com","hosts":["www.example.com"]}' >nul-cn.json
printf '%s\n' '{"CN":"x","names":[{"C":"DE","O":"etcd\u0000admins"}]}' >nul-o.json
printf '%s\n' '{"CN":"x","hosts":["ok.example","10.0.0.1\u0000.evil.com"]}' >nul-host.json
printf '%s\n' '{"CN":"x","\u0000":"y"}' >nul-key.json
printf '%s\n' '{"CN":"x\u001b[31mred","hosts":["x.example"]}' >esc-cn.json
printf '{"CN":"\xff\xfe","hosts":["x.example"]}\n' >bad-utf8-cn.json
printf '{"CN":"x","names":[{"O":"\xc0\x80"}]}\n' >bad-utf8-o.json
printf '{"CN":"x","hosts":["a\xffb.example"]}\n' >bad-utf8-host.json
printf '%s\n' '{"CN":"x","hosts":["bücher.example"]}' >idn-host.json
CTL0="contains the control character U+0000"
refused "NUL in CN, init-ca" 3 "nul-cn.json: CN: $CTL0 at byte 16" "$E" init-ca --out nul nul-cn.json
refused "NUL in CN, issue" 3 "nul-cn.json: CN: $CTL0 at byte 16" "$E" issue --profile server "${SIGN[@]}" --out nul nul-cn.json
refused "NUL in names[].O" 3 "nul-o.json: names[0].O: $CTL0 at byte 5" "$E" issue --profile server "${SIGN[@]}" --out nul nul-o.json
# It used to become the IP SAN 10.0.0.1 (inet_pton stops at the NUL).
refused "NUL in a host" 3 'nul-host.json: hosts[1]: invalid host "10.0.0.1\x00.evil.com": '"$CTL0 at byte 9" \
  "$E" issue --profile server "${SIGN[@]}" --out nul nul-host.json
# The error used to stop at the NUL ("nul-key.json: " and nothing more).
refused "NUL as a JSON key" 3 'nul-key.json: \x00: unknown field "\x00"' "$E" issue --profile server "${SIGN[@]}" --out nul nul-key.json
refused "an escape sequence in the CN" 3 "esc-cn.json: CN: contains the control character U+001B at byte 2" \
  "$E" init-ca --out nul esc-cn.json
# Raw invalid UTF-8 is a JSON error; the message used to echo the raw bytes.
refused "invalid UTF-8 in CN" 3 "bad-utf8-cn.json: invalid JSON: parse error at line 1, column 8" "$E" init-ca --out nul bad-utf8-cn.json
expect_contains "invalid UTF-8 in CN: the byte is shown escaped" "ill-formed UTF-8 byte; last read: '\"\\xff'" "$ERR"
refused "invalid UTF-8 (overlong NUL) in names[].O" 3 "bad-utf8-o.json: invalid JSON: parse error at line 1" \
  "$E" issue --profile server "${SIGN[@]}" --out nul bad-utf8-o.json
refused "invalid UTF-8 in a host" 3 "bad-utf8-host.json: invalid JSON: parse error at line 1" \
  "$E" issue --profile server "${SIGN[@]}" --out nul bad-utf8-host.json
# SANs are IA5String (ASCII): an IDN must be written in punycode (Go refuses it too).
refused "non-ASCII host" 3 'idn-host.json: hosts[0]: invalid host "bücher.example": contains a non-ASCII character at byte 2' \
  "$E" issue --profile server "${SIGN[@]}" --out nul idn-host.json

# ======================================================================================================
echo "# row 4: 10 000 hosts in one CSR (works: every SAN is in the certificate)"
# ======================================================================================================
python3 -c '
import json
hosts = ["h%d.example.com" % i for i in range(9000)] + ["10.1.%d.%d" % (i // 250, i % 250 + 1) for i in range(1000)]
print(json.dumps({"CN": "many", "hosts": hosts}))' >many.json
t0=$(date +%s%N)
run "$E" issue --profile server "${SIGN[@]}" --out many many.json
echo "# issue with 10000 hosts took $(ms_since "$t0") ms"
expect_rc "10000 hosts: issued" 0
expect_eq "10000 hosts: no warning" "etcd-pki: wrote many/many.pem, many/many-key.pem, many/many.csr" "$ERR"
t0=$(date +%s%N)
sans=$(san_list many/many.pem | tr ',' '\n' | sed 's/^ *//')
echo "# openssl read the 10000 SANs in $(ms_since "$t0") ms"
expect_eq "10000 hosts: 10000 SANs" 10000 "$(grep -c . <<<"$sans")"
expect_eq "10000 hosts: 9000 DNS" 9000 "$(grep -c '^DNS:h[0-9]*\.example\.com$' <<<"$sans")"
expect_eq "10000 hosts: 1000 IP" 1000 "$(grep -c '^IP Address:10\.1\.[0-9]*\.[0-9]*$' <<<"$sans")"
expect_eq "10000 hosts: in order, first and last" "DNS:h0.example.com IP Address:10.1.3.250" "$(head -n 1 <<<"$sans") $(tail -n 1 <<<"$sans")"
expect_eq "10000 hosts: all distinct" 10000 "$(sort -u <<<"$sans" | wc -l)"
expect_eq "10000 hosts: the CSR has them too" 10000 "$(csr_ext many/many.csr "Subject Alternative Name" | tr ',' '\n' | grep -c .)"
check "10000 hosts: verifies for TLS server use" verify_purpose ca.pem many/many.pem sslserver
check "10000 hosts: key matches" same_public_key many/many.pem many/many-key.pem
rm -rf many

# ======================================================================================================
echo "# row 5: overlong DNS labels and names"
# ======================================================================================================
L63=$(printf 'a%.0s' {1..63}); L64="${L63}a"
N253="$L63.$L63.$L63.$(printf 'c%.0s' {1..61})"
N255="$L63.$L63.$L63.$L63"
echo "{\"CN\":\"x\",\"hosts\":[\"$L64.example.com\"]}" >label64.json
echo "{\"CN\":\"x\",\"hosts\":[\"ok.example\",\"$N255\"]}" >name255.json
echo "{\"CN\":\"x\",\"hosts\":[\"$L63.example.com\",\"$N253\"]}" >at-limit.json
refused "a 64-character label, issue" 3 "label64.json: hosts[0]: invalid host \"$L64.example.com\": DNS label \"$L64\" is longer than 63 characters (64)" \
  "$E" issue --profile server "${SIGN[@]}" --out long label64.json
refused "a 64-character label, init-ca" 3 "label64.json: hosts[0]: " "$E" init-ca --out long label64.json
refused "a 255-character name" 3 "name255.json: hosts[1]: invalid host \"$N255\": DNS name longer than 253 characters (255)" \
  "$E" issue --profile server "${SIGN[@]}" --out long name255.json
run "$E" issue --profile server "${SIGN[@]}" --out long at-limit.json
expect_rc "63-character label and 253-character name: issued" 0
expect_eq "at the limits: both names in the certificate" "DNS:$L63.example.com, DNS:$N253" "$(san_list long/at-limit.pem)"
rm -rf long
echo "{\"members\":[{\"name\":\"m1\",\"dns\":[\"$L64.example.com\"]}]}" >label64-spec.json
refused "a 64-character label in a cluster spec" 3 "label64-spec.json: members[0].dns: invalid DNS name" "$E" cluster label64-spec.json --out long
refused "a 64-character label in --initial-cluster" 3 "--initial-cluster: entry 1: invalid host name: label \"$L64\" is longer than 63 characters" \
  "$E" cluster --initial-cluster "m1=https://$L64.example.com:2380" --out long
refused "a 255-character name in --initial-cluster" 3 "--initial-cluster: entry 1: invalid host name: longer than 253 characters" \
  "$E" cluster --initial-cluster "m1=https://$N255:2380" --out long

# ======================================================================================================
echo "# row 6: things that look like IP addresses"
# ======================================================================================================
# As cfssl (Go >= 1.17): what does not parse as an IP is a DNS name, now with a warning each;
# ::ffff:1.2.3.4 is the IPv4 address 1.2.3.4 (4 bytes, as Go writes it); ::ffff:0:1.2.3.4 (SIIT)
# is an IPv6 address.
echo '{"CN":"ips","hosts":["1.2.3.4.5","1.2.3","::ffff:1.2.3.4","::ffff:0:1.2.3.4","256.1.1.1","1.2.3.04"]}' >ips.json
run "$E" issue --profile server "${SIGN[@]}" --out ips ips.json
expect_rc "IP-like hosts: issued" 0
expect_eq "IP-like hosts: what each became" \
  "DNS:1.2.3.4.5, DNS:1.2.3, DNS:256.1.1.1, DNS:1.2.3.04, IP Address:1.2.3.4, IP Address:0:0:0:0:FFFF:0:102:304" \
  "$(san_list ips/ips.pem)"
expect_eq "IP-like hosts: one warning per mistyped address" 4 "$(grep -c '^etcd-pki: warning: ips.json: hosts\[[0-9]\]: "[0-9.]*" is not a valid IP address; it is written as a DNS name (as cfssl does)$' <<<"$ERR")"
expect_contains "IP-like hosts: names 256.1.1.1" 'hosts[4]: "256.1.1.1" is not a valid IP address' "$ERR"
rm -rf ips
# The cluster command is strict: members' addresses must be real IPs.
echo '{"members":[{"name":"m1","ips":["1.2.3.04"]}]}' >ip-spec.json
refused "1.2.3.04 in a spec's ips" 3 'ip-spec.json: members[0].ips: invalid IP address "1.2.3.04"' "$E" cluster ip-spec.json --out ipc
# It used to become the DNS SAN 256.1.1.1 silently.
refused "256.1.1.1 in --initial-cluster" 3 '--initial-cluster: entry 1: invalid host name: "256.1.1.1" looks like an IP address but is not a valid one' \
  "$E" cluster --initial-cluster "m1=https://256.1.1.1:2380" --out ipc
echo '{"members":[{"name":"m1","ips":["::ffff:10.0.0.7"]}]}' >mapped-spec.json
run "$E" cluster mapped-spec.json --out ipc
expect_rc "::ffff:10.0.0.7 in a spec's ips: works" 0
expect_eq "::ffff:10.0.0.7 becomes the IPv4 SAN 10.0.0.7" "DNS:m1, DNS:localhost, IP Address:10.0.0.7, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1" \
  "$(san_list ipc/m1/server.pem)"
rm -rf ipc

# ======================================================================================================
echo "# row 7: negative and absurd expiry"
# ======================================================================================================
for d in -1h 0s 999999999h 1e400h; do
  profile_config "exp.json" ",\"expiry\":\"$d\""
  case $d in
    -1h | 0s) code=4 msg="exp.json: signing.profiles.p.expiry: must be positive, not \"$d\"" ;;
    999999999h) code=4 msg="exp.json: signing.profiles.p.expiry: invalid duration \"$d\": too long (more than 1000 years)" ;;
    1e400h) code=4 msg="exp.json: signing.profiles.p.expiry: invalid duration \"$d\": unknown unit \"e\"" ;;
  esac
  refused "profile expiry $d" "$code" "$msg" "$E" issue --profile p --config exp.json "${SIGN[@]}" --out exp ok.json
  echo "{\"CN\":\"exp-ca\",\"ca\":{\"expiry\":\"$d\"}}" >ca-exp.json
  # A bad value in the CSR JSON is an input error (3), a duration that does not parse too: one
  # category per input kind, whatever is wrong (include/etcd_pki/error.hpp).
  case $d in
    -1h | 0s) code=3 msg="ca-exp.json: ca.expiry: must be positive" ;;
    999999999h) code=3 msg="ca-exp.json: ca.expiry: invalid duration \"$d\": too long (more than 1000 years)" ;;
    1e400h) code=3 msg="ca-exp.json: ca.expiry: invalid duration \"$d\": unknown unit \"e\"" ;;
  esac
  refused "CSR ca.expiry $d" "$code" "$msg" "$E" init-ca --out exp ca-exp.json
done

# ======================================================================================================
echo "# row 8: not_after before not_before (cfssl panics)"
# ======================================================================================================
profile_config nb.json ',"expiry":"8760h","not_before":"2030-01-01T00:00:00Z","not_after":"2029-01-01T00:00:00Z"'
refused "not_after < not_before, issue" 4 "nb.json: signing.profiles.p.not_after: is not after not_before" \
  "$E" issue --profile p --config nb.json "${SIGN[@]}" --out nb ok.json
refused "not_after < not_before, sign" 4 "nb.json: signing.profiles.p.not_after: is not after not_before" \
  "$E" sign --profile p --config nb.json "${SIGN[@]}" --out nb leaf/ok.csr
refused "not_after < not_before, gencert" 4 "nb.json: signing.profiles.p.not_after: is not after not_before" \
  "$E" gencert -ca ca.pem -ca-key ca-key.pem -config nb.json -profile p ok.json
echo '{"signing":{"default":{"expiry":"1h","not_before":"2030-01-01T00:00:00Z","not_after":"2030-01-01T00:00:00Z"}}}' >nb-default.json
refused "not_after = not_before in the default profile" 4 "nb-default.json: signing.default.not_after: is not after not_before" \
  "$E" issue --profile server --config nb-default.json "${SIGN[@]}" --out nb ok.json
# Only not_after, in the past: the profile is at fault, so the message must name the config and
# the field, not the CSR. NEEDS the lib/signer.cpp fix (see the report); until then the message
# reads "ok.json: notAfter 2020-01-01T00:00:00Z is not after notBefore ...".
profile_config nb-past.json ',"expiry":"8760h","not_after":"2020-01-01T00:00:00Z"'
refused "not_after in the past (needs the lib/signer.cpp attribution fix)" 4 "nb-past.json: signing.profiles.p.not_after: " \
  "$E" issue --profile p --config nb-past.json "${SIGN[@]}" --out nb ok.json

# ======================================================================================================
echo "# row 9: RSA 1024 and RSA 16384"
# ======================================================================================================
echo '{"CN":"x","key":{"algo":"rsa","size":1024}}' >rsa1024.json
echo '{"CN":"x","key":{"algo":"rsa","size":16384}}' >rsa16384.json
echo '{"CN":"x","key":{"algo":"rsa","size":4294967297}}' >rsa-overflow.json
for cmd in init-ca issue; do
  args=("$E" "$cmd" --out rsa) && [ "$cmd" = issue ] && args+=(--profile server "${SIGN[@]}")
  refused "RSA 1024, $cmd" 5 "rsa1024.json: key.size: RSA key is too weak (1024 bits; use 2048 to 8192)" "${args[@]}" rsa1024.json
  # Refused before any key is generated (a 16384-bit key takes minutes): cfssl's limit is 8192.
  refused "RSA 16384, $cmd" 5 "rsa16384.json: key.size: RSA key size too large (16384 bits; use 2048 to 8192)" "${args[@]}" rsa16384.json
  refused "RSA 2^32+1, $cmd" 5 "rsa-overflow.json: key.size: invalid key size 4294967297" "${args[@]}" rsa-overflow.json
done
mkdir weak
openssl req -x509 -newkey rsa:1024 -nodes -keyout weak/ca-key.pem -out weak/ca.pem -subj /CN=weak-ca -days 30 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
expect_eq "openssl made an RSA-1024 CA" "rsa 1024" "$(cert_key weak/ca.pem)"
refused "RSA-1024 CA, issue" 6 "weak/ca-key.pem: the CA key is RSA-1024, too weak (at least 2048 bits)" \
  "$E" issue --profile server --ca weak/ca.pem --ca-key weak/ca-key.pem --out rsa ok.json
refused "RSA-1024 CA, sign" 6 "weak/ca-key.pem: the CA key is RSA-1024, too weak" \
  "$E" sign --profile server --ca weak/ca.pem --ca-key weak/ca-key.pem --out rsa leaf/ok.csr

# ======================================================================================================
echo "# row 10: a CA certificate that is not a CA"
# ======================================================================================================
refused "a leaf as --ca, issue" 6 "leaf/ok.pem: not a CA certificate (basicConstraints CA:FALSE or missing); subject CN=member-1" \
  "$E" issue --profile server --ca leaf/ok.pem --ca-key leaf/ok-key.pem --out notca ok.json
refused "a leaf as --ca, sign" 6 "leaf/ok.pem: not a CA certificate" \
  "$E" sign --profile server --ca leaf/ok.pem --ca-key leaf/ok-key.pem --out notca other/ca.csr
mkdir v1
openssl req -new -key ca-key.pem -subj /CN=v1-ca -out v1/ca.csr 2>/dev/null
openssl x509 -req -in v1/ca.csr -signkey ca-key.pem -days 30 -out v1/ca.pem 2>/dev/null
expect_eq "openssl made a v1 certificate (no extensions)" "" "$(cert_ext_names v1/ca.pem)"
refused "a v1 certificate as --ca" 6 "v1/ca.pem: not a CA certificate" "$E" issue --profile server --ca v1/ca.pem --ca-key ca-key.pem --out notca ok.json
openssl req -x509 -key ca-key.pem -subj /CN=no-certsign -days 30 -out v1/noku.pem \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,digitalSignature 2>/dev/null
refused "CA:TRUE without cert sign" 6 "v1/noku.pem: the CA certificate's key usage lacks \"cert sign\"" \
  "$E" issue --profile server --ca v1/noku.pem --ca-key ca-key.pem --out notca ok.json

# ======================================================================================================
echo "# row 11: CA key and certificate do not match"
# ======================================================================================================
refused "another CA's key" 6 "other/ca-key.pem: the CA key does not match the CA certificate ca.pem" \
  "$E" issue --profile server --ca ca.pem --ca-key other/ca-key.pem --out mismatch ok.json
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa-key.pem 2>/dev/null
refused "an RSA key for an ECDSA CA" 6 "rsa-key.pem: the CA key does not match the CA certificate ca.pem" \
  "$E" sign --profile server --ca ca.pem --ca-key rsa-key.pem --out mismatch leaf/ok.csr
refused "the leaf's own key for the CA" 6 "leaf/ok-key.pem: the CA key does not match the CA certificate ca.pem" \
  "$E" gencert -ca ca.pem -ca-key leaf/ok-key.pem ok.json

# ======================================================================================================
echo "# row 12: an expired CA"
# ======================================================================================================
OSCA="$WORK/osca"
openssl_ca "$OSCA"
cat >>"$OSCA/ca.cnf" <<EOF
[ v3ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF
mkdir expired
openssl ecparam -name prime256v1 -genkey -noout -out expired/ca-key.pem 2>/dev/null
openssl req -new -key expired/ca-key.pem -subj /CN=expired-ca -out "$OSCA/req.csr" 2>/dev/null
openssl ca -config "$OSCA/ca.cnf" -batch -notext -selfsign -keyfile expired/ca-key.pem -in "$OSCA/req.csr" \
  -startdate 20200101000000Z -enddate 20210101000000Z -extensions v3ca -out expired/ca.pem >/dev/null 2>&1
expect_eq "openssl made a CA that expired in 2021" "2021-01-01 00:00:00Z" "$(x509_text expired/ca.pem | sed -n 's/^notAfter=//p')"
refused "expired CA, issue" 6 "expired/ca.pem: the CA certificate expired on 2021-01-01T00:00:00Z" \
  "$E" issue --profile server --ca expired/ca.pem --ca-key expired/ca-key.pem --out exp ok.json
refused "expired CA, sign" 6 "expired/ca.pem: the CA certificate expired on 2021-01-01T00:00:00Z" \
  "$E" sign --profile server --ca expired/ca.pem --ca-key expired/ca-key.pem --out exp leaf/ok.csr
echo '{"members":[{"name":"m1","ips":["10.0.0.1"]}],"ca":{"cert":"expired/ca.pem","key":"expired/ca-key.pem"}}' >exp-spec.json
refused "expired CA in a cluster spec" 6 "expired/ca.pem: the CA certificate expired on 2021-01-01T00:00:00Z" "$E" cluster exp-spec.json --out expc
mkdir -p expc/ca && cp expired/ca.pem expired/ca-key.pem expc/ca/
refused "expired CA already in the cluster folder" 10 "expc/ca/ca.pem: the existing CA expired on 2021-01-01T00:00:00Z; use --force to make a new CA" \
  "$E" cluster --initial-cluster m1=https://10.0.0.1:2380 --out expc
rm -rf expc

# ======================================================================================================
echo "# row 13: a CSR whose signature does not verify"
# ======================================================================================================
openssl req -in leaf/ok.csr -outform DER -out "$RUN_DIR/ok.der"
# The last byte is the end of the signature value: the DER stays well-formed, the signature breaks.
python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[-1] ^= 1; open(sys.argv[2], "wb").write(d)' \
  "$RUN_DIR/ok.der" "$RUN_DIR/flip.der"
openssl req -inform DER -in "$RUN_DIR/flip.der" -out flipped.csr 2>/dev/null
expect_eq "the flipped CSR still parses with the same subject" "CN=member-1" "$(csr_subject flipped.csr)"
if csr_signature_ok flipped.csr; then fail "openssl agrees the signature is bad"; else pass "openssl agrees the signature is bad"; fi
refused "CSR with a flipped signature byte" 7 "flipped.csr: the CSR signature does not verify" "$E" sign --profile server "${SIGN[@]}" --out flip flipped.csr

# ======================================================================================================
echo "# row 14: a CSR asking for CA:TRUE under a leaf profile"
# ======================================================================================================
openssl req -new -key leaf/ok-key.pem -subj /CN=wannabe -addext basicConstraints=CA:TRUE -addext keyUsage=keyCertSign -out wannabe.csr 2>/dev/null
openssl req -new -key leaf/ok-key.pem -subj /CN=wannabe -addext basicConstraints=critical,CA:TRUE,pathlen:5 -out wannabe5.csr 2>/dev/null
openssl req -new -key leaf/ok-key.pem -subj /CN=ku-only -addext keyUsage=critical,keyCertSign,cRLSign \
  -addext subjectAltName=DNS:ku.example -out ku-only.csr 2>/dev/null
refused "CA:TRUE CSR, sign --profile server" 8 'wannabe.csr: the CSR asks for a CA certificate but profile "server" does not allow CAs' \
  "$E" sign --profile server "${SIGN[@]}" --out wannabe wannabe.csr
refused "CA:TRUE pathlen 5 CSR, sign --profile peer" 8 'wannabe5.csr: the CSR asks for a CA certificate but profile "peer"' \
  "$E" sign --profile peer "${SIGN[@]}" --out wannabe wannabe5.csr
# Asking for cert sign without CA:TRUE: the profile decides, the CSR's extensions are not copied.
run "$E" sign --profile server "${SIGN[@]}" --out kuo ku-only.csr
expect_rc "keyCertSign-only CSR under server: signed" 0
expect_eq "keyCertSign-only CSR: CA:FALSE" "critical: CA:FALSE" "$(cert_ext kuo/ku-only.pem basicConstraints)"
expect_eq "keyCertSign-only CSR: the profile's key usage" "critical: Digital Signature" "$(cert_ext kuo/ku-only.pem keyUsage)"
expect_contains "keyCertSign-only CSR: openssl says it is no CA" "SSL server CA : No" "$(openssl x509 -in kuo/ku-only.pem -noout -purpose)"
rm -rf kuo

# ======================================================================================================
echo "# row 15: a symlink at the output path"
# ======================================================================================================
ELSE="$WORK/elsewhere"
mkdir -p "$ELSE" && echo "precious, not a key" >"$ELSE/target" && chmod 644 "$ELSE/target"
target_state() { dir_state "$ELSE"; }
mkdir sl && ln -s "$ELSE/target" sl/ca-key.pem
tbefore=$(target_state)
refused "symlink at ca-key.pem, init-ca" 10 "sl/ca-key.pem: already exists; not overwritten (use --force" "$E" init-ca --out sl
expect_eq "symlink: the target is untouched" "$tbefore" "$(target_state)"
run "$E" init-ca --out sl --force
expect_rc "symlink at ca-key.pem, init-ca --force" 0
expect_eq "--force: the target is untouched (never written through the link)" "$tbefore" "$(target_state)"
check "--force: ca-key.pem is now a regular file, not a link" test -f sl/ca-key.pem -a ! -L sl/ca-key.pem
expect_eq "--force: ca-key.pem mode 600" 600 "$(file_mode sl/ca-key.pem)"
check "--force: the new key matches the new CA" same_public_key sl/ca.pem sl/ca-key.pem
expect_eq "--force: no temp files" "ca-key.pem ca.csr ca.pem" "$(ls -A sl | paste -sd' ')"
# A dangling link: its target must not be created.
mkdir dl && ln -s "$ELSE/new-file" dl/ca-key.pem
refused "dangling symlink at ca-key.pem, init-ca" 10 "dl/ca-key.pem: already exists" "$E" init-ca --out dl
run "$E" init-ca --out dl --force
expect_rc "dangling symlink, --force" 0
check "dangling symlink, --force: the link's target was not created" test ! -e "$ELSE/new-file"
check "dangling symlink, --force: ca-key.pem is a regular file" test -f dl/ca-key.pem -a ! -L dl/ca-key.pem
# The same for a leaf key and for the cluster command.
mkdir il && ln -s "$ELSE/target" il/ok-key.pem
refused "symlink at the leaf key, issue" 10 "il/ok-key.pem: already exists" "$E" issue --profile server "${SIGN[@]}" --out il ok.json
run "$E" issue --profile server "${SIGN[@]}" --out il --force ok.json
expect_rc "symlink at the leaf key, issue --force" 0
expect_eq "issue --force: the target is untouched" "$tbefore" "$(target_state)"
check "issue --force: the key is a regular file" test -f il/ok-key.pem -a ! -L il/ok-key.pem
mkdir -p cl/m1 && ln -s "$ELSE/target" cl/m1/server-key.pem
refused "symlink at a member key, cluster" 10 "cl/m1/server-key.pem: exists but cannot be kept: its certificate is missing; use --force" \
  "$E" cluster --initial-cluster m1=https://10.0.0.1:2380 --out cl
run "$E" cluster --initial-cluster m1=https://10.0.0.1:2380 --out cl --force
expect_rc "symlink at a member key, cluster --force" 0
expect_eq "cluster --force: the target is untouched" "$tbefore" "$(target_state)"
check "cluster --force: the key is a regular file matching the certificate" same_public_key cl/m1/server.pem cl/m1/server-key.pem
check "cluster --force: not a link" test ! -L cl/m1/server-key.pem
rm -rf sl dl il cl

# ======================================================================================================
echo "# row 16: an output folder that is not writable"
# ======================================================================================================
# Root bypasses permissions: run as nobody. nobody must reach the binary (the build folder is
# world-readable) and the inputs; the scratch folder is made traversable for it.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
  AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  chmod 755 "$WORK" "$WORK/t"
  mkdir -p pub && cp ca.pem ca-key.pem ok.json pub/ && chmod 644 pub/* && chmod 755 pub
  mkdir ro && chmod 755 ro && echo "already here" >ro/keep && chmod 644 ro/keep
  refused "init-ca into a root-owned 0755 folder, as nobody" 9 "ro/ca.pem: cannot create a file here: Permission denied" \
    "${AS_NOBODY[@]}" "$E" init-ca --out ro
  refused "init-ca into a new subfolder of it, as nobody" 9 "ro/sub: cannot create the folder: Permission denied" \
    "${AS_NOBODY[@]}" "$E" init-ca --out ro/sub
  refused "issue into it, as nobody" 9 "ro/ok.pem: cannot create a file here: Permission denied" \
    "${AS_NOBODY[@]}" "$E" issue --profile server --ca pub/ca.pem --ca-key pub/ca-key.pem --out ro pub/ok.json
  refused "cluster into it, as nobody" 9 "ro/c: cannot create the folder: Permission denied" \
    "${AS_NOBODY[@]}" "$E" cluster --initial-cluster m1=https://10.0.0.1:2380 --out ro/c
  # A read-only bind mount (EROFS, root too), in a private mount namespace that vanishes with it.
  refused "init-ca into a read-only bind mount" 9 "ro/ca.pem: cannot create a file here: Read-only file system" \
    unshare -m sh -c 'mount --bind ro ro && mount -o remount,ro,bind ro && exec "$0" init-ca --out ro' "$E"
  refused "cluster below a read-only bind mount" 9 "ro/c: cannot create the folder: Read-only file system" \
    unshare -m sh -c 'mount --bind ro ro && mount -o remount,ro,bind ro && exec "$0" cluster --initial-cluster m1=https://10.0.0.1:2380 --out ro/c' "$E"
  expect_eq "the read-only folder still holds only its file" "keep" "$(ls -A ro)"
  rm -rf ro pub
else
  echo "# skipped: needs root, setpriv and the user nobody"
fi

# ======================================================================================================
echo "# row 17: a full disk (a 64 KiB tmpfs), writes fail with ENOSPC part-way"
# ======================================================================================================
# Each case runs in its own mount namespace: the tmpfs is gone when it ends, whatever happens.
# full_disk FILLER-BYTES cmd...: mounts a 64 KiB tmpfs on ./full (16 pages), writes a filler of
# that size into it, runs cmd in the current folder, and records in $RUN_DIR/full.{out,err,rc,
# before,after} the command's output and the tmpfs listing (with hashes) before and after.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
mkdir -p full
full_disk() {
  local filler=$1; shift
  rm -f "$RUN_DIR"/full.*
  unshare -m bash -c '
    r=$1 filler=$2; shift 2
    mount -t tmpfs -o size=64k tmpfs full || exit 99
    [ "$filler" -gt 0 ] && head -c "$filler" /dev/urandom >full/filler
    list() { (cd full && find . -mindepth 1 -printf "%p %y %m %s\n" | sort; find . -type f -exec sha256sum {} + | sort); }
    list >"$r/full.before"
    "$@" >"$r/full.out" 2>"$r/full.err"
    echo $? >"$r/full.rc"
    list >"$r/full.after"
  ' _ "$RUN_DIR" "$filler" "$@"
  RC=$(cat "$RUN_DIR/full.rc" 2>/dev/null || echo "no rc")
  OUT=$(cat "$RUN_DIR/full.out" 2>/dev/null)
  ERR=$(cat "$RUN_DIR/full.err" 2>/dev/null)
}
full_refused() {
  local d=$1 code=$2 needle=$3; shift 3
  full_disk "$@"
  expect_rc "$d: exit $code" "$code"
  expect_eq "$d: exactly one line on stderr" 1 "$(line_count "$ERR")"
  expect_contains "$d: says what and where" "$needle" "$ERR"
  expect_eq "$d: nothing on stdout" "" "$OUT"
  expect_eq "$d: the disk holds what it held (no partial output, no temp file, filler intact)" \
    "$(cat "$RUN_DIR/full.before")" "$(cat "$RUN_DIR/full.after" 2>/dev/null)"
}
# 14 of 16 pages full: the change's journal and init-ca's first file fit, the second (ca-key.pem)
# fails with ENOSPC.
full_refused "init-ca on a full disk" 9 "full/ca-key.pem: cannot write: No space left on device (nothing changed)" 57344 "$E" init-ca --out full
full_refused "issue on a full disk" 9 ": cannot write: No space left on device" 57344 "$E" issue --profile server "${SIGN[@]}" --out full ok.json
# An empty 64 KiB disk: a 2-member cluster has 21 files (one page each) and folders to create.
full_refused "cluster on a small disk" 9 ": cannot write: No space left on device" 0 \
  "$E" cluster --initial-cluster m1=https://10.0.0.1:2380,m2=https://10.0.0.2:2380 --client root --out full/c
# Control: the same with room works (the failures above are the disk, not the command).
full_disk 0 "$E" init-ca --out full
expect_rc "init-ca on the empty 64 KiB disk works" 0
expect_eq "init-ca on the empty disk: three files" 3 "$(grep -c ' f ' "$RUN_DIR/full.after")"
check "no mount left behind" sh -c "! grep -q ' $WORK/t/full ' /proc/mounts"
rmdir full
else
  echo "# skipped: needs root and unshare"
fi

# Everything the rows refused left the set-up as it was.
check "the CA is intact" same_public_key ca.pem ca-key.pem
check "the leaf is intact" same_public_key leaf/ok.pem leaf/ok-key.pem

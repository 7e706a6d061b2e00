# Shared helpers for the end-to-end tests. Source it first; it makes a scratch folder,
# cds into it, and prints "N passed, N failed" at exit (non-zero exit when anything failed).
set -u
: "${ETCD_PKI:?set ETCD_PKI to the etcd-pki binary}"
: "${TEST_DATA:?set TEST_DATA to tests/data}"
FIXTURES="$TEST_DATA/fixtures"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/etcd-pki-e2e.XXXXXX")
cd "$WORK" || exit 1
PASSED=0
FAILED=0
_finish() {
  local rc=$?
  echo "$PASSED passed, $FAILED failed"
  if [ "$FAILED" -eq 0 ] && [ "$rc" -eq 0 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection"; fi
  [ "$FAILED" -eq 0 ] && exit "$rc"
  exit 1
}
trap _finish EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; }
# check "description" command...   (passes when the command succeeds)
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then pass "$d"; else fail "$d"; fi; }
# expect_eq "description" expected actual
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi; }
# expect_match "description" regex actual
expect_match() { if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1: [$3] does not match /$2/"; fi; }

# ---- running commands ---------------------------------------------------------------------------
# Captured output lives outside the folders the tests inspect.
RUN_DIR="$WORK/.run"
mkdir -p "$RUN_DIR"
# run cmd...: runs it (stdin is the caller's); afterwards RC is the exit status, OUT the stdout
# and ERR the stderr (trailing newlines stripped).
run() {
  "$@" >"$RUN_DIR/out" 2>"$RUN_DIR/err"
  RC=$?
  OUT=$(cat "$RUN_DIR/out")
  ERR=$(cat "$RUN_DIR/err")
  return 0
}
# expect_rc "description" expected   (after run; shows stderr on failure)
expect_rc() { if [ "$RC" = "$2" ]; then pass "$1"; else fail "$1: exit $RC, expected $2; stderr: $ERR"; fi; }
# expect_contains "description" needle haystack   (fixed string)
expect_contains() { if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1: [$3] does not contain [$2]"; fi; }
expect_not_contains() { if [[ "$3" != *"$2"* ]]; then pass "$1"; else fail "$1: [$3] contains [$2]"; fi; }
# line_count text: number of lines (0 for empty text)
line_count() { if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | wc -l; fi; }

# ---- files ------------------------------------------------------------------------------------------
file_mode() { stat -c %a "$1"; }
# dir_state DIR: every entry (hidden ones too) with type, mode, size and content hash, sorted.
dir_state() {
  (cd "$1" && find . -mindepth 1 -printf '%p %y %m %s\n' | sort | while read -r p t m s; do
    if [ "$t" = f ]; then echo "$p $t $m $s $(sha256sum <"$p" | cut -c1-16)"; else echo "$p $t $m"; fi
  done)
}

# ---- certificates (everything through openssl) ----------------------------------------------------
# openssl takes ~40 ms per run here, so each certificate/CSR is dumped once per name option and the
# dump is cached by content hash; all the field helpers below read the dump.
mkdir -p "$RUN_DIR/cache"
# _dump x509|req FILE NAMEOPT: -text plus -subject (and -issuer, -startdate, -enddate for x509).
_dump() {
  local kind=$1 f=$2 no=$3 h c
  [ -s "$f" ] || return 1
  h=$(sha256sum <"$f" | cut -c1-32)
  c="$RUN_DIR/cache/$kind.$h.${no//[^A-Za-z0-9]/_}"
  if [ ! -e "$c" ]; then
    if [ "$kind" = x509 ]; then
      openssl x509 -in "$f" -noout -text -subject -issuer -startdate -enddate -dateopt iso_8601 -nameopt "$no" >"$c.tmp" 2>/dev/null
    else
      openssl req -in "$f" -noout -text -subject -nameopt "$no" >"$c.tmp" 2>/dev/null
    fi || { rm -f "$c.tmp"; return 1; }
    mv "$c.tmp" "$c"
  fi
  cat "$c"
}
# x509_text FILE / req_text FILE: openssl's -text of a certificate / CSR (plus subject= lines).
x509_text() { _dump x509 "$1" RFC2253; }
req_text() { _dump req "$1" RFC2253; }
# cert_subject FILE [nameopt]: the subject (default RFC2253; RFC2253,show_type adds the string
# types), without "subject=". cert_issuer, csr_subject likewise.
cert_subject() { _dump x509 "$1" "${2:-RFC2253}" | sed -n 's/^subject=//p'; }
cert_issuer() { _dump x509 "$1" "${2:-RFC2253}" | sed -n 's/^issuer=//p'; }
csr_subject() { _dump req "$1" "${2:-RFC2253}" | sed -n 's/^subject=//p'; }
# _ext_norm: openssl's "X509v3 Name: critical\n    value\n    value" -> "critical: value value"
# (or "value value"), one line per extension.
_ext_norm() {
  awk '
    /^[[:space:]]*X509v3 [^:]*:/ { if (n) print out; n = 1; out = ($0 ~ /critical[[:space:]]*$/) ? "critical:" : ""; next }
    { v = $0; gsub(/^[[:space:]]+|[[:space:]]+$/, "", v); if (v == "") next; out = (out == "" ? v : out " " v) }
    END { if (n) print out }'
}
# _ext_block TEXT-ON-STDIN "Display Name": the lines of one X509v3 extension from -text output.
_ext_block() {
  awk -v name="X509v3 $1:" '
    !hdr && index($0, name) { hdr = 1; indent = match($0, /[^ ]/); print; next }
    hdr { if (match($0, /[^ ]/) <= indent) exit; print }'
}
_ext_display() {
  case $1 in
    subjectAltName) echo "Subject Alternative Name" ;; keyUsage) echo "Key Usage" ;;
    extendedKeyUsage) echo "Extended Key Usage" ;; basicConstraints) echo "Basic Constraints" ;;
    subjectKeyIdentifier) echo "Subject Key Identifier" ;; authorityKeyIdentifier) echo "Authority Key Identifier" ;;
    *) echo "$1" ;;
  esac
}
# cert_ext FILE NAME: one extension (NAME as for openssl -ext: subjectAltName, keyUsage,
# extendedKeyUsage, basicConstraints, subjectKeyIdentifier, authorityKeyIdentifier), normalized
# to one line: "critical: Digital Signature, Key Encipherment" or "IP Address:127.0.0.1, ...".
# Empty when the certificate lacks it.
cert_ext() { x509_text "$1" | sed -n '/X509v3 extensions:/,$p' | _ext_block "$(_ext_display "$2")" | _ext_norm; }
# csr_ext FILE "Subject Alternative Name": the same for a CSR's requested extension (openssl's
# display name without "X509v3 ").
csr_ext() { req_text "$1" | sed -n '/Requested Extensions:/,$p' | _ext_block "$2" | _ext_norm; }
# cert_ext_names / csr_ext_names FILE: the extensions' display names in order, comma-separated.
cert_ext_names() {
  x509_text "$1" | sed -n '/X509v3 extensions:/,/Signature Algorithm:/p' | grep -E '^ {12}[A-Za-z]' |
    sed -E 's/^ +//; s/^X509v3 //; s/:.*//' | paste -sd, -
}
csr_ext_names() {
  req_text "$1" | sed -n '/Requested Extensions:/,/Signature Algorithm:/p' | grep -E '^ {16}X509v3 ' |
    sed -E 's/^ +X509v3 //; s/:.*//' | paste -sd, -
}
# cert_epoch FILE notBefore|notAfter: seconds since the epoch.
# Empty when the file is not a certificate.
cert_epoch() { local d; d=$(x509_text "$1" | sed -n "s/^$2=//p"); [ -n "$d" ] && date -u -d "$d" +%s; }
cert_not_before() { cert_epoch "$1" notBefore; }
cert_not_after() { cert_epoch "$1" notAfter; }
cert_validity() {
  local b a; b=$(cert_not_before "$1"); a=$(cert_not_after "$1")
  if [ -n "$a" ] && [ -n "$b" ]; then echo $((a - b)); fi
}
# cert_sigalg FILE: the signature algorithm (sha256WithRSAEncryption, ecdsa-with-SHA256, ...).
cert_sigalg() { x509_text "$1" | awk '/Signature Algorithm:/ { sub(/.*Signature Algorithm: */, ""); print; exit }'; }
csr_sigalg() { req_text "$1" | awk '/Signature Algorithm:/ { sub(/.*Signature Algorithm: */, ""); print; exit }'; }
# _key_desc: "rsa 2048", "ec 384 P-384", "ed25519 256" from -text output.
_key_desc() {
  awk '/Public Key Algorithm:/ { a = $NF } /Public-Key: \(/ { s = $0; sub(/.*\(/, "", s); sub(/ bit.*/, "", s) }
       /NIST CURVE:/ { c = " " $NF }
       END { if (a == "rsaEncryption") a = "rsa"; else if (a == "id-ecPublicKey") a = "ec"; else if (a == "ED25519") a = "ed25519"
             print a " " s c }'
}
cert_key() { x509_text "$1" | _key_desc; }
csr_key() { req_text "$1" | _key_desc; }
# cert_ski / cert_aki FILE: the key identifier in hex (AKI without a "keyid:" prefix).
cert_ski() { cert_ext "$1" subjectKeyIdentifier; }
cert_aki() { cert_ext "$1" authorityKeyIdentifier | sed 's/^keyid://'; }
# same_public_key CERT KEY: the private key belongs to the certificate.
same_public_key() {
  local a b
  a=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) || return 1
  b=$(openssl pkey -in "$2" -pubout 2>/dev/null) || return 1
  [ -n "$a" ] && [ "$a" = "$b" ]
}
# verify_purpose CA CERT PURPOSE [extra openssl verify args]
verify_purpose() { local ca=$1 cert=$2 purpose=$3; shift 3; openssl verify -CAfile "$ca" -purpose "$purpose" "$@" "$cert" >/dev/null 2>&1; }
pem_label() { head -n 1 "$1" 2>/dev/null; }
# csr_signature_ok CSR: the CSR's self-signature verifies (openssl 3.0's `req -verify` exits 0
# even when it does not, so its message is checked).
csr_signature_ok() { openssl req -in "$1" -noout -verify 2>&1 | grep -q 'self-signature verify OK'; }
# cert_fields FILE / csr_fields FILE: every field the comparisons look at, one "name=value" per
# line, from a single dump (fast): subject, issuer (RFC 2253 with string types), version, sigalg,
# key, notBefore, notAfter (epoch), validity, extensions (names in order), and ext.NAME for each
# extension (normalized as cert_ext). csr_fields: subject, version, sigalg, key, extensions, ext.NAME.
_fields_awk='
  function flush() { if (name != "") print "ext." name "=" val; name = "" }
  function trim(s) { gsub(/^[[:space:]]+|[[:space:]]+$/, "", s); return s }
  /^subject=/ || /^issuer=/ || /^notBefore=/ || /^notAfter=/ { flush(); inext = 0; print; next }
  /^ +Version:/ && !ver { print "version=" trim($0); ver = 1 }
  /Signature Algorithm:/ && !sig { s = $0; sub(/.*Signature Algorithm: */, "", s); print "sigalg=" s; sig = 1 }
  /Public Key Algorithm:/ { ka = $NF }
  /Public-Key: \(/ { ks = $0; sub(/.*\(/, "", ks); sub(/ bit.*/, "", ks) }
  /NIST CURVE:/ { kc = " " $NF }
  /X509v3 extensions:/ || /Requested Extensions:/ { inext = 1; next }
  inext && match($0, /[^ ]/) <= 9 { flush(); inext = 0; next }
  inext && /X509v3 [^:]*:/ && (hdr == 0 || match($0, /[^ ]/) <= hdr) {
    flush(); hdr = match($0, /[^ ]/); name = trim($0); sub(/^X509v3 /, "", name); sub(/:.*/, "", name)
    names = names (names == "" ? "" : ",") name; val = ($0 ~ /critical[[:space:]]*$/) ? "critical:" : ""; next }
  inext && name != "" { v = trim($0); if (v != "") val = (val == "" ? v : val " " v) }
  END { flush()
        if (ka == "rsaEncryption") ka = "rsa"; else if (ka == "id-ecPublicKey") ka = "ec"; else if (ka == "ED25519") ka = "ed25519"
        print "key=" ka " " ks kc; print "extensions=" names }'
cert_fields() {
  local t nb na
  t=$(_dump x509 "$1" RFC2253,show_type | awk "$_fields_awk") || return 1
  printf '%s\n' "$t"
  nb=$(sed -n 's/^notBefore=//p' <<<"$t"); na=$(sed -n 's/^notAfter=//p' <<<"$t")
  [ -n "$nb" ] && [ -n "$na" ] || return 0
  nb=$(date -u -d "$nb" +%s); na=$(date -u -d "$na" +%s)
  echo "epoch.notBefore=$nb"; echo "epoch.notAfter=$na"; echo "validity=$((na - nb))"
}
csr_fields() { _dump req "$1" RFC2253,show_type | awk "$_fields_awk"; }
# field NAME <<<"$fields": one value from cert_fields/csr_fields output.
field() { sed -n "s/^$(sed 's/[.[\*^$/]/\\&/g' <<<"$1")=//p" | head -n 1; }

# ---- openssl's own CA ---------------------------------------------------------------------------
# openssl_ca DIR: an `openssl ca` set-up in DIR (its own database and serial, DIR/ca.cnf with a
# policy that takes any subject), for certificates etcd-pki would never make: expired, not yet
# valid, odd extensions (`openssl ca` takes explicit -startdate/-enddate). Append extension
# sections to DIR/ca.cnf as needed.
openssl_ca() {
  local d=$1
  mkdir -p "$d" && : >"$d/index.txt" && echo 1000 >"$d/serial"
  cat >"$d/ca.cnf" <<EOF
[ ca ]
default_ca = x
[ x ]
database = $d/index.txt
serial = $d/serial
new_certs_dir = $d
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
EOF
}

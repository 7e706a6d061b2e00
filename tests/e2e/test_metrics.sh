#!/usr/bin/env bash
# Monitoring (docs/operate.md#monitoring): `expiry --format prometheus` on a real `cluster` output,
# read back with a real parser of the text exposition format: Debian's python3-prometheus-client
# (scripts/setup.sh --test installs it; without it this test fails, it does not skip). The values
# are checked against openssl; --output's atomic replace from the outside (a hard link to the old
# file keeps the old content, no temp file is left, the mode is 0644 whatever the umask); the
# exit status and the usage errors of --format.
E2E_DIR=$(cd "$(dirname "$0")" && pwd)  # lib.sh changes into the scratch folder
source "$E2E_DIR/lib.sh"
E="$ETCD_PKI"

# ---- the parser: PY and prom (prom_lib.sh) -------------------------------------------------------------
source "$E2E_DIR/prom_lib.sh" || { fail "tests/e2e/prom_lib.sh loads"; exit 1; }
# json_get JSON EXPR: a Python expression over the parsed JSON `j`, printed.
json_get() { python3 -c 'import json, sys; j = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
# epoch_of "notAfter=Mar 10 12:34:29 2026 GMT": the date after '=' as Unix seconds.
epoch_of() { date -u -d "${1#*=}" +%s; }

# The parser is a real check: an unescaped line feed in a label value does not parse.
printf 'x509_cert_not_after{filepath="a\nb"} 1\n' >broken.prom
run prom broken.prom 'len(fams)'
expect_match "the parser refuses a raw line feed in a label value" "PARSE-ERROR" "$OUT"

# ======================================================================================================
# 1. A cluster's metrics
# ======================================================================================================
run "$E" cluster --initial-cluster a=https://10.0.0.1:2380,b=https://10.0.0.2:2380,c=https://10.0.0.3:2380 --client root -o pki
expect_rc "cluster a,b,c + client root" 0
[ "$RC" = 0 ] || exit 1

run "$E" expiry --format prometheus pki
expect_rc "expiry --format prometheus: exit 0 (nothing due)" 0
printf '%s\n' "$OUT" >metrics.prom
expect_eq "it parses: the four families in order" "x509_cert_not_after x509_cert_not_before x509_cert_expired x509_crl_next_update" \
  "$(prom metrics.prom '" ".join(fams)')"
expect_eq "every family a gauge" "gauge gauge gauge gauge" "$(prom metrics.prom '" ".join(f.type for f in fams.values())')"
for f in x509_cert_not_after x509_cert_not_before x509_cert_expired x509_crl_next_update; do
  expect_eq "$f: one # HELP" 1 "$(grep -c "^# HELP $f " metrics.prom)"
  expect_eq "$f: one # TYPE gauge" 1 "$(grep -cx "# TYPE $f gauge" metrics.prom)"
  first_sample=$(grep -n "^$f[{ ]" metrics.prom | head -n 1 | cut -d: -f1)
  type_line=$(grep -nx "# TYPE $f gauge" metrics.prom | cut -d: -f1)
  expect_eq "$f: HELP and TYPE right before its samples" "$((type_line + 1))" "$first_sample"
done

# One series per distinct certificate: as many as expiry --json lists that are not CRLs (the CA
# once, not once per member folder).
run "$E" expiry --json pki
json_report=$OUT
certs=$(json_get "$OUT" 'sum(1 for e in j["entries"] if e["role"] != "crl")')
# The CA and the CRL: the first file holding each (the scan's order: member a's folder before ca/).
ca_file=$(json_get "$OUT" 'next(e["file"] for e in j["entries"] if e["role"] == "ca")')
crl_file=$(json_get "$OUT" 'next(e["file"] for e in j["entries"] if e["role"] == "crl")')
expect_eq "expiry --json: 8 certificates (the CA, 3 x server and peer, root)" 8 "$certs"
expect_eq "one x509_cert_not_after series per certificate" "$certs" "$(prom metrics.prom 'len(series("x509_cert_not_after"))')"
expect_eq "distinct series" "$certs" \
  "$(prom metrics.prom 'len(set(tuple(sorted(l.items())) for l, v in series("x509_cert_not_after")))')"
expect_eq "not_before and expired: the same series" "True True" \
  "$(prom metrics.prom '" ".join(str([l for l, v in series(n)] == [l for l, v in series("x509_cert_not_after")]) for n in ("x509_cert_not_before", "x509_cert_expired"))')"
expect_eq "the labels of every series" "filepath issuer_CN member role serial_number subject_CN" \
  "$(prom metrics.prom '" ".join(sorted(set(k for n in fams for l, v in series(n) for k in l)))')"
expect_eq "nothing expired" "0.0" "$(prom metrics.prom '" ".join(sorted(set(str(v) for l, v in series("x509_cert_expired"))))')"
expect_eq "the CA once, at the first file holding it (its copies are no series)" "$ca_file" \
  "$(prom metrics.prom '" ".join(l["filepath"] for l, v in series("x509_cert_not_after") if l["role"] == "ca")')"

# A member's server certificate, against openssl.
S=pki/b/server.pem
serial_hex=$(openssl x509 -in "$S" -noout -serial | sed 's/^serial=//')
expect_eq "b/server.pem: subject_CN, member, role" "b b server" \
  "$(prom metrics.prom '(lambda l: l["subject_CN"] + " " + l["member"] + " " + l["role"])(one("x509_cert_not_after", "'"$S"'"))')"
expect_eq "b/server.pem: issuer_CN = openssl's issuer CN" "$(cert_issuer "$S" | sed -n 's/^CN=//p')" \
  "$(prom metrics.prom 'one("x509_cert_not_after", "'"$S"'")["issuer_CN"]')"
expect_eq "b/server.pem: serial_number = openssl's serial in decimal (as the x509-certificate-exporter)" \
  "$("$PY" -c "print(int('$serial_hex', 16))")" "$(prom metrics.prom 'one("x509_cert_not_after", "'"$S"'")["serial_number"]')"
expect_eq "b/server.pem: not_after = openssl -enddate" "$(epoch_of "$(openssl x509 -in "$S" -noout -enddate)")" \
  "$(prom metrics.prom 'value("x509_cert_not_after", "'"$S"'")')"
expect_eq "b/server.pem: not_before = openssl -startdate" "$(epoch_of "$(openssl x509 -in "$S" -noout -startdate)")" \
  "$(prom metrics.prom 'value("x509_cert_not_before", "'"$S"'")')"
expect_eq "c/peer.pem: member c, role peer" "c peer" \
  "$(prom metrics.prom '(lambda l: l["member"] + " " + l["role"])(one("x509_cert_not_after", "pki/c/peer.pem"))')"
expect_eq "the CA: no member (it belongs to the cluster, whichever copy is first), role ca, its own issuer" "|ca|True" \
  "$(prom metrics.prom '(lambda l: "|".join([l["member"], l["role"], str(l["issuer_CN"] == l["subject_CN"])]))(one("x509_cert_not_after", sys.argv[3]))' "$ca_file")"
expect_eq "clients/root.pem: no member, role client, CN root" "|client|root" \
  "$(prom metrics.prom '(lambda l: "|".join([l["member"], l["role"], l["subject_CN"]]))(one("x509_cert_not_after", "pki/clients/root.pem"))')"
expect_eq "the members" "['', 'a', 'b', 'c']" "$(prom metrics.prom 'sorted(set(l["member"] for l, v in series("x509_cert_not_after")))')"
expect_eq "a series per member: its server and peer (the CA and CRL have none)" "a:2 b:2 c:2" \
  "$(prom metrics.prom '" ".join("%s:%d" % (m, sum(1 for l, v in series("x509_cert_not_after") if l["member"] == m)) for m in "abc")')"

# The CRL: one series (its copies in the member folders are the same CRL), at openssl's nextUpdate.
expect_eq "one x509_crl_next_update series" 1 "$(prom metrics.prom 'len(series("x509_crl_next_update"))')"
expect_eq "the CRL: at its first file, role crl, no serial, no subject, the CA's CN" \
  "$crl_file|crl|||$(prom metrics.prom 'one("x509_cert_not_after", sys.argv[3])["subject_CN"]' "$ca_file")" \
  "$(prom metrics.prom '(lambda l: "|".join([l["filepath"], l["role"], l["serial_number"], l["subject_CN"], l["issuer_CN"]]))(series("x509_crl_next_update")[0][0])')"
expect_eq "the CRL: nextUpdate = openssl crl -nextupdate" "$(epoch_of "$(openssl crl -in pki/ca/ca.crl -inform DER -noout -nextupdate)")" \
  "$(prom metrics.prom 'value("x509_crl_next_update", sys.argv[3])' "$crl_file")"

# Label values with every character the format escapes, read back by the parser.
odd=$'we"ird\\dir\nname'
mkdir "$odd" && cp pki/a/server.pem "$odd/server.pem"
run "$E" expiry --format prometheus "$odd"
printf '%s\n' "$OUT" >odd.prom
expect_eq "a path with a double quote, a backslash and a line feed: the label holds it exactly" True \
  "$(prom odd.prom 'series("x509_cert_not_after")[0][0]["filepath"] == sys.argv[3]' "$odd/server.pem")"

# ======================================================================================================
# 2. --output, the exit status, --format's errors
# ======================================================================================================
mkdir textfile
printf 'stale\n' >textfile/etcd-pki.prom
chmod 600 textfile/etcd-pki.prom
ln textfile/etcd-pki.prom old-link
run bash -c 'umask 077 && exec "$0" expiry --format prometheus --output textfile/etcd-pki.prom pki' "$E"
expect_rc "--output: exit 0" 0
expect_eq "--output: nothing on stdout" "" "$OUT"
expect_eq "--output: the same metrics as on stdout" "$(cat metrics.prom)" "$(cat textfile/etcd-pki.prom)"
expect_eq "--output: mode 0644 (whatever the umask: node_exporter reads it)" 644 "$(file_mode textfile/etcd-pki.prom)"
expect_eq "--output: replaced by a rename (the old file, hard-linked, still holds the old content)" stale "$(cat old-link)"
expect_eq "--output: no temp file left" etcd-pki.prom "$(ls -A textfile)"
run prom textfile/etcd-pki.prom 'len(series("x509_cert_not_after"))'
expect_eq "--output: the file parses" "$certs" "$OUT"

run "$E" expiry --format prometheus --within 400d --output textfile/etcd-pki.prom pki
expect_rc "--format prometheus --within 400d: exit 1 as for text (the 1-year leaves are due)" 1
expect_eq "... and the file is written all the same" "$certs" "$(prom textfile/etcd-pki.prom 'len(series("x509_cert_not_after"))')"
run "$E" expiry --format prometheus --output nested/dir/etcd-pki.prom pki
expect_rc "--output in a folder that does not exist yet: exit 0" 0
check "... the folder is made" test -s nested/dir/etcd-pki.prom

run "$E" expiry --format text pki
text_report=$OUT
run "$E" expiry pki
expect_eq "--format text is the default" "$text_report" "$OUT"
run "$E" expiry --format json pki
expect_rc "--format json: exit 0" 0
expect_eq "--format json is --json" "$certs" "$(json_get "$OUT" 'sum(1 for e in j["entries"] if e["role"] != "crl")')"
run "$E" expiry --format json --output report.json pki
expect_eq "--output with --format json" "$certs" "$(json_get "$(cat report.json)" 'sum(1 for e in j["entries"] if e["role"] != "crl")')"

run "$E" expiry --format yaml pki
expect_rc "an unknown --format: exit 2" 2
expect_contains "... naming --format" '--format: unknown format "yaml" (use text, json or prometheus)' "$ERR"
expect_eq "... and printing nothing" "" "$OUT"
run "$E" expiry --format yaml --output never.prom pki
expect_rc "an unknown --format with --output: exit 2" 2
check "... and no file" test ! -e never.prom
run "$E" expiry --json --format prometheus pki
expect_rc "--json with --format prometheus: exit 2" 2
expect_contains "... naming --json" "--json: means --format json, not --format prometheus" "$ERR"

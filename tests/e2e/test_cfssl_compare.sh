#!/usr/bin/env bash
# etcd-pki against the real cfssl (Debian's 1.2.0): the same CSR JSON and ca-config.json through
# both, compared field by field with openssl. Serials, keys and signatures always differ; wall-clock
# times are not compared exactly (validity LENGTH is, and notBefore must be within minutes).
# Where the two are meant to differ (docs/cfssl-compat.md) the test asserts BOTH sides explicitly:
#   - leaf validity is capped at the CA's notAfter (cfssl issues past it);
#   - "key encipherment" is dropped for non-RSA keys;
#   - empty hosts are dropped and -hostname items trimmed (cfssl writes "DNS:" and "DNS: b");
#   - URI-like hosts are URI SANs (cfssl 1.2.0 makes them DNS names);
#   - names[].E becomes emailAddress (cfssl 1.2.0 ignores it);
#   - no "lacks a hosts field" warning for client certificates.
# Leaves are also signed by the SAME CA files with both tools, so issuer and AKI compare exactly,
# and each tool reads the other's CA key.
source "$(dirname "$0")/lib.sh"
E="$ETCD_PKI"
H=3600
command -v cfssl >/dev/null && command -v cfssljson >/dev/null || { fail "cfssl and cfssljson are installed"; exit 1; }
expect_match "the reference cfssl is 1.2.0" '^Version: 1\.2\.0' "$(cfssl version 2>&1)"

# ---- helpers ------------------------------------------------------------------------------------------
# cf_gen NAME gencert-args...: cfssl gencert ARGS | cfssljson -bare NAME (stderr kept in $RUN_DIR/NAME.err)
cf_gen() {
  local n=$1; shift
  cfssl gencert "$@" 2>"$RUN_DIR/$n.err" | cfssljson -bare "$n" >/dev/null 2>&1
  local s=("${PIPESTATUS[@]}")
  expect_eq "cfssl gencert $* -> $n" "0 0" "${s[*]}"
}
# ep_gen NAME gencert-args...: the same through etcd-pki gencert | etcd-pki json
ep_gen() {
  local n=$1; shift
  "$E" gencert "$@" 2>"$RUN_DIR/$n.err" | "$E" json -bare "$n" >/dev/null 2>&1
  local s=("${PIPESTATUS[@]}")
  expect_eq "etcd-pki gencert $* -> $n" "0 0" "${s[*]}"
}
yes_no() { if [ -n "$1" ]; then echo yes; else echo no; fi; }

# compare_certs LABEL CFSSL.pem ETCD-PKI.pem [FIELD...]: every field equal except the FIELDs
# given (asserted separately by the caller). Fields: subject issuer san ku eku bc validity
# sigalg key ski aki extensions version (subject/issuer with string types).
compare_certs() {
  local l=$1 c=$2 e=$3; shift 3
  local skip=" $* " cf ef
  cf=$(cert_fields "$c"); ef=$(cert_fields "$e")
  _same() {  # _same SHORTNAME FIELD [presence]
    [[ $skip == *" $1 "* ]] && return
    local a b; a=$(field "$2" <<<"$cf"); b=$(field "$2" <<<"$ef")
    if [ -n "${3:-}" ]; then a=$(yes_no "$a"); b=$(yes_no "$b"); fi
    expect_eq "$l: $1 as cfssl" "$a" "$b"
  }
  _same subject subject; _same issuer issuer; _same san "ext.Subject Alternative Name"; _same ku "ext.Key Usage"
  _same eku "ext.Extended Key Usage"; _same bc "ext.Basic Constraints"; _same validity validity; _same sigalg sigalg
  _same key key; _same ski "ext.Subject Key Identifier" presence; _same aki "ext.Authority Key Identifier" presence
  _same extensions extensions; _same version version
  local nc ne; nc=$(field epoch.notBefore <<<"$cf"); ne=$(field epoch.notBefore <<<"$ef")
  if [ -n "$nc" ] && [ -n "$ne" ]; then
    local d=$((ne - nc))
    check "$l: notBefore within 5 minutes of cfssl's" test "${d#-}" -le 300
    check "$l: notBefore on a whole minute, as cfssl" test $((ne % 60)) -eq 0
  else fail "$l: both are certificates"; fi
}
# compare_csrs LABEL CFSSL.csr ETCD-PKI.csr [FIELD...]: fields subject san extensions key sigalg version
compare_csrs() {
  local l=$1 c=$2 e=$3; shift 3
  local skip=" $* " cf ef
  cf=$(csr_fields "$c"); ef=$(csr_fields "$e")
  _same() { [[ $skip == *" $1 "* ]] || expect_eq "$l: CSR $1 as cfssl" "$(field "$2" <<<"$cf")" "$(field "$2" <<<"$ef")"; }
  _same subject subject; _same san "ext.Subject Alternative Name"; _same extensions extensions
  _same key key; _same sigalg sigalg; _same version version
  check "$l: etcd-pki CSR signature verifies" csr_signature_ok "$e"
}

# ======================================================================================================
# 1. seed-etcd-single: the CA and the one etcd certificate
# ======================================================================================================
mkdir single && cd single || exit 1
cp "$FIXTURES/seed-etcd-single/"*.json .
cf_gen c-ca -initca ca-csr.json
ep_gen e-ca -initca ca-csr.json
run "$E" init-ca --name n-ca ca-csr.json
expect_rc "init-ca ca-csr.json" 0
for x in e-ca n-ca; do
  compare_certs "seed CA ($x)" c-ca.pem $x.pem
  # Without a "ca" block neither tool puts BasicConstraints in the CA's CSR.
  compare_csrs "seed CA ($x)" c-ca.csr $x.csr
  expect_eq "seed CA ($x): cfssl's CA CSR has no extensions" "" "$(csr_ext_names c-ca.csr)"
  expect_eq "seed CA ($x): etcd-pki's CA CSR has no extensions either" "" "$(csr_ext_names $x.csr)"
done
expect_eq "seed CA: 43800h from both" $((43800 * H)) "$(cert_validity c-ca.pem)"

# The Etcd leaf, each tool with its own CA (gencert), and both with cfssl's CA (cross).
CONF=(-config=ca-config.json -profile=Etcd)
cf_gen c-etcd -ca=c-ca.pem -ca-key=c-ca-key.pem "${CONF[@]}" etcd-csr.json
ep_gen e-etcd -ca=e-ca.pem -ca-key=e-ca-key.pem "${CONF[@]}" etcd-csr.json
ep_gen x-etcd -ca=c-ca.pem -ca-key=c-ca-key.pem "${CONF[@]}" etcd-csr.json
run "$E" issue --profile Etcd --config ca-config.json --ca c-ca.pem --ca-key c-ca-key.pem --name n-etcd etcd-csr.json
expect_rc "issue (native) with cfssl's CA" 0
for x in e-etcd x-etcd n-etcd; do
  compare_certs "seed etcd ($x)" c-etcd.pem $x.pem validity
  compare_csrs "seed etcd ($x)" c-etcd.csr $x.csr
done
# Documented difference: the profile's 87600h outlives the 43800h CA. cfssl issues it anyway.
expect_eq "seed etcd: cfssl's leaf is 87600h, past its CA" $((87600 * H)) "$(cert_validity c-etcd.pem)"
check "seed etcd: cfssl's leaf outlives its CA" test "$(cert_not_after c-etcd.pem)" -gt "$(cert_not_after c-ca.pem)"
expect_eq "seed etcd: etcd-pki caps at its CA's notAfter" "$(cert_not_after e-ca.pem)" "$(cert_not_after e-etcd.pem)"
expect_eq "seed etcd: etcd-pki caps at cfssl's CA notAfter" "$(cert_not_after c-ca.pem)" "$(cert_not_after x-etcd.pem)"
expect_eq "seed etcd: native issue caps too" "$(cert_not_after c-ca.pem)" "$(cert_not_after n-etcd.pem)"
# Same CA -> the issuer-derived fields are byte-equal.
expect_eq "seed etcd: AKI from cfssl's CA equal in both" "$(cert_aki c-etcd.pem)" "$(cert_aki x-etcd.pem)"
expect_eq "seed etcd: AKI = cfssl CA's SKI" "$(cert_ski c-ca.pem)" "$(cert_aki x-etcd.pem)"
check "seed etcd: etcd-pki leaf verifies under cfssl's CA" verify_purpose c-ca.pem x-etcd.pem sslserver
# cfssl reads etcd-pki's CA key too.
cf_gen y-etcd -ca=e-ca.pem -ca-key=e-ca-key.pem "${CONF[@]}" etcd-csr.json
check "seed etcd: cfssl signs with etcd-pki's CA, the cert verifies" verify_purpose e-ca.pem y-etcd.pem sslclient
# Same SKI method as cfssl (RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING contents).
spki_sha1() {
  local der="$RUN_DIR/spki.der" line off hl len
  openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER -out "$der"
  line=$(openssl asn1parse -inform DER -in "$der" | grep 'd=1' | grep 'BIT STRING')
  off=$(sed -E 's/^ *([0-9]+):.*/\1/' <<<"$line"); hl=$(sed -E 's/.*hl= *([0-9]+).*/\1/' <<<"$line")
  len=$(sed -E 's/.*l= *([0-9]+) prim.*/\1/' <<<"$line")
  tail -c +$((off + hl + 2)) "$der" | head -c $((len - 1)) | openssl dgst -sha1 -r | cut -c1-40 | tr a-f A-F | sed 's/../&:/g; s/:$//'
}
for x in c-ca e-ca c-etcd x-etcd n-etcd; do
  expect_eq "SKI of $x.pem is SHA-1 of its public key (cfssl's method)" "$(spki_sha1 $x.pem)" "$(cert_ski $x.pem)"
done
cd .. || exit 1

# The JSON on stdout and cfssljson / etcd-pki json are interchangeable.
mkdir json && cd json || exit 1
cp "$FIXTURES/seed-etcd-single/"*.json .
cfssl gencert -initca ca-csr.json 2>/dev/null >c.json
"$E" gencert -initca ca-csr.json 2>/dev/null >e.json
expect_eq "gencert stdout: one line, like cfssl" "$(wc -l <c.json)" "$(wc -l <e.json)"
expect_eq "gencert stdout: same keys in the same order" "$(jq -c keys_unsorted c.json)" "$(jq -c keys_unsorted e.json)"
expect_eq "gencert stdout: key PEM type" "$(jq -r .key c.json | head -1)" "$(jq -r .key e.json | head -1)"
run "$E" json -bare -f c.json from-cfssl
expect_rc "etcd-pki json reads cfssl's output" 0
cfssljson -bare -f e.json from-etcdpki >/dev/null 2>&1
expect_eq "cfssljson reads etcd-pki's output" "from-etcdpki-key.pem from-etcdpki.csr from-etcdpki.pem" \
  "$(ls from-etcdpki* | tr '\n' ' ' | sed 's/ $//')"
expect_eq "same files and modes from cfssljson and etcd-pki json (umask 022)" \
  "$(cd . && stat -c '%a %n' from-etcdpki* | sed 's/from-etcdpki/X/' | sort)" \
  "$(stat -c '%a %n' from-cfssl* | sed 's/from-cfssl/X/' | sort)"
cmp -s from-cfssl.pem <(jq -j .cert c.json) && pass "json writes the cert byte for byte" || fail "json writes the cert byte for byte"
cmp -s from-cfssl-key.pem <(jq -j .key c.json) && pass "json writes the key byte for byte" || fail "json writes the key byte for byte"
cd .. || exit 1

# ======================================================================================================
# 2. seed-per-host: CA, server, peers, client
# ======================================================================================================
mkdir perhost && cd perhost || exit 1
P="$FIXTURES/seed-per-host"
cf_gen c-ca -initca "$P/ca-csr.json"
ep_gen e-ca -initca "$P/ca-csr.json"
compare_certs "per-host CA" c-ca.pem e-ca.pem
compare_csrs "per-host CA" c-ca.csr e-ca.csr
for n in server z-b-data-1 client; do  # z-b-data-2/3 are like -1 (test_per_host.sh checks all)
  case $n in server) prof=server ;; client) prof=client ;; *) prof=peer ;; esac
  cf_gen c-$n -ca=c-ca.pem -ca-key=c-ca-key.pem -config="$P/ca-config.json" -profile=$prof "$P/$n.json"
  run "$E" issue --profile $prof --config "$P/ca-config.json" --ca c-ca.pem --ca-key c-ca-key.pem --name x-$n "$P/$n.json"
  expect_rc "per-host $n: issue with cfssl's CA" 0
  if [ $n = client ]; then
    compare_certs "per-host $n" c-$n.pem x-$n.pem san ku extensions
    compare_csrs "per-host $n" c-$n.csr x-$n.csr san extensions
    # Documented differences: "hosts": [""] and key encipherment on ECDSA.
    expect_eq "client: cfssl writes an empty DNS name" "DNS:" "$(cert_ext c-$n.pem subjectAltName)"
    expect_eq "client: etcd-pki writes no SAN" "" "$(cert_ext x-$n.pem subjectAltName)"
    expect_eq "client: cfssl's CSR has the empty DNS name too" "DNS:" "$(csr_ext c-$n.csr "Subject Alternative Name")"
    expect_eq "client: etcd-pki's CSR has no extension" "" "$(csr_ext_names x-$n.csr)"
    expect_eq "client: cfssl sets key encipherment on the ECDSA key" "critical: Digital Signature, Key Encipherment" "$(cert_ext c-$n.pem keyUsage)"
    expect_eq "client: etcd-pki does not" "critical: Digital Signature" "$(cert_ext x-$n.pem keyUsage)"
    expect_eq "client: otherwise the same extensions, minus the SAN" \
      "$(cert_ext_names c-$n.pem | sed 's/,Subject Alternative Name//')" "$(cert_ext_names x-$n.pem)"
  else
    compare_certs "per-host $n" c-$n.pem x-$n.pem
    compare_csrs "per-host $n" c-$n.csr x-$n.csr
  fi
  expect_eq "per-host $n: AKI equal (same CA)" "$(cert_aki c-$n.pem)" "$(cert_aki x-$n.pem)"
done
cd .. || exit 1

# ======================================================================================================
# 3. TV3 (root with options) and TV4 (etcd leaf set under it)
# ======================================================================================================
mkdir tv && cd tv || exit 1
cat >tv3.json <<'EOF'
{"CN":"etcd-ca","hosts":["ca.example.com","10.0.0.1","admin@example.com","spiffe://cluster.local/ca"],
 "key":{"algo":"rsa","size":2048},
 "names":[{"C":"US","ST":"California","L":"San Francisco","O":"Org1","OU":"Unit1"},
          {"O":"Org2","OU":"Unit2","E":"ca@example.com"}],
 "serialnumber":"SN-123","ca":{"expiry":"87600h","pathlen":1}}
EOF
cf_gen c-tv3 -initca tv3.json
ep_gen e-tv3 -initca tv3.json
compare_certs "TV3" c-tv3.pem e-tv3.pem subject issuer
compare_csrs "TV3" c-tv3.csr e-tv3.csr subject san
TV3_SUBJECT="serialNumber=PRINTABLESTRING:SN-123,CN=PRINTABLESTRING:etcd-ca,OU=PRINTABLESTRING:Unit2+OU=PRINTABLESTRING:Unit1,O=PRINTABLESTRING:Org2+O=PRINTABLESTRING:Org1,L=PRINTABLESTRING:San Francisco,ST=PRINTABLESTRING:California,C=PRINTABLESTRING:US"
expect_eq "TV3: cfssl 1.2.0 subject (names[].E ignored)" "$TV3_SUBJECT" "$(cert_subject c-tv3.pem RFC2253,show_type)"
expect_eq "TV3: etcd-pki subject = the same plus emailAddress (UTF8String, own RDN, last)" \
  "emailAddress=UTF8STRING:ca@example.com,$TV3_SUBJECT" "$(cert_subject e-tv3.pem RFC2253,show_type)"
expect_eq "TV3: issuer = subject" "$(cert_subject e-tv3.pem)" "$(cert_issuer e-tv3.pem)"
expect_eq "TV3: CSR subject likewise" "emailAddress=UTF8STRING:ca@example.com,$TV3_SUBJECT" "$(csr_subject e-tv3.csr RFC2253,show_type)"
expect_eq "TV3: both CAs keep only the IP SAN" "IP Address:10.0.0.1" "$(cert_ext e-tv3.pem subjectAltName)"
expect_eq "TV3: pathlen 1" "critical: CA:TRUE, pathlen:1" "$(cert_ext e-tv3.pem basicConstraints)"
expect_eq "TV3: 87600h" $((87600 * H)) "$(cert_validity e-tv3.pem)"
expect_eq "TV3: cfssl 1.2.0 CSR SANs (URI as DNS)" \
  "DNS:ca.example.com, DNS:spiffe://cluster.local/ca, email:admin@example.com, IP Address:10.0.0.1" \
  "$(csr_ext c-tv3.csr "Subject Alternative Name")"
expect_eq "TV3: etcd-pki CSR SANs (URI SAN, as cfssl >= 1.3)" \
  "DNS:ca.example.com, email:admin@example.com, IP Address:10.0.0.1, URI:spiffe://cluster.local/ca" \
  "$(csr_ext e-tv3.csr "Subject Alternative Name")"

cat >tv4-config.json <<'EOF'
{"signing":{"default":{"expiry":"168h"},"profiles":{
 "server":{"expiry":"8760h","usages":["signing","key encipherment","server auth"]},
 "client":{"expiry":"8760h","usages":["signing","key encipherment","client auth"]},
 "peer":{"expiry":"8760h","usages":["signing","key encipherment","server auth","client auth"]}}}}
EOF
cat >tv4.json <<'EOF'
{"CN":"etcd-server","hosts":["127.0.0.1","localhost","etcd0.example.com","::1"],"key":{"algo":"ecdsa","size":384},"names":[{"O":"etcd","OU":"server"}]}
EOF
for prof in server peer client; do
  cf_gen c-tv4-$prof -ca=c-tv3.pem -ca-key=c-tv3-key.pem -config=tv4-config.json -profile=$prof tv4.json
  ep_gen x-tv4-$prof -ca=c-tv3.pem -ca-key=c-tv3-key.pem -config=tv4-config.json -profile=$prof tv4.json
  compare_certs "TV4 $prof" c-tv4-$prof.pem x-tv4-$prof.pem ku
  compare_csrs "TV4 $prof" c-tv4-$prof.csr x-tv4-$prof.csr
  expect_eq "TV4 $prof: cfssl keeps key encipherment on the P-384 key" "critical: Digital Signature, Key Encipherment" \
    "$(cert_ext c-tv4-$prof.pem keyUsage)"
  expect_eq "TV4 $prof: etcd-pki drops it" "critical: Digital Signature" "$(cert_ext x-tv4-$prof.pem keyUsage)"
  expect_contains "TV4 $prof: and says so" '"key encipherment" dropped for the ECDSA P-384 key' "$(cat "$RUN_DIR/x-tv4-$prof.err")"
done
expect_eq "TV4: SAN order DNS first, then IP" "DNS:localhost, DNS:etcd0.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1" \
  "$(cert_ext x-tv4-server.pem subjectAltName)"
expect_eq "TV4: P-384 leaf signed with the CA's RSA key" "sha256WithRSAEncryption ec 384 P-384" \
  "$(cert_sigalg x-tv4-server.pem) $(cert_key x-tv4-server.pem)"
expect_eq "TV4 peer: EKU order" "TLS Web Server Authentication, TLS Web Client Authentication" "$(cert_ext x-tv4-peer.pem extendedKeyUsage)"
expect_eq "TV4 client: EKU" "TLS Web Client Authentication" "$(cert_ext x-tv4-client.pem extendedKeyUsage)"
expect_eq "TV4: 8760h under the 87600h CA (no capping)" $((8760 * H)) "$(cert_validity x-tv4-server.pem)"
# The native form with etcd-pki's own TV3 CA.
run "$E" issue --profile peer --config tv4-config.json --ca e-tv3.pem --ca-key e-tv3-key.pem --name n-tv4-peer tv4.json
expect_rc "TV4 native issue" 0
compare_certs "TV4 peer (native, own CA)" c-tv4-peer.pem n-tv4-peer.pem ku issuer
expect_eq "TV4 native: issuer is etcd-pki's TV3 CA" "$(cert_subject e-tv3.pem)" "$(cert_issuer n-tv4-peer.pem)"

# ---- TV12: multi-valued O, no hosts --------------------------------------------------------------------
cat >tv12.json <<'EOF'
{"CN":"system:node:worker-1","names":[{"O":"Zeta-longer"},{"O":"system:nodes"},{"O":"Alpha"}]}
EOF
cf_gen c-tv12 -ca=c-tv3.pem -ca-key=c-tv3-key.pem -config=tv4-config.json -profile=client tv12.json
ep_gen x-tv12 -ca=c-tv3.pem -ca-key=c-tv3-key.pem -config=tv4-config.json -profile=client tv12.json
compare_certs "TV12" c-tv12.pem x-tv12.pem ku
compare_csrs "TV12" c-tv12.csr x-tv12.csr
expect_eq "TV12: one RDN with the three O values, DER-sorted, PrintableString" \
  "CN=PRINTABLESTRING:system:node:worker-1,O=PRINTABLESTRING:system:nodes+O=PRINTABLESTRING:Zeta-longer+O=PRINTABLESTRING:Alpha" \
  "$(cert_subject x-tv12.pem RFC2253,show_type)"
expect_eq "TV12: no SAN" "" "$(cert_ext x-tv12.pem subjectAltName)"
expect_contains "TV12: cfssl warns about the missing hosts" 'lacks a "hosts" field' "$(cat "$RUN_DIR/c-tv12.err")"
expect_not_contains "TV12: etcd-pki does not (a client certificate needs no SANs)" 'hosts' "$(cat "$RUN_DIR/x-tv12.err")"

# ---- TV10: -hostname override ----------------------------------------------------------------------------
for v in 1 2; do
  if [ $v = 1 ]; then hn="a.example.com,10.1.1.1, b.example.com"; else hn="a.example.com,,10.0.0.1,"; fi
  cf_gen c-tv10-$v -ca=c-tv3.pem -ca-key=c-tv3-key.pem -config=tv4-config.json -profile=peer -hostname="$hn" tv4.json
  ep_gen x-tv10-$v -ca=c-tv3.pem -ca-key=c-tv3-key.pem -config=tv4-config.json -profile=peer -hostname="$hn" tv4.json
  run "$E" issue --profile peer --config tv4-config.json --ca c-tv3.pem --ca-key c-tv3-key.pem -H "$hn" --name n-tv10-$v tv4.json
  expect_rc "TV10.$v native issue -H" 0
  compare_certs "TV10.$v" c-tv10-$v.pem x-tv10-$v.pem san ku
  compare_csrs "TV10.$v" c-tv10-$v.csr x-tv10-$v.csr san
  expect_eq "TV10.$v: native -H = gencert -hostname" "$(cert_ext x-tv10-$v.pem subjectAltName)" "$(cert_ext n-tv10-$v.pem subjectAltName)"
  expect_eq "TV10.$v: the CSR carries the override, not the JSON hosts" "$(cert_ext x-tv10-$v.pem subjectAltName)" \
    "$(csr_ext x-tv10-$v.csr "Subject Alternative Name")"
done
expect_eq "TV10.1: cfssl keeps the space" "DNS:a.example.com, DNS: b.example.com, IP Address:10.1.1.1" "$(cert_ext c-tv10-1.pem subjectAltName)"
expect_eq "TV10.1: etcd-pki trims it" "DNS:a.example.com, DNS:b.example.com, IP Address:10.1.1.1" "$(cert_ext x-tv10-1.pem subjectAltName)"
expect_eq "TV10.2: cfssl writes empty DNS names" "DNS:a.example.com, DNS:, DNS:, IP Address:10.0.0.1" "$(cert_ext c-tv10-2.pem subjectAltName)"
expect_eq "TV10.2: etcd-pki drops them" "DNS:a.example.com, IP Address:10.0.0.1" "$(cert_ext x-tv10-2.pem subjectAltName)"
expect_eq "TV10.2: cfssl CSR likewise" "DNS:a.example.com, DNS:, DNS:, IP Address:10.0.0.1" "$(csr_ext c-tv10-2.csr "Subject Alternative Name")"

# ---- URI-like hosts in a leaf -------------------------------------------------------------------------------
echo '{"CN":"u","hosts":["spiffe://cluster.local/ns/etcd","u.example.com"],"key":{"algo":"rsa","size":2048}}' >uri.json
cf_gen c-uri -ca=c-tv3.pem -ca-key=c-tv3-key.pem -config=tv4-config.json -profile=peer uri.json
ep_gen x-uri -ca=c-tv3.pem -ca-key=c-tv3-key.pem -config=tv4-config.json -profile=peer uri.json
compare_certs "URI host" c-uri.pem x-uri.pem san
expect_eq "URI host: cfssl 1.2.0 makes a DNS name" "DNS:spiffe://cluster.local/ns/etcd, DNS:u.example.com" "$(cert_ext c-uri.pem subjectAltName)"
expect_eq "URI host: etcd-pki a URI SAN (DNS first)" "DNS:u.example.com, URI:spiffe://cluster.local/ns/etcd" "$(cert_ext x-uri.pem subjectAltName)"

# ---- CA path length variants ---------------------------------------------------------------------------------
for v in '"pathlen":0,"pathlenzero":true' '"pathlen":0' '"pathlen":3' '"pathlen":-1'; do
  echo "{\"CN\":\"pl\",\"key\":{\"algo\":\"ecdsa\",\"size\":256},\"ca\":{$v}}" >pl.json
  cf_gen c-pl -initca pl.json
  ep_gen e-pl -initca pl.json
  compare_certs "CA {$v}" c-pl.pem e-pl.pem
  compare_csrs "CA {$v}" c-pl.csr e-pl.csr
  rm -f c-pl* e-pl*
done
cd .. || exit 1

# ======================================================================================================
# 4. TV13: an intermediate through sign with a ca_constraint profile
# ======================================================================================================
mkdir tv13 && cd tv13 || exit 1
echo '{"CN":"root","ca":{"expiry":"87600h"}}' >root.json
echo '{"CN":"inter","hosts":["inter.example.com","10.9.9.9"],"ca":{"pathlen":2}}' >inter.json
echo '{"CN":"leaf","hosts":["leaf.example.com"]}' >leaf.json
cat >config.json <<'EOF'
{"signing":{"default":{"expiry":"8760h","usages":["signing","key encipherment","server auth","client auth"]},"profiles":{
 "intermediate":{"expiry":"43800h","usages":["cert sign","crl sign","signing"],"ca_constraint":{"is_ca":true,"max_path_len":0,"max_path_len_zero":true}},
 "server":{"expiry":"8760h","usages":["signing","key encipherment","server auth"]}}}}
EOF
cf_gen c-root -initca root.json
ep_gen e-root -initca root.json
compare_certs "TV13 root" c-root.pem e-root.pem
cfssl genkey -initca inter.json 2>/dev/null | cfssljson -bare c-inter-req >/dev/null 2>&1
run "$E" init-ca --name e-inter-req inter.json
expect_rc "TV13: etcd-pki init-ca makes the intermediate's key and CSR" 0
compare_csrs "TV13 inter request" c-inter-req.csr e-inter-req.csr
expect_eq "TV13: the CSR asks for pathlen 2" "critical: CA:TRUE, pathlen:2" "$(csr_ext e-inter-req.csr "Basic Constraints")"

cfssl sign -ca c-root.pem -ca-key c-root-key.pem -config config.json -profile intermediate c-inter-req.csr 2>/dev/null >c-sign.json
cfssljson -bare -f c-sign.json c-inter >/dev/null 2>&1
# etcd-pki signs cfssl's CSR with cfssl's root, and its own CSR with its own root.
run "$E" sign --ca c-root.pem --ca-key c-root-key.pem --config config.json --profile intermediate --json c-inter-req.csr
expect_rc "TV13: etcd-pki sign --json" 0
printf '%s\n' "$OUT" >x-sign.json
expect_eq "TV13: sign output keys as cfssl's ([cert,csr])" "$(jq -c keys_unsorted c-sign.json)" "$(jq -c keys_unsorted x-sign.json)"
cmp -s <(jq -j .csr x-sign.json) c-inter-req.csr && pass "TV13: csr = the input file's bytes" || fail "TV13: csr = the input file's bytes"
jq -j .cert x-sign.json >x-inter.pem
run "$E" sign --ca e-root.pem --ca-key e-root-key.pem --config config.json --profile intermediate --name e-inter e-inter-req.csr
expect_rc "TV13: etcd-pki sign (files)" 0
# Unlike cfssl, a CA certificate gets its chain file next to it (docs/cfssl-compat.md row 24).
expect_eq "TV13: sign writes the certificate and its chain file" "e-inter-chain.pem e-inter.pem" "$(ls e-inter* | grep -v req | tr '\n' ' ' | sed 's/ $//')"
check "TV13: e-inter-chain.pem is e-inter.pem then e-root.pem" cmp -s e-inter-chain.pem <(cat e-inter.pem e-root.pem)
for x in x-inter e-inter; do compare_certs "TV13 intermediate ($x)" c-inter.pem $x.pem; done
expect_eq "TV13: KU" "critical: Digital Signature, Certificate Sign, CRL Sign" "$(cert_ext x-inter.pem keyUsage)"
expect_eq "TV13: profile pathlen 0 overrides the CSR's 2" "critical: CA:TRUE, pathlen:0" "$(cert_ext x-inter.pem basicConstraints)"
expect_eq "TV13: only the IP SAN on a CA" "IP Address:10.9.9.9" "$(cert_ext x-inter.pem subjectAltName)"
expect_eq "TV13: AKI = root SKI" "$(cert_ski c-root.pem)" "$(cert_aki x-inter.pem)"
expect_eq "TV13: AKI equal in both" "$(cert_aki c-inter.pem)" "$(cert_aki x-inter.pem)"
expect_eq "TV13: 43800h" $((43800 * H)) "$(cert_validity x-inter.pem)"
check "TV13: intermediate verifies under the root" openssl verify -CAfile c-root.pem x-inter.pem
# A leaf under etcd-pki's intermediate (the intermediate key is the CSR's key): chain verifies.
run "$E" issue --profile server --config config.json --ca e-inter.pem --ca-key e-inter-req-key.pem --name leaf leaf.json
expect_rc "TV13: leaf from the intermediate" 0
check "TV13: root -> intermediate -> leaf verifies" openssl verify -CAfile e-root.pem -untrusted e-inter.pem -purpose sslserver leaf.pem
cfssl gencert -ca e-inter.pem -ca-key e-inter-req-key.pem -config config.json -profile server leaf.json 2>/dev/null | cfssljson -bare c-leaf >/dev/null 2>&1
check "TV13: cfssl also signs with etcd-pki's intermediate; chain verifies" \
  openssl verify -CAfile e-root.pem -untrusted e-inter.pem -purpose sslserver c-leaf.pem
compare_certs "TV13 leaf under the intermediate" c-leaf.pem leaf.pem ku
expect_eq "TV13 leaf: cfssl KU on the default ECDSA key" "critical: Digital Signature, Key Encipherment" "$(cert_ext c-leaf.pem keyUsage)"
expect_eq "TV13 leaf: etcd-pki KU" "critical: Digital Signature" "$(cert_ext leaf.pem keyUsage)"
# Refusals: both refuse a CA CSR under a non-CA profile, and a CA CSR under the pathlen-0 intermediate.
cfssl sign -ca c-root.pem -ca-key c-root-key.pem -config config.json -profile server c-inter-req.csr >/dev/null 2>"$RUN_DIR/cf.err"
expect_eq "TV13: cfssl refuses a CA CSR under a non-CA profile (exit 1)" 1 $?
expect_contains "TV13: cfssl says 5300" '"code":5300' "$(cat "$RUN_DIR/cf.err")"
run "$E" sign --ca c-root.pem --ca-key c-root-key.pem --config config.json --profile server --name no c-inter-req.csr
expect_rc "TV13: etcd-pki refuses it too (policy, exit 8)" 8
cfssl sign -ca x-inter.pem -ca-key c-inter-req-key.pem -config config.json -profile intermediate e-inter-req.csr >/dev/null 2>"$RUN_DIR/cf.err"
expect_eq "TV13: cfssl: a pathlen-0 CA cannot sign a CA" 1 $?
run "$E" sign --ca x-inter.pem --ca-key c-inter-req-key.pem --config config.json --profile intermediate --name no e-inter-req.csr
expect_rc "TV13: etcd-pki: a pathlen-0 CA cannot sign a CA (policy)" 8
expect_contains "TV13: etcd-pki names the reason" "pathlen 0" "$ERR"
check "TV13: nothing written by the refusals" test ! -e no.pem
cd .. || exit 1

# ======================================================================================================
# 5. The cfssl traps etcd-pki closes (the cfssl side asserted, so the docs stay true)
# ======================================================================================================
mkdir traps && cd traps || exit 1
cp "$FIXTURES/seed-per-host/"*.json .
"$E" init-ca ca-csr.json >/dev/null 2>&1
cfssl gencert -ca nope.pem -ca-key ca-key.pem server.json >"$RUN_DIR/cf.out" 2>"$RUN_DIR/cf.err"
expect_eq "cfssl: a missing -ca file fails (exit 1), as a bare string" "1 open nope.pem: no such file or directory" \
  "$? $(tail -n 1 "$RUN_DIR/cf.err")"
run "$E" gencert -ca nope.pem -ca-key ca-key.pem server.json
expect_rc "etcd-pki: a missing -ca file is a CA error" 6
cfssl gencert server.json >"$RUN_DIR/cf.out" 2>"$RUN_DIR/cf.err"
expect_eq "cfssl: gencert without -ca exits 0 with empty stdout" "0 0" "$? $(wc -c <"$RUN_DIR/cf.out")"
run "$E" gencert server.json
expect_rc "etcd-pki: gencert without -ca is an error" 6
cfssl gencert -ca ca.pem -ca-key ca-key.pem -config ca-config.json -profile nosuch server.json 2>"$RUN_DIR/cf.err" >"$RUN_DIR/cf.out"
expect_eq "cfssl: an unknown profile with a usage-less default fails only at signing (5100)" 1 $?
expect_contains "cfssl: 5100" '"code":5100' "$(cat "$RUN_DIR/cf.err")"
echo '{"signing":{"default":{"expiry":"24h","usages":["digital signature","client auth"]},"profiles":{"server":{"expiry":"8760h","usages":["signing","server auth"]}}}}' >fallback.json
cfssl gencert -ca ca.pem -ca-key ca-key.pem -config fallback.json -profile sever server.json 2>/dev/null | cfssljson -bare typo >/dev/null 2>&1
expect_eq "cfssl: a misspelt profile silently uses the default (client auth, 24h)" "TLS Web Client Authentication $((24 * H))" \
  "$(cert_ext typo.pem extendedKeyUsage) $(cert_validity typo.pem)"
run "$E" gencert -ca ca.pem -ca-key ca-key.pem -config fallback.json -profile sever server.json
expect_rc "etcd-pki: the misspelt profile is a config error" 4
expect_contains "etcd-pki: and lists the profiles" "server" "$ERR"
cd .. || exit 1

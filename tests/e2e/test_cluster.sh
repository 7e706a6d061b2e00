#!/usr/bin/env bash
# `etcd-pki cluster`: the whole-cluster PKI. Layout, modes, every certificate checked with
# openssl (chain, purpose, SANs, CN, key usages, key type, validity), the generated etcd.conf.yml,
# etcdctl.env and MANIFEST, IPv6/DNS members, the JSON spec, an existing CA, the kubeadm layout,
# re-run semantics (keep, add a member, conflicting change, --force), and bad specs that must
# fail with their exit code and write nothing. ECDSA keys except where the check is about RSA.
source "$(dirname "$0")/lib.sh"

# ---- local helpers (everything through openssl) --------------------------------------------------
CAP="$WORK/.capture"
mkdir -p "$CAP"
# crun cmd...: RC = exit status, ERR = stderr (stdout is discarded).
crun() { "$@" >"$CAP/out" 2>"$CAP/err" </dev/null; RC=$?; ERR=$(cat "$CAP/err"); }
# rc_is "description" expected   (after crun)
rc_is() { if [ "$RC" = "$2" ]; then pass "$1"; else fail "$1: exit $RC, expected $2; stderr: $ERR"; fi; }
has() { if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1: [$3] does not contain [$2]"; fi; }
lacks() { if [[ "$3" != *"$2"* ]]; then pass "$1"; else fail "$1: [$3] contains [$2]"; fi; }
nlines() { if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | wc -l; fi; }
# sorted "a, c, b" -> "a, b, c"
sorted() { printf '%s\n' "$1" | sed 's/, /\n/g' | sed '/^$/d' | LC_ALL=C sort | paste -sd, - | sed 's/,/, /g'; }
# ext FILE NAME: an extension's values on one line, "critical: " first when it is critical.
ext() {
  openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null | awk '
    NR == 1 { out = ($0 ~ /critical[[:space:]]*$/) ? "critical:" : ""; next }
    { v = $0; gsub(/^[[:space:]]+|[[:space:]]+$/, "", v); if (v != "") out = (out == "" ? v : out " " v) }
    END { print out }'
}
# sans FILE: the SANs as "DNS:a, IP:1.2.3.4", sorted.
sans() { sorted "$(ext "$1" subjectAltName | sed 's/IP Address:/IP:/g')"; }
has_san_ext() { openssl x509 -in "$1" -noout -text 2>/dev/null | grep -q 'X509v3 Subject Alternative Name'; }
subj() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253 2>/dev/null | sed 's/^subject=//'; }
issuer() { openssl x509 -in "$1" -noout -issuer -nameopt RFC2253 2>/dev/null | sed 's/^issuer=//'; }
cn() { subj "$1" | sed -n 's/^CN=\([^,]*\).*/\1/p'; }
epoch() { date -u -d "$(openssl x509 -in "$1" -noout "-$2" 2>/dev/null | sed 's/^[^=]*=//')" +%s; }
validity() { echo $(($(epoch "$1" enddate) - $(epoch "$1" startdate))); }
# keytype CERT: "rsa 3072", "ec P-256", "ed25519"
keytype() {
  openssl x509 -in "$1" -noout -text 2>/dev/null | awk '
    /Public Key Algorithm:/ { a = $NF } /Public-Key: \(/ { s = $0; sub(/.*\(/, "", s); sub(/ bit.*/, "", s) }
    /NIST CURVE:/ { c = $NF }
    END { if (a == "rsaEncryption") print "rsa " s; else if (a == "id-ecPublicKey") print "ec " c; else if (a == "ED25519") print "ed25519"; else print a }'
}
# pair_ok CERT KEY: the key belongs to the certificate.
pair_ok() {
  local a b
  a=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) && b=$(openssl pkey -in "$2" -pubout 2>/dev/null) && [ -n "$a" ] && [ "$a" = "$b" ]
}
# verifies CA CERT PURPOSE [openssl verify options]
verifies() { local ca=$1 cert=$2 p=$3; shift 3; openssl verify -CAfile "$ca" -purpose "$p" "$@" "$cert" >/dev/null 2>&1; }
not() { ! "$@"; }
# state DIR: every entry with its type and mode, and every file's SHA-256 (hidden files too).
state() {
  (cd "$1" && find . -mindepth 1 -printf '%p %y %m\n' | LC_ALL=C sort | while read -r p t m; do
    if [ "$t" = f ]; then echo "$p $t $m $(sha256sum <"$p" | cut -d' ' -f1)"; else echo "$p $t $m"; fi
  done)
}
# mtimes DIR: every file with its modification time (to the nanosecond).
mtimes() { (cd "$1" && find . -type f -printf '%p %T@\n' | LC_ALL=C sort); }
sha() { sha256sum <"$1" | cut -d' ' -f1; }
# tree DIR: the relative paths of everything in DIR, one per line, sorted.
tree() { (cd "$1" && find . -mindepth 1 | sed 's#^\./##' | LC_ALL=C sort); }
# manifest_problems MEMBERDIR: "" when MANIFEST lists exactly the folder's other files, each with
# its SHA-256 (any case) and, for certificates, the expiry openssl reads.
manifest_problems() {
  local dir=$1 out="" listed actual f hex want exp
  listed=$(grep -v '^#' "$dir/MANIFEST" | awk '{print $1}' | LC_ALL=C sort)
  actual=$(cd "$dir" && find . -type f ! -name MANIFEST | sed 's#^\./##' | LC_ALL=C sort)
  [ "$listed" = "$actual" ] || out+="files [$(echo $listed)] vs [$(echo $actual)]; "
  while read -r f hex; do
    [ -f "$dir/$f" ] || { out+="$f missing; "; continue; }
    want=$(sha "$dir/$f")
    [ "${hex#sha256:}" != "$hex" ] || out+="$f: no sha256; "
    [ "$(echo "${hex#sha256:}" | tr A-F a-f)" = "$want" ] || out+="$f: sha256 ${hex#sha256:} != $want; "
    if [[ "$f" == *.crt || ( "$f" == *.pem && "$f" != *-key.pem ) ]]; then
      exp=$(grep "^$f " "$dir/MANIFEST" | grep -o 'expires: [^ ]*' | sed 's/expires: //')
      want=$(date -u -d "@$(epoch "$dir/$f" enddate)" +%Y-%m-%dT%H:%M:%SZ)
      [ "$exp" = "$want" ] || out+="$f: expires [$exp] != $want; "
    elif grep "^$f " "$dir/MANIFEST" | grep -q 'expires:'; then
      out+="$f: a key with an expiry; "
    fi
  done < <(grep -v '^#' "$dir/MANIFEST" | awk '{print $1, $2}')
  echo "$out"
}
# conf_value FILE KEY: the quoted value of a top-level key in etcd.conf.yml.
conf_value() { sed -n "s/^$2: \"\(.*\)\"$/\1/p" "$1"; }
# tls_value FILE SECTION KEY: a key inside client-/peer-transport-security.
tls_value() { awk -v s="$2:" -v k="$3" '$0 == s { in_s = 1; next } /^[^ ]/ { in_s = 0 }
  in_s { line = $0; sub(/^ +/, "", line); if (index(line, k ": ") == 1) { v = substr(line, length(k) + 3); gsub(/"/, "", v); print v } }' "$1"; }
env_value() { sed -n "s/^$2=//p" "$1"; }

EKU_SC="TLS Web Server Authentication, TLS Web Client Authentication"
EKU_C="TLS Web Client Authentication"
DAY=86400

# ==== 1. The seed topology ===========================================================================
IC3="etcd-1=https://10.20.13.10:2380,etcd-2=https://10.20.13.11:2380,etcd-3=https://10.20.13.12:2380"
crun "$ETCD_PKI" cluster --initial-cluster "$IC3" --client root --client kube-apiserver-etcd-client --out pki
rc_is "seed: cluster succeeds" 0
has "seed: summary counts (CA + 3x2 + 2 clients issued)" "3 members, 2 clients in pki: issued 9, kept 0, wrote 44 files" "$ERR"

expected_tree="ca
ca/ca-crl.pem
ca/ca-index.txt
ca/ca-key.pem
ca/ca.crl
ca/ca.csr
ca/ca.pem
clients
clients/ca.pem
clients/kube-apiserver-etcd-client-key.pem
clients/kube-apiserver-etcd-client.pem
clients/root-key.pem
clients/root.pem"
for n in 1 2 3; do
  expected_tree+="
etcd-$n"
  for f in MANIFEST ca.crl ca.pem etcd.conf.yml etcd.env etcd.service etcdctl.env peer-key.pem peer.pem server-key.pem server.pem; do
    expected_tree+="
etcd-$n/$f"
  done
done
expect_eq "seed: exactly the documented layout" "$(echo "$expected_tree" | LC_ALL=C sort)" "$(tree pki)"

# No CA key in any member folder (by name, by content, by PEM label outside *-key.pem).
expect_eq "seed: no ca-key file outside pki/ca" "" "$(find pki -name 'ca-key*' ! -path 'pki/ca/*')"
ca_key_sha=$(sha pki/ca/ca-key.pem)
leak=""
for f in $(find pki/etcd-* pki/clients -type f); do [ "$(sha "$f")" = "$ca_key_sha" ] && leak+="$f "; done
expect_eq "seed: no member or client file has the CA key's content" "" "$leak"
expect_eq "seed: private keys only in *-key.pem files" "" "$(grep -l 'PRIVATE KEY' -r pki | grep -v -- '-key.pem$')"

# Modes: keys 0600, everything else 0644, folders 0700.
bad_modes=""
while read -r p t m; do
  want=644
  [ "$t" = d ] && want=700
  [[ "$p" == *-key.pem ]] && want=600
  [ "$m" = "$want" ] || bad_modes+="$p=$m(want $want) "
done < <(find pki -printf '%p %y %m\n')
expect_eq "seed: modes (keys 600, folders 700, others 644)" "" "$bad_modes"
expect_eq "seed: the out folder itself is 0700" 700 "$(stat -c %a pki)"
expect_eq "seed: 9 private keys, all 0600" "9 9" "$(find pki -name '*-key.pem' | wc -l) $(find pki -name '*-key.pem' -perm 600 | wc -l)"

# The CA.
CA=pki/ca/ca.pem
expect_eq "seed: CA subject" "CN=etcd-ca" "$(subj $CA)"
expect_eq "seed: CA basic constraints" "critical: CA:TRUE" "$(ext $CA basicConstraints)"
expect_eq "seed: CA key usage" "critical: Certificate Sign, CRL Sign" "$(ext $CA keyUsage)"
expect_eq "seed: CA key is ECDSA P-256" "ec P-256" "$(keytype $CA)"
expect_eq "seed: CA validity is the default 87600h" $((87600 * 3600)) "$(validity $CA)"
check "seed: CA key matches the CA certificate" pair_ok $CA pki/ca/ca-key.pem
check "seed: ca.csr is a CSR with a valid self-signature" csr_signature_ok pki/ca/ca.csr
check "seed: CA is self-signed (verifies against itself)" openssl verify -CAfile $CA $CA

# A foreign CA for negative checks.
crun "$ETCD_PKI" init-ca --out other
rc_is "other CA for negative checks" 0

for n in 1 2 3; do
  d=pki/etcd-$n ip=10.20.13.1$((n - 1)) tag="seed etcd-$n"
  check "$tag: ca.pem is the CA certificate" cmp -s $d/ca.pem $CA
  for role in server peer; do
    c=$d/$role.pem
    check "$tag: $role verifies against ca.pem as sslserver" verifies $CA $c sslserver
    check "$tag: $role verifies against ca.pem as sslclient" verifies $CA $c sslclient
    check "$tag: $role does not verify against another CA" not verifies other/ca.pem $c sslserver
    check "$tag: $role key matches" pair_ok $c $d/$role-key.pem
    expect_eq "$tag: $role subject is CN=member" "CN=etcd-$n" "$(subj $c)"
    expect_eq "$tag: $role issuer is the CA" "CN=etcd-ca" "$(issuer $c)"
    expect_eq "$tag: $role EKU server+client auth" "$EKU_SC" "$(ext $c extendedKeyUsage)"
    expect_eq "$tag: $role KU digital signature only (ECDSA)" "critical: Digital Signature" "$(ext $c keyUsage)"
    expect_eq "$tag: $role key ECDSA P-256" "ec P-256" "$(keytype $c)"
    expect_eq "$tag: $role not a CA" "critical: CA:FALSE" "$(ext $c basicConstraints)"
    expect_eq "$tag: $role validity is the default 8760h" $((8760 * 3600)) "$(validity $c)"
  done
  expect_eq "$tag: server SANs exactly" \
    "$(sorted "DNS:etcd-$n, DNS:localhost, IP:$ip, IP:127.0.0.1, IP:0:0:0:0:0:0:0:1")" "$(sans $d/server.pem)"
  expect_eq "$tag: peer SANs exactly (own name and IP only)" "$(sorted "DNS:etcd-$n, IP:$ip")" "$(sans $d/peer.pem)"
  check "$tag: peer verifies for its own IP" verifies $CA $d/peer.pem sslserver -verify_ip $ip
  other_ip=10.20.13.1$((n % 3))
  check "$tag: peer does not verify for another member's IP ($other_ip)" not verifies $CA $d/peer.pem sslserver -verify_ip $other_ip
  check "$tag: server verifies for 127.0.0.1" verifies $CA $d/server.pem sslserver -verify_ip 127.0.0.1
  check "$tag: server verifies for ::1" verifies $CA $d/server.pem sslserver -verify_ip ::1
  check "$tag: server verifies for localhost" verifies $CA $d/server.pem sslserver -verify_hostname localhost

  # etcd.conf.yml
  y=$d/etcd.conf.yml
  expect_eq "$tag: conf name" "etcd-$n" "$(conf_value $y name)"
  expect_eq "$tag: conf listen-peer-urls" "https://$ip:2380" "$(conf_value $y listen-peer-urls)"
  expect_eq "$tag: conf initial-advertise-peer-urls" "https://$ip:2380" "$(conf_value $y initial-advertise-peer-urls)"
  expect_eq "$tag: conf listen-client-urls" "https://$ip:2379,https://127.0.0.1:2379" "$(conf_value $y listen-client-urls)"
  expect_eq "$tag: conf advertise-client-urls" "https://$ip:2379" "$(conf_value $y advertise-client-urls)"
  expect_eq "$tag: conf initial-cluster" "$IC3" "$(conf_value $y initial-cluster)"
  expect_eq "$tag: conf initial-cluster-state" "new" "$(conf_value $y initial-cluster-state)"
  expect_eq "$tag: conf initial-cluster-token" "etcd-cluster" "$(conf_value $y initial-cluster-token)"
  expect_eq "$tag: conf client TLS paths" "/etc/etcd/pki/server.pem /etc/etcd/pki/server-key.pem /etc/etcd/pki/ca.pem true" \
    "$(tls_value $y client-transport-security cert-file) $(tls_value $y client-transport-security key-file) $(tls_value $y client-transport-security trusted-ca-file) $(tls_value $y client-transport-security client-cert-auth)"
  expect_eq "$tag: conf peer TLS paths" "/etc/etcd/pki/peer.pem /etc/etcd/pki/peer-key.pem /etc/etcd/pki/ca.pem true" \
    "$(tls_value $y peer-transport-security cert-file) $(tls_value $y peer-transport-security key-file) $(tls_value $y peer-transport-security trusted-ca-file) $(tls_value $y peer-transport-security client-cert-auth)"

  # etcdctl.env
  e=$d/etcdctl.env
  expect_eq "$tag: etcdctl.env ETCDCTL_API" 3 "$(env_value $e ETCDCTL_API)"
  expect_eq "$tag: etcdctl.env endpoints (all 3 members)" \
    "https://10.20.13.10:2379,https://10.20.13.11:2379,https://10.20.13.12:2379" "$(env_value $e ETCDCTL_ENDPOINTS)"
  expect_eq "$tag: etcdctl.env cacert/cert/key" "/etc/etcd/pki/ca.pem /etc/etcd/pki/server.pem /etc/etcd/pki/server-key.pem" \
    "$(env_value $e ETCDCTL_CACERT) $(env_value $e ETCDCTL_CERT) $(env_value $e ETCDCTL_KEY)"
  expect_eq "$tag: etcdctl.env works with set -a; ." "3 3" \
    "$(set -a; . "$e"; set +a; echo "$ETCDCTL_API $(echo "$ETCDCTL_ENDPOINTS" | tr , '\n' | wc -l)")"

  # MANIFEST
  expect_eq "$tag: MANIFEST lists every file with its sha256 and the certificates' expiry" "" "$(manifest_problems $d)"
  expect_eq "$tag: MANIFEST has 10 entries, 3 with an expiry" "10 3" \
    "$(grep -vc '^#' $d/MANIFEST) $(grep -c 'expires: ' $d/MANIFEST)"
done
expect_match "seed: MANIFEST names the install folder" '^# etcd-1: .*/etc/etcd/pki/' "$(head -1 pki/etcd-1/MANIFEST)"
if python3 -c 'import yaml' 2>/dev/null; then
  expect_eq "seed: etcd.conf.yml is valid YAML with the expected keys" \
    "etcd-2 etcd-cluster True /etc/etcd/pki/peer.pem" \
    "$(python3 -c 'import sys, yaml; c = yaml.safe_load(open(sys.argv[1]))
print(c["name"], c["initial-cluster-token"], c["client-transport-security"]["client-cert-auth"], c["peer-transport-security"]["cert-file"])' pki/etcd-2/etcd.conf.yml)"
fi

for c in root kube-apiserver-etcd-client; do
  f=pki/clients/$c.pem tag="seed client $c"
  check "$tag: verifies as sslclient" verifies $CA $f sslclient
  check "$tag: does not verify as sslserver" not verifies $CA $f sslserver
  check "$tag: key matches" pair_ok $f pki/clients/$c-key.pem
  expect_eq "$tag: subject CN=name" "CN=$c" "$(subj $f)"
  expect_eq "$tag: EKU client auth only" "$EKU_C" "$(ext $f extendedKeyUsage)"
  expect_eq "$tag: KU digital signature" "critical: Digital Signature" "$(ext $f keyUsage)"
  check "$tag: no SAN extension" not has_san_ext $f
done
check "seed: has_san_ext does see a server's SANs (the helper works)" has_san_ext pki/etcd-1/server.pem

# ==== 2. Re-run semantics (on the seed PKI) ==========================================================
before=$(state pki)
before_m=$(mtimes pki)
crun "$ETCD_PKI" cluster --initial-cluster "$IC3" --client root --client kube-apiserver-etcd-client --out pki
rc_is "rerun: same command succeeds" 0
has "rerun: nothing issued, all 9 kept, nothing written" "issued 0, kept 9, wrote 0 files" "$ERR"
expect_eq "rerun: every file byte-identical" "$before" "$(state pki)"
expect_eq "rerun: no file rewritten (mtimes)" "$before_m" "$(mtimes pki)"

# Add a member: only its certificates are issued.
IC4="$IC3,etcd-4=https://10.20.13.13:2380"
declare -A old_sha
for f in $(cd pki && find . -type f | sed 's#^\./##'); do old_sha[$f]=$(sha pki/$f); done
crun "$ETCD_PKI" cluster --initial-cluster "$IC4" --client root --client kube-apiserver-etcd-client --out pki
rc_is "add member: succeeds" 0
has "add member: issues only etcd-4's 2 certificates" "4 members, 2 clients in pki: issued 2, kept 9, wrote 24 files" "$ERR"
has "add member: says what to run on the cluster first" $'\n  etcdctl member add etcd-4 --peer-urls=https://10.20.13.13:2380\n' "$ERR"
expect_eq "add member: etcd-4 joins a running cluster (etcd.env, etcd.conf.yml)" "existing existing" \
  "$(sed -n 's/^ETCD_INITIAL_CLUSTER_STATE=//p' pki/etcd-4/etcd.env) $(conf_value pki/etcd-4/etcd.conf.yml initial-cluster-state)"
expect_eq "add member: etcd-1 still says new" new "$(sed -n 's/^ETCD_INITIAL_CLUSTER_STATE=//p' pki/etcd-1/etcd.env)"
changed_certs=""
for f in "${!old_sha[@]}"; do
  case "$f" in
    */etcd.conf.yml|*/etcd.env|*/etcdctl.env|*/MANIFEST|ca/ca-index.txt) ;;
    *) [ "$(sha pki/$f)" = "${old_sha[$f]}" ] || changed_certs+="$f " ;;
  esac
done
expect_eq "add member: every existing CA/cert/key/ca.pem file byte-identical" "" "$changed_certs"
expect_eq "add member: the CA index gains exactly etcd-4's 2 certificates" "10 2" \
  "$(grep -c '^V' pki/ca/ca-index.txt) $(grep -c '/CN=etcd-4$' pki/ca/ca-index.txt)"
for n in 1 2 3; do
  expect_eq "add member: etcd-$n etcd.conf.yml has the new initial-cluster" "$IC4" "$(conf_value pki/etcd-$n/etcd.conf.yml initial-cluster)"
  has "add member: etcd-$n etcdctl.env has the 4th endpoint" "https://10.20.13.13:2379" "$(env_value pki/etcd-$n/etcdctl.env ETCDCTL_ENDPOINTS)"
  expect_eq "add member: etcd-$n MANIFEST matches the updated files" "" "$(manifest_problems pki/etcd-$n)"
  expect_eq "add member: etcd-$n name unchanged" "etcd-$n" "$(conf_value pki/etcd-$n/etcd.conf.yml name)"
done
check "add member: etcd-4 server verifies against the same CA" verifies $CA pki/etcd-4/server.pem sslserver -verify_ip 10.20.13.13
check "add member: etcd-4 peer verifies against the same CA" verifies $CA pki/etcd-4/peer.pem sslclient
expect_eq "add member: etcd-4 peer SANs" "$(sorted "DNS:etcd-4, IP:10.20.13.13")" "$(sans pki/etcd-4/peer.pem)"
expect_eq "add member: etcd-4 conf" "etcd-4 $IC4" "$(conf_value pki/etcd-4/etcd.conf.yml name) $(conf_value pki/etcd-4/etcd.conf.yml initial-cluster)"

# A conflicting change (etcd-2's IP) without --force: exit 10, nothing touched.
IC4_MOVED="etcd-1=https://10.20.13.10:2380,etcd-2=https://10.20.13.99:2380,etcd-3=https://10.20.13.12:2380,etcd-4=https://10.20.13.13:2380"
before=$(state pki)
before_m=$(mtimes pki)
crun "$ETCD_PKI" cluster --initial-cluster "$IC4_MOVED" --client root --client kube-apiserver-etcd-client --out pki
rc_is "changed IP: refused without --force (exit 10)" 10
expect_eq "changed IP: one line on stderr" 1 "$(nlines "$ERR")"
has "changed IP: names etcd-2's certificate" "etcd-2/" "$ERR"
has "changed IP: says --force" "--force" "$ERR"
has "changed IP: shows the new IP" "10.20.13.99" "$ERR"
expect_eq "changed IP: every file byte-identical" "$before" "$(state pki)"
expect_eq "changed IP: no file rewritten (mtimes)" "$before_m" "$(mtimes pki)"

# A failing run that would also add a member writes nothing at all.
crun "$ETCD_PKI" cluster --initial-cluster "$IC4_MOVED,etcd-5=https://10.20.13.14:2380" --client root --client kube-apiserver-etcd-client --out pki
rc_is "changed IP + new member: exit 10" 10
check "changed IP + new member: no etcd-5 folder" not test -e pki/etcd-5
expect_eq "changed IP + new member: every file byte-identical" "$before" "$(state pki)"
# A spec that fails validation on an existing output.
crun "$ETCD_PKI" cluster --initial-cluster "$IC4,etcd-5=https://10.20.13.13:2380" --out pki
rc_is "invalid spec on existing output: exit 3" 3
expect_eq "invalid spec on existing output: every file byte-identical" "$before" "$(state pki)"
# Another key type without --force: the existing keys would be replaced.
crun "$ETCD_PKI" cluster --initial-cluster "$IC4" --client root --client kube-apiserver-etcd-client --key-algo ed25519 --out pki
rc_is "other key type on existing output: exit 10" 10
expect_eq "other key type on existing output: every file byte-identical" "$before" "$(state pki)"
# A missing key cannot be silently replaced either.
cp pki/etcd-3/server-key.pem "$CAP/saved-key.pem"
rm pki/etcd-3/server-key.pem
crun "$ETCD_PKI" cluster --initial-cluster "$IC4" --client root --client kube-apiserver-etcd-client --out pki
rc_is "missing key: exit 10" 10
check "missing key: not re-created" not test -e pki/etcd-3/server-key.pem
cp -p "$CAP/saved-key.pem" pki/etcd-3/server-key.pem
chmod 600 pki/etcd-3/server-key.pem
expect_eq "missing key: restored state is the previous one" "$before" "$(state pki)"

# A failure found only when writing (after every key is made): a file where etcd-5's folder goes.
echo "not a folder" > pki/etcd-5
before=$(state pki)
crun "$ETCD_PKI" cluster --initial-cluster "$IC4,etcd-5=https://10.20.13.14:2380" --client root --client kube-apiserver-etcd-client --out pki
rc_is "write failure: exit 9" 9
has "write failure: names the path" "pki/etcd-5" "$ERR"
expect_eq "write failure: every file byte-identical (other members' configs not updated)" "$before" "$(state pki)"
expect_eq "write failure: no temp files left" "" "$(find pki -name '.*')"
rm pki/etcd-5
before=$(state pki)

# --force: everything re-issued, with a new CA.
cp pki/etcd-1/server.pem "$CAP/old-server.pem"
old_ca_sha=$(sha $CA)
crun "$ETCD_PKI" cluster --initial-cluster "$IC4_MOVED" --client root --client kube-apiserver-etcd-client --out pki --force
rc_is "--force: succeeds" 0
has "--force: CA + 4x2 + 2 issued, nothing kept" "issued 11, kept 0" "$ERR"
lacks "--force: a new CA" "$old_ca_sha" "$(sha $CA)"
same=""
for f in "${!old_sha[@]}"; do
  case "$f" in
    *.pem|*.csr) [ "$(sha pki/$f)" = "${old_sha[$f]}" ] && same+="$f " ;;
  esac
done
expect_eq "--force: every certificate, key and CSR replaced" "" "$same"
expect_eq "--force: etcd-2 has its new IP" "$(sorted "DNS:etcd-2, IP:10.20.13.99")" "$(sans pki/etcd-2/peer.pem)"
check "--force: the old certificates do not verify against the new CA" not verifies $CA "$CAP/old-server.pem" sslserver
for n in 1 2 3 4; do
  check "--force: etcd-$n server verifies against the new CA" verifies $CA pki/etcd-$n/server.pem sslserver
  check "--force: etcd-$n ca.pem is the new CA" cmp -s pki/etcd-$n/ca.pem $CA
  expect_eq "--force: etcd-$n MANIFEST up to date" "" "$(manifest_problems pki/etcd-$n)"
done
check "--force: root client verifies against the new CA" verifies $CA pki/clients/root.pem sslclient
expect_eq "--force: modes still right" "600 644 700" \
  "$(stat -c %a pki/etcd-2/server-key.pem) $(stat -c %a pki/etcd-2/server.pem) $(stat -c %a pki/etcd-2)"
expect_eq "--force: no temp files left" "" "$(find pki -name '.*')"

# ==== 3. --install-dir ===============================================================================
crun "$ETCD_PKI" cluster --initial-cluster "etcd-1=https://10.30.0.1:2380" --install-dir /opt/etcd/tls/ --out inst
rc_is "install-dir: succeeds" 0
y=inst/etcd-1/etcd.conf.yml
expect_eq "install-dir: client TLS paths" "/opt/etcd/tls/server.pem /opt/etcd/tls/server-key.pem /opt/etcd/tls/ca.pem" \
  "$(tls_value $y client-transport-security cert-file) $(tls_value $y client-transport-security key-file) $(tls_value $y client-transport-security trusted-ca-file)"
expect_eq "install-dir: peer TLS paths" "/opt/etcd/tls/peer.pem /opt/etcd/tls/peer-key.pem" \
  "$(tls_value $y peer-transport-security cert-file) $(tls_value $y peer-transport-security key-file)"
expect_eq "install-dir: etcdctl.env paths" "/opt/etcd/tls/ca.pem /opt/etcd/tls/server.pem /opt/etcd/tls/server-key.pem" \
  "$(env_value inst/etcd-1/etcdctl.env ETCDCTL_CACERT) $(env_value inst/etcd-1/etcdctl.env ETCDCTL_CERT) $(env_value inst/etcd-1/etcdctl.env ETCDCTL_KEY)"
expect_eq "install-dir: /etc/etcd/pki appears nowhere" "" "$(grep -rl /etc/etcd/pki inst)"
has "install-dir: MANIFEST names it" "/opt/etcd/tls/" "$(head -1 inst/etcd-1/MANIFEST)"
expect_eq "install-dir: a single loopback member listens on its IP and 127.0.0.1" "https://10.30.0.1:2379,https://127.0.0.1:2379" \
  "$(conf_value $y listen-client-urls)"

# ==== 4. Key algorithms ==============================================================================
crun "$ETCD_PKI" cluster --initial-cluster "etcd-1=https://10.40.0.1:2380" --client root --key-algo rsa --key-size 3072 --out rsa
rc_is "rsa 3072: succeeds" 0
for f in rsa/ca/ca.pem rsa/etcd-1/server.pem rsa/etcd-1/peer.pem rsa/clients/root.pem; do
  expect_eq "rsa 3072: $f key" "rsa 3072" "$(keytype $f)"
done
expect_eq "rsa 3072: server KU digital signature + key encipherment" "critical: Digital Signature, Key Encipherment" "$(ext rsa/etcd-1/server.pem keyUsage)"
expect_eq "rsa 3072: peer KU digital signature + key encipherment" "critical: Digital Signature, Key Encipherment" "$(ext rsa/etcd-1/peer.pem keyUsage)"
expect_eq "rsa 3072: client KU digital signature + key encipherment" "critical: Digital Signature, Key Encipherment" "$(ext rsa/clients/root.pem keyUsage)"
check "rsa 3072: server verifies" verifies rsa/ca/ca.pem rsa/etcd-1/server.pem sslserver
check "rsa 3072: server key matches" pair_ok rsa/etcd-1/server.pem rsa/etcd-1/server-key.pem
expect_eq "rsa 3072: PKCS#1 key file (as cfssl)" "-----BEGIN RSA PRIVATE KEY-----" "$(head -1 rsa/etcd-1/server-key.pem)"

crun "$ETCD_PKI" cluster --initial-cluster "etcd-1=https://10.40.0.1:2380" --client root --key-algo ecdsa --key-size 384 --out p384
rc_is "ecdsa 384: succeeds" 0
expect_eq "ecdsa 384: server key" "ec P-384" "$(keytype p384/etcd-1/server.pem)"
expect_eq "ecdsa 384: client key" "ec P-384" "$(keytype p384/clients/root.pem)"
expect_eq "ecdsa 384: SEC1 key file" "-----BEGIN EC PRIVATE KEY-----" "$(head -1 p384/etcd-1/server-key.pem)"

crun "$ETCD_PKI" cluster --initial-cluster "etcd-1=https://10.40.0.1:2380" --client root --key-algo ed25519 --out ed
rc_is "ed25519: succeeds" 0
for f in ed/ca/ca.pem ed/etcd-1/server.pem ed/etcd-1/peer.pem ed/clients/root.pem; do
  expect_eq "ed25519: $f key" "ed25519" "$(keytype $f)"
done
expect_eq "ed25519: server KU digital signature only" "critical: Digital Signature" "$(ext ed/etcd-1/server.pem keyUsage)"
check "ed25519: server verifies" verifies ed/ca/ca.pem ed/etcd-1/server.pem sslserver
check "ed25519: client verifies" verifies ed/ca/ca.pem ed/clients/root.pem sslclient
check "ed25519: peer key matches" pair_ok ed/etcd-1/peer.pem ed/etcd-1/peer-key.pem
crun "$ETCD_PKI" cluster --initial-cluster "etcd-1=https://10.40.0.1:2380" --client root --key-algo ed25519 --out ed
has "ed25519: rerun keeps everything" "issued 0, kept 4, wrote 0 files" "$ERR"

# ==== 5. IPv6 and DNS members ========================================================================
IC6="etcd-1=https://[fd00::1]:2380,etcd-2=https://etcd-2.example.com:2380"
crun "$ETCD_PKI" cluster --initial-cluster "$IC6" --out v6
rc_is "ipv6/dns: succeeds" 0
expect_eq "ipv6/dns: etcd-1 server SANs" "$(sorted "DNS:etcd-1, DNS:localhost, IP:FD00:0:0:0:0:0:0:1, IP:127.0.0.1, IP:0:0:0:0:0:0:0:1")" "$(sans v6/etcd-1/server.pem)"
expect_eq "ipv6/dns: etcd-1 peer SANs" "$(sorted "DNS:etcd-1, IP:FD00:0:0:0:0:0:0:1")" "$(sans v6/etcd-1/peer.pem)"
expect_eq "ipv6/dns: etcd-2 server SANs" "$(sorted "DNS:etcd-2, DNS:etcd-2.example.com, DNS:localhost, IP:127.0.0.1, IP:0:0:0:0:0:0:0:1")" "$(sans v6/etcd-2/server.pem)"
expect_eq "ipv6/dns: etcd-2 peer SANs" "$(sorted "DNS:etcd-2, DNS:etcd-2.example.com")" "$(sans v6/etcd-2/peer.pem)"
check "ipv6/dns: etcd-1 peer verifies for fd00::1" verifies v6/ca/ca.pem v6/etcd-1/peer.pem sslserver -verify_ip fd00::1
check "ipv6/dns: etcd-2 peer verifies for etcd-2.example.com" verifies v6/ca/ca.pem v6/etcd-2/peer.pem sslserver -verify_hostname etcd-2.example.com
check "ipv6/dns: etcd-2 peer does not verify for etcd-1" not verifies v6/ca/ca.pem v6/etcd-2/peer.pem sslserver -verify_hostname etcd-1
for n in 1 2; do
  expect_eq "ipv6/dns: etcd-$n initial-cluster keeps the brackets" "$IC6" "$(conf_value v6/etcd-$n/etcd.conf.yml initial-cluster)"
  expect_eq "ipv6/dns: etcd-$n etcdctl endpoints" "https://[fd00::1]:2379,https://etcd-2.example.com:2379" "$(env_value v6/etcd-$n/etcdctl.env ETCDCTL_ENDPOINTS)"
done
expect_eq "ipv6/dns: etcd-1 URLs in brackets" "https://[fd00::1]:2380 https://[fd00::1]:2380 https://[fd00::1]:2379" \
  "$(conf_value v6/etcd-1/etcd.conf.yml listen-peer-urls) $(conf_value v6/etcd-1/etcd.conf.yml initial-advertise-peer-urls) $(conf_value v6/etcd-1/etcd.conf.yml advertise-client-urls)"
expect_eq "ipv6/dns: etcd-2 advertises its DNS name" "https://etcd-2.example.com:2380 https://etcd-2.example.com:2379" \
  "$(conf_value v6/etcd-2/etcd.conf.yml initial-advertise-peer-urls) $(conf_value v6/etcd-2/etcd.conf.yml advertise-client-urls)"
expect_eq "ipv6/dns: a DNS-only member listens on all addresses" "https://0.0.0.0:2380" "$(conf_value v6/etcd-2/etcd.conf.yml listen-peer-urls)"
# Several addresses for one member (the name repeated).
crun "$ETCD_PKI" cluster --initial-cluster "etcd-1=https://10.50.0.1:2380,etcd-1=https://[fd00::50]:2380,etcd-2=https://10.50.0.2:2380" --out multi
rc_is "repeated name: succeeds" 0
expect_eq "repeated name: both addresses in the peer cert" "$(sorted "DNS:etcd-1, IP:10.50.0.1, IP:FD00:0:0:0:0:0:0:50")" "$(sans multi/etcd-1/peer.pem)"
expect_eq "repeated name: two members" "etcd-1 etcd-2" "$(ls multi | grep etcd | paste -sd' ')"

# ==== 6. A JSON spec =================================================================================
mkdir -p spec
cat > spec/cluster.json <<'JSON'
{
  "members": [
    {"name": "etcd-a", "ips": ["10.1.0.1", "fd00::a"], "dns": ["a.example.com"],
     "client_addresses": ["10.1.0.100", "etcd.example.com"], "peer_port": 12380, "client_port": 12379},
    {"name": "etcd-b", "dns": ["b.example.com"]},
    {"name": "etcd-c", "ips": ["10.1.0.3"]}
  ],
  "clients": [{"name": "admin", "cn": "root"}, {"name": "kube"}],
  "key": {"algo": "ecdsa", "size": 384},
  "expiry": "30d",
  "ca_expiry": "2y",
  "names": [{"C": "DE", "O": "Acme"}],
  "cluster_token": "tok-1"
}
JSON
crun "$ETCD_PKI" cluster spec/cluster.json --out jpki
rc_is "json: succeeds" 0
has "json: summary" "3 members, 2 clients in jpki: issued 9, kept 0" "$ERR"
JCA=jpki/ca/ca.pem
expect_eq "json: client admin has the given cn" "CN=root,O=Acme,C=DE" "$(subj jpki/clients/admin.pem)"
expect_eq "json: client kube's cn defaults to its name" "kube" "$(cn jpki/clients/kube.pem)"
check "json: client admin file is clients/admin.pem (not root.pem)" not test -e jpki/clients/root.pem
check "json: client verifies" verifies $JCA jpki/clients/admin.pem sslclient
expect_eq "json: CA has the names" "CN=etcd-ca,O=Acme,C=DE" "$(subj $JCA)"
expect_eq "json: server subject has the names" "CN=etcd-a,O=Acme,C=DE" "$(subj jpki/etcd-a/server.pem)"
expect_eq "json: etcd-a server SANs include client_addresses" \
  "$(sorted "DNS:etcd-a, DNS:a.example.com, DNS:etcd.example.com, DNS:localhost, IP:10.1.0.1, IP:FD00:0:0:0:0:0:0:A, IP:10.1.0.100, IP:127.0.0.1, IP:0:0:0:0:0:0:0:1")" \
  "$(sans jpki/etcd-a/server.pem)"
expect_eq "json: etcd-a peer SANs exclude client_addresses" \
  "$(sorted "DNS:etcd-a, DNS:a.example.com, IP:10.1.0.1, IP:FD00:0:0:0:0:0:0:A")" "$(sans jpki/etcd-a/peer.pem)"
check "json: etcd-a server verifies for the VIP 10.1.0.100" verifies $JCA jpki/etcd-a/server.pem sslserver -verify_ip 10.1.0.100
check "json: etcd-a peer does not verify for the VIP" not verifies $JCA jpki/etcd-a/peer.pem sslserver -verify_ip 10.1.0.100
lacks "json: etcd-c server has no client address of etcd-a" "10.1.0.100" "$(sans jpki/etcd-c/server.pem)"
expect_eq "json: keys are P-384" "ec P-384 ec P-384 ec P-384" "$(keytype $JCA) $(keytype jpki/etcd-b/peer.pem) $(keytype jpki/clients/kube.pem)"
expect_eq "json: leaf validity is expiry 30d" $((30 * DAY)) "$(validity jpki/etcd-a/server.pem)"
expect_eq "json: client validity is expiry 30d" $((30 * DAY)) "$(validity jpki/clients/admin.pem)"
expect_eq "json: CA validity is ca_expiry 2y" $((2 * 365 * DAY)) "$(validity $JCA)"
expect_eq "json: ports and token in etcd-a's conf" "https://10.1.0.1:12380 https://10.1.0.1:12379 tok-1" \
  "$(conf_value jpki/etcd-a/etcd.conf.yml initial-advertise-peer-urls) $(conf_value jpki/etcd-a/etcd.conf.yml advertise-client-urls) $(conf_value jpki/etcd-a/etcd.conf.yml initial-cluster-token)"
expect_eq "json: initial-cluster (first IP, else first DNS name)" \
  "etcd-a=https://10.1.0.1:12380,etcd-b=https://b.example.com:2380,etcd-c=https://10.1.0.3:2380" \
  "$(conf_value jpki/etcd-c/etcd.conf.yml initial-cluster)"
expect_eq "json: endpoints with each member's client port" "https://10.1.0.1:12379,https://b.example.com:2379,https://10.1.0.3:2379" \
  "$(env_value jpki/etcd-b/etcdctl.env ETCDCTL_ENDPOINTS)"
# Keys in the JSON match case-insensitively (documented).
printf '%s\n' '{"Members": [{"NAME": "etcd-x", "IPs": ["10.1.9.1"]}], "Clients": [{"Name": "u", "CN": "user-u"}]}' > spec/case.json
crun "$ETCD_PKI" cluster spec/case.json --out jcase
rc_is "json: keys match case-insensitively" 0
expect_eq "json: case-insensitive keys are read" "etcd-x user-u" "$(cn jcase/etcd-x/peer.pem 2>/dev/null) $(cn jcase/clients/u.pem 2>/dev/null)"
# --expiry/--ca-expiry on the command line.
crun "$ETCD_PKI" cluster --initial-cluster "etcd-1=https://10.60.0.1:2380" --client root --expiry 100h --ca-expiry 3y --out flags
rc_is "--expiry/--ca-expiry: succeeds" 0
expect_eq "--expiry 100h: server validity" $((100 * 3600)) "$(validity flags/etcd-1/server.pem)"
expect_eq "--expiry 100h: client validity" $((100 * 3600)) "$(validity flags/clients/root.pem)"
expect_eq "--ca-expiry 3y: CA validity" $((3 * 365 * DAY)) "$(validity flags/ca/ca.pem)"
expect_eq "--expiry: the leaves start when the CA does" "$(epoch flags/ca/ca.pem startdate)" "$(epoch flags/etcd-1/peer.pem startdate)"
# The command line overrides the spec.
crun "$ETCD_PKI" cluster spec/cluster.json --expiry 1y --key-algo ecdsa --key-size 256 --out jflags
rc_is "json + flags: succeeds" 0
expect_eq "json + flags: --expiry overrides the spec" $((365 * DAY)) "$(validity jflags/etcd-b/server.pem)"
expect_eq "json + flags: --key-size overrides the spec" "ec P-256" "$(keytype jflags/etcd-b/server.pem)"

# A new CA from the spec's CSR: its subject, and ca_expiry (or the CSR's own ca.expiry).
printf '%s\n' '{"members": [{"name": "etcd-1", "ips": ["10.1.8.1"]}], "ca_expiry": "2y", "ca": {"csr": {"CN": "my-etcd-ca", "names": [{"O": "Acme"}]}}}' > spec/ca-csr.json
crun "$ETCD_PKI" cluster spec/ca-csr.json --out jcacsr
rc_is "json ca.csr: succeeds" 0
expect_eq "json ca.csr: the CA has the CSR's subject" "CN=my-etcd-ca,O=Acme" "$(subj jcacsr/ca/ca.pem)"
expect_eq "json ca.csr: ca_expiry applies to it" $((2 * 365 * DAY)) "$(validity jcacsr/ca/ca.pem)"
check "json ca.csr: leaves verify against it" verifies jcacsr/ca/ca.pem jcacsr/etcd-1/server.pem sslserver
printf '%s\n' '{"members": [{"name": "etcd-1", "ips": ["10.1.8.1"]}], "ca_expiry": "2y", "ca": {"csr": {"CN": "my-etcd-ca", "ca": {"expiry": "100h"}}}}' > spec/ca-csr2.json
crun "$ETCD_PKI" cluster spec/ca-csr2.json --out jcacsr2
rc_is "json ca.csr with its own expiry: succeeds" 0
expect_eq "json ca.csr with its own expiry: that one wins" $((100 * 3600)) "$(validity jcacsr2/ca/ca.pem)"
expect_eq "json ca.csr with its own expiry: leaves capped at the CA's notAfter" "$(epoch jcacsr2/ca/ca.pem enddate)" "$(epoch jcacsr2/etcd-1/server.pem enddate)"
has "json ca.csr with its own expiry: the cap is a warning" "capped at the CA's notAfter" "$ERR"

# ==== 7. An existing CA from the spec =================================================================
echo '{"CN": "external-root-ca", "key": {"algo": "ecdsa", "size": 256}}' > ext-ca-csr.json
crun "$ETCD_PKI" init-ca ext-ca-csr.json --out extca
rc_is "existing CA: init-ca" 0
mkdir -p spec2
cat > spec2/cluster.json <<'JSON'
{
  "members": [{"name": "etcd-1", "ips": ["10.70.0.1"]}, {"name": "etcd-2", "ips": ["10.70.0.2"]}],
  "clients": [{"name": "root"}],
  "ca": {"cert": "../extca/ca.pem", "key": "../extca/ca-key.pem"}
}
JSON
crun "$ETCD_PKI" cluster spec2/cluster.json --out epki
rc_is "existing CA: cluster succeeds (paths relative to the spec file)" 0
has "existing CA: the CA is not issued" "issued 5, kept 0" "$ERR"
for f in epki/etcd-1/server.pem epki/etcd-2/peer.pem epki/clients/root.pem; do
  expect_eq "existing CA: $f issued by it" "CN=external-root-ca" "$(issuer $f)"
done
check "existing CA: server verifies against it" verifies extca/ca.pem epki/etcd-1/server.pem sslserver
check "existing CA: client verifies against it" verifies extca/ca.pem epki/clients/root.pem sslclient
check "existing CA: not against another CA" not verifies other/ca.pem epki/etcd-1/server.pem sslserver
check "existing CA: member ca.pem is the existing CA" cmp -s epki/etcd-1/ca.pem extca/ca.pem
check "existing CA: no pki/ca folder written" not test -e epki/ca
ext_key_sha=$(sha extca/ca-key.pem)
leak=""
for f in $(find epki -type f); do [ "$(sha "$f")" = "$ext_key_sha" ] && leak+="$f "; done
expect_eq "existing CA: its key is copied nowhere" "" "$leak"
before=$(state epki)
crun "$ETCD_PKI" cluster spec2/cluster.json --out epki
rc_is "existing CA: rerun succeeds" 0
has "existing CA: rerun keeps all 5" "issued 0, kept 5, wrote 0 files" "$ERR"
expect_eq "existing CA: rerun changes nothing" "$before" "$(state epki)"
# verify: no ca/ folder, so the members' ca.pem is the trust anchor; every member and client is checked.
crun "$ETCD_PKI" verify epki
rc_is "existing CA: verify exits 0" 0
has "existing CA: verify checks 2 members x (server, peer) + 1 client" \
  "5 certificate(s) checked against epki/etcd-1/ca.pem and epki/etcd-1/ca.crl: 0 error(s), 0 warning(s)" "$(cat "$CAP/out")"
crun "$ETCD_PKI" verify epki --ca extca/ca.pem
rc_is "existing CA: verify --ca exits 0" 0
has "existing CA: verify --ca checks the same 5" "5 certificate(s) checked against extca/ca.pem and extca/ca.crl: 0 error(s), 0 warning(s)" "$(cat "$CAP/out")"
# The same output signed by another CA: its certificates cannot be kept.
sed 's#\.\./extca/#../other/#g' spec2/cluster.json > spec2/other.json
crun "$ETCD_PKI" cluster spec2/other.json --out epki
rc_is "existing CA replaced: refused (exit 10)" 10
has "existing CA replaced: says why" "not signed by the cluster CA" "$ERR"
expect_eq "existing CA replaced: nothing changed" "$before" "$(state epki)"

# ==== 8. Bad specs: exit code, one line naming the field, nothing written =============================
# bad_spec "description" code needle json-or-empty args...
bad_spec() {
  local d=$1 code=$2 needle=$3 json=$4
  shift 4
  rm -rf badout
  if [ -n "$json" ]; then
    printf '%s\n' "$json" > bad.json
    crun "$ETCD_PKI" cluster bad.json --out badout "$@"
  else
    crun "$ETCD_PKI" cluster --out badout "$@"
  fi
  rc_is "bad spec ($d): exit $code" "$code"
  expect_eq "bad spec ($d): one line on stderr" 1 "$(nlines "$ERR")"
  has "bad spec ($d): message" "$needle" "$ERR"
  check "bad spec ($d): nothing written" not test -e badout
}
bad_spec "duplicate member names" 3 'members[1].name: duplicate member name "etcd-1"' \
  '{"members": [{"name": "etcd-1", "ips": ["10.0.0.1"]}, {"name": "etcd-1", "ips": ["10.0.0.2"]}]}'
bad_spec "duplicate IPs" 3 'members[1].ips: IP 10.0.0.1 given to both "etcd-1" and "etcd-2"' \
  '{"members": [{"name": "etcd-1", "ips": ["10.0.0.1"]}, {"name": "etcd-2", "ips": ["10.0.0.1"]}]}'
bad_spec "duplicate IPs, IPv6 spelled differently" 3 'members[1].ips' \
  '{"members": [{"name": "etcd-1", "ips": ["fd00::1"]}, {"name": "etcd-2", "ips": ["FD00:0:0::1"]}]}'
bad_spec "member without an address" 3 'members[1]: member "etcd-2" has no address' \
  '{"members": [{"name": "etcd-1", "ips": ["10.0.0.1"]}, {"name": "etcd-2"}]}'
bad_spec "invalid IP" 3 'members[0].ips: invalid IP address "10.0.0.256"' \
  '{"members": [{"name": "etcd-1", "ips": ["10.0.0.256"]}]}'
bad_spec "invalid DNS name" 3 'members[0].dns: invalid DNS name "bad..example.com"' \
  '{"members": [{"name": "etcd-1", "dns": ["bad..example.com"]}]}'
bad_spec "invalid client address" 3 'members[0].client_addresses' \
  '{"members": [{"name": "etcd-1", "ips": ["10.0.0.1"], "client_addresses": ["-vip.example.com"]}]}'
bad_spec "invalid member name" 3 'members[0].name' \
  '{"members": [{"name": "../etcd-1", "ips": ["10.0.0.1"]}]}'
bad_spec "unknown field member" 3 'unknown field "member" (did you mean "members"?)' \
  '{"member": [{"name": "etcd-1", "ips": ["10.0.0.1"]}]}'
bad_spec "unknown member field" 3 'members[0].ip: unknown field "ip"' \
  '{"members": [{"name": "etcd-1", "ip": ["10.0.0.1"]}]}'
bad_spec "no members" 3 'members' '{"members": []}'
bad_spec "duplicate clients" 3 'clients[1].name: duplicate client "root"' \
  '{"members": [{"name": "etcd-1", "ips": ["10.0.0.1"]}], "clients": [{"name": "root"}, {"name": "root"}]}'
bad_spec "client name that collides with another client's key" 3 'clients[1].name' \
  '{"members": [{"name": "etcd-1", "ips": ["10.0.0.1"]}], "clients": [{"name": "root"}, {"name": "root-key"}]}'
bad_spec "invalid port" 3 'members[0].peer_port' '{"members": [{"name": "etcd-1", "ips": ["10.0.0.1"], "peer_port": 70000}]}'
bad_spec "half an existing CA" 3 'ca.cert' '{"members": [{"name": "etcd-1", "ips": ["10.0.0.1"]}], "ca": {"cert": "x.pem"}}'
bad_spec "invalid JSON" 3 'invalid JSON' '{"members": [{"name": "etcd-1", "ips": ["10.0.0.1"]}'
bad_spec "http URL" 3 '--initial-cluster: entry 2: plain http URL' "" \
  --initial-cluster "etcd-1=https://10.0.0.1:2380,etcd-2=http://10.0.0.2:2380"
bad_spec "entry without =" 3 '--initial-cluster: entry 2: expected NAME=https://HOST:PORT' "" \
  --initial-cluster "etcd-1=https://10.0.0.1:2380,etcd-2"
bad_spec "duplicate IPs in --initial-cluster" 3 'IP 10.0.0.1 given to both' "" \
  --initial-cluster "etcd-1=https://10.0.0.1:2380,etcd-2=https://10.0.0.1:2380"
bad_spec "invalid host in --initial-cluster" 3 '--initial-cluster: entry 1: invalid host name' "" \
  --initial-cluster "etcd-1=https://bad..example.com:2380"
bad_spec "bad port in --initial-cluster" 3 '--initial-cluster: entry 1: invalid port' "" \
  --initial-cluster "etcd-1=https://10.0.0.1:65536"
bad_spec "IPv6 without brackets" 3 '--initial-cluster: entry 1: an IPv6 address in a URL needs brackets' "" \
  --initial-cluster "etcd-1=https://fd00::1:2380"
bad_spec "one member, two peer ports" 3 '--initial-cluster: entry 2' "" \
  --initial-cluster "etcd-1=https://10.0.0.1:2380,etcd-1=https://10.0.0.2:2381"
bad_spec "path in a peer URL" 3 '--initial-cluster: entry 1: unexpected path' "" \
  --initial-cluster "etcd-1=https://10.0.0.1:2380/x"
bad_spec "unknown layout" 2 '--layout' "" --initial-cluster "etcd-1=https://10.0.0.1:2380" --layout helm
bad_spec "bad key algorithm" 5 'invalid algorithm "dsa"' "" --initial-cluster "etcd-1=https://10.0.0.1:2380" --key-algo dsa
bad_spec "weak RSA key" 5 'RSA key is too weak' "" --initial-cluster "etcd-1=https://10.0.0.1:2380" --key-algo rsa --key-size 1024
bad_spec "bad expiry" 4 '--expiry' "" --initial-cluster "etcd-1=https://10.0.0.1:2380" --expiry 10x
bad_spec "zero expiry" 4 'positive' "" --initial-cluster "etcd-1=https://10.0.0.1:2380" --expiry 0s
bad_spec "bad ca-expiry" 4 '--ca-expiry' "" --initial-cluster "etcd-1=https://10.0.0.1:2380" --ca-expiry forever
bad_spec "neither spec nor --initial-cluster" 2 '--initial-cluster' ""
bad_spec "bad spec key algorithm" 5 'key.algo' '{"members": [{"name": "etcd-1", "ips": ["10.0.0.1"]}], "key": {"algo": "dsa"}}'
# A bad duration in the spec is an input error, as every bad value in it (include/etcd_pki/error.hpp).
bad_spec "bad spec expiry" 3 'expiry' '{"members": [{"name": "etcd-1", "ips": ["10.0.0.1"]}], "expiry": "soon"}'

# ==== 9. --layout kubeadm ============================================================================
crun "$ETCD_PKI" cluster --initial-cluster "etcd-1=https://10.80.0.1:2380,etcd-2=https://10.80.0.2:2380" --client root --layout kubeadm --out kpki
rc_is "kubeadm: succeeds" 0
has "kubeadm: CA + 2x4 + 1 issued" "issued 10, kept 0" "$ERR"
expected_tree="ca
ca/ca-crl.pem
ca/ca-index.txt
ca/ca.crl
ca/ca.crt
ca/ca.csr
ca/ca.key
clients
clients/ca.crt
clients/root.crt
clients/root.key"
for n in 1 2; do
  expected_tree+="
etcd-$n"
  for f in MANIFEST apiserver-etcd-client.crt apiserver-etcd-client.key etcd etcd.conf.yml etcd.env etcd.service etcdctl.env \
           etcd/ca.crl etcd/ca.crt \
           etcd/healthcheck-client.crt etcd/healthcheck-client.key etcd/peer.crt etcd/peer.key etcd/server.crt etcd/server.key; do
    expected_tree+="
etcd-$n/$f"
  done
done
expect_eq "kubeadm: exactly kubeadm's layout" "$(echo "$expected_tree" | LC_ALL=C sort)" "$(tree kpki)"
KCA=kpki/ca/ca.crt
bad_modes=""
while read -r p t m; do
  want=644
  [ "$t" = d ] && want=700
  [[ "$p" == *.key ]] && want=600
  [ "$m" = "$want" ] || bad_modes+="$p=$m(want $want) "
done < <(find kpki -printf '%p %y %m\n')
expect_eq "kubeadm: modes (keys 600, folders 700, others 644)" "" "$bad_modes"
kca_key_sha=$(sha kpki/ca/ca.key)
leak=""
for f in $(find kpki/etcd-* kpki/clients -type f); do [ "$(sha "$f")" = "$kca_key_sha" ] && leak+="$f "; done
expect_eq "kubeadm: the CA key is in no member folder" "" "$leak"
for n in 1 2; do
  d=kpki/etcd-$n tag="kubeadm etcd-$n"
  check "$tag: etcd/ca.crt is the CA" cmp -s $d/etcd/ca.crt $KCA
  check "$tag: server verifies (sslserver)" verifies $KCA $d/etcd/server.crt sslserver -verify_ip 10.80.0.$n
  check "$tag: peer verifies (sslclient)" verifies $KCA $d/etcd/peer.crt sslclient
  expect_eq "$tag: server SANs" "$(sorted "DNS:etcd-$n, DNS:localhost, IP:10.80.0.$n, IP:127.0.0.1, IP:0:0:0:0:0:0:0:1")" "$(sans $d/etcd/server.crt)"
  expect_eq "$tag: peer SANs" "$(sorted "DNS:etcd-$n, IP:10.80.0.$n")" "$(sans $d/etcd/peer.crt)"
  expect_eq "$tag: healthcheck CN" "kube-etcd-healthcheck-client" "$(cn $d/etcd/healthcheck-client.crt)"
  expect_eq "$tag: healthcheck EKU client auth" "$EKU_C" "$(ext $d/etcd/healthcheck-client.crt extendedKeyUsage)"
  check "$tag: healthcheck verifies (sslclient)" verifies $KCA $d/etcd/healthcheck-client.crt sslclient
  check "$tag: healthcheck key matches" pair_ok $d/etcd/healthcheck-client.crt $d/etcd/healthcheck-client.key
  expect_eq "$tag: apiserver client CN" "kube-apiserver-etcd-client" "$(cn $d/apiserver-etcd-client.crt)"
  expect_eq "$tag: apiserver client EKU client auth" "$EKU_C" "$(ext $d/apiserver-etcd-client.crt extendedKeyUsage)"
  check "$tag: apiserver client verifies (sslclient)" verifies $KCA $d/apiserver-etcd-client.crt sslclient
  check "$tag: apiserver client key matches" pair_ok $d/apiserver-etcd-client.crt $d/apiserver-etcd-client.key
  check "$tag: apiserver client has no SANs" not has_san_ext $d/apiserver-etcd-client.crt
  y=$d/etcd.conf.yml
  expect_eq "$tag: conf client TLS paths" "/etc/kubernetes/pki/etcd/server.crt /etc/kubernetes/pki/etcd/server.key /etc/kubernetes/pki/etcd/ca.crt" \
    "$(tls_value $y client-transport-security cert-file) $(tls_value $y client-transport-security key-file) $(tls_value $y client-transport-security trusted-ca-file)"
  expect_eq "$tag: conf peer TLS paths" "/etc/kubernetes/pki/etcd/peer.crt /etc/kubernetes/pki/etcd/peer.key /etc/kubernetes/pki/etcd/ca.crt" \
    "$(tls_value $y peer-transport-security cert-file) $(tls_value $y peer-transport-security key-file) $(tls_value $y peer-transport-security trusted-ca-file)"
  expect_eq "$tag: etcdctl.env uses the healthcheck client" \
    "/etc/kubernetes/pki/etcd/ca.crt /etc/kubernetes/pki/etcd/healthcheck-client.crt /etc/kubernetes/pki/etcd/healthcheck-client.key" \
    "$(env_value $d/etcdctl.env ETCDCTL_CACERT) $(env_value $d/etcdctl.env ETCDCTL_CERT) $(env_value $d/etcdctl.env ETCDCTL_KEY)"
  expect_eq "$tag: MANIFEST" "" "$(manifest_problems $d)"
done
expect_eq "kubeadm: client root (clients/root.crt)" "CN=root $EKU_C" "$(subj kpki/clients/root.crt) $(ext kpki/clients/root.crt extendedKeyUsage)"
check "kubeadm: client root verifies" verifies $KCA kpki/clients/root.crt sslclient
check "kubeadm: client root key matches" pair_ok kpki/clients/root.crt kpki/clients/root.key
expect_eq "kubeadm: no .pem files (but the CA folder's PEM copy of its CRL)" "" "$(find kpki -name '*.pem' ! -path kpki/ca/ca-crl.pem)"
before=$(state kpki)
crun "$ETCD_PKI" cluster --initial-cluster "etcd-1=https://10.80.0.1:2380,etcd-2=https://10.80.0.2:2380" --client root --layout kubeadm --out kpki
has "kubeadm: rerun keeps all 10" "issued 0, kept 10, wrote 0 files" "$ERR"
expect_eq "kubeadm: rerun changes nothing" "$before" "$(state kpki)"

# ==== 10. Threads: -j 1 gives the same layout as the default ===========================================
crun "$ETCD_PKI" cluster --initial-cluster "$IC3" --client root -j 1 --out one
rc_is "-j 1: succeeds" 0
crun "$ETCD_PKI" cluster --initial-cluster "$IC3" --client root --out many
expect_eq "-j 1: same files and modes as the default" "$(cd one && find . -printf '%p %m\n' | sort)" "$(cd many && find . -printf '%p %m\n' | sort)"
expect_eq "-j 1: same etcd.conf.yml" "$(sha many/etcd-2/etcd.conf.yml)" "$(sha one/etcd-2/etcd.conf.yml)"

# ==== 11. Growing and shrinking: what etcd cannot do in one step is refused, nothing written ==========
IC3G="g1=https://10.30.0.1:2380,g2=https://10.30.0.2:2380,g3=https://10.30.0.3:2380"
crun "$ETCD_PKI" cluster --initial-cluster "$IC3G" --client root --out gpki
rc_is "grow/shrink: a 3-member cluster" 0
before=$(state gpki)
crun "$ETCD_PKI" cluster --initial-cluster "g1=https://10.30.0.1:2380,g2=https://10.30.0.2:2380,g3b=https://10.30.0.3:2380" --client root --out gpki
rc_is "renamed member (g3 -> g3b, same address): input error" 3
has "renamed member: says so, naming the folder" "gpki: members: member \"g3b\" is new but has the address 10.30.0.3 of member \"g3\"" "$ERR"
expect_eq "renamed member: nothing written" "$before" "$(state gpki)"
crun "$ETCD_PKI" cluster --initial-cluster "g1=https://10.30.0.1:2380,g2=https://10.30.0.2:2380,g4=https://10.30.0.4:2380" --client root --out gpki
rc_is "one member added and another removed at once: input error" 3
has "added and removed: one member at a time" "adds g4 and removes g3: etcd changes its membership one member at a time" "$ERR"
expect_eq "added and removed: nothing written" "$before" "$(state gpki)"
crun "$ETCD_PKI" cluster --initial-cluster "h1=https://10.30.1.1:2380" --client root --out gpki
rc_is "every member removed: input error" 3
has "every member removed: says which" "keeps none of the cluster's members (g1, g2, g3)" "$ERR"
expect_eq "every member removed: nothing written" "$before" "$(state gpki)"
crun "$ETCD_PKI" cluster --initial-cluster "$IC3G" --client root --out gpki --initial-cluster-state running
rc_is "unknown --initial-cluster-state: usage error" 2
has "unknown --initial-cluster-state: names the option and the value" "--initial-cluster-state: unknown value \"running\" (use new or existing)" "$ERR"
expect_eq "unknown --initial-cluster-state: nothing written" "$before" "$(state gpki)"

# Shrink: g3's certificates revoked (cessationOfOperation) in the index and the CRL of every member
# folder, the folder moved aside, the etcdctl command printed.
G3_PEER=$(openssl x509 -in gpki/g3/peer.pem -noout -serial | cut -d= -f2)
G3_SERVER=$(openssl x509 -in gpki/g3/server.pem -noout -serial | cut -d= -f2)
crun "$ETCD_PKI" cluster --initial-cluster "g1=https://10.30.0.1:2380,g2=https://10.30.0.2:2380" --client root --out gpki
rc_is "shrink: succeeds" 0
has "shrink: says what it did" "g3 is removed: 2 certificate(s) revoked (cessationOfOperation)" "$ERR"
has "shrink: the etcdctl member remove to run" $'\n  etcdctl member remove "$(etcdctl member list | awk -F\', \' \'$3 == "g3" { print $1 }\')"' "$ERR"
check "shrink: gpki/g3 is gone" test ! -e gpki/g3
moved=$(ls -d gpki/.removed/g3-* 2>/dev/null)
check "shrink: moved to gpki/.removed/g3-<time> with its keys" test -f "$moved/peer-key.pem"
crl_text=$(openssl crl -inform DER -in gpki/ca/ca.crl -noout -text 2>/dev/null)
has "shrink: the CRL lists g3's peer certificate" "Serial Number: $G3_PEER" "$crl_text"
has "shrink: and its server certificate" "Serial Number: $G3_SERVER" "$crl_text"
expect_eq "shrink: both for cessation of operation" 2 "$(grep -c 'Cessation Of Operation' <<<"$crl_text")"
for m in g1 g2; do
  check "shrink: $m/ca.crl is the CA's new CRL" cmp gpki/$m/ca.crl gpki/ca/ca.crl
  expect_eq "shrink: $m/MANIFEST" "" "$(manifest_problems gpki/$m)"
  expect_eq "shrink: $m's initial cluster without g3" "g1=https://10.30.0.1:2380,g2=https://10.30.0.2:2380" "$(env_value gpki/$m/etcd.env ETCD_INITIAL_CLUSTER)"
done
crun "$ETCD_PKI" verify gpki
rc_is "shrink: verify gpki is clean (the removed folder is not looked at)" 0
before=$(state gpki)
crun "$ETCD_PKI" cluster --initial-cluster "g1=https://10.30.0.1:2380,g2=https://10.30.0.2:2380" --client root --out gpki
has "shrink: a rerun has nothing to do" "issued 0, kept 6, wrote 0 files" "$ERR"
expect_eq "shrink: a rerun changes nothing" "$before" "$(state gpki)"

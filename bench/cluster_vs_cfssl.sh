#!/usr/bin/env bash
# Same-run, interleaved timing of one `etcd-pki cluster` (CA + 3 server + 3 peer + 2 clients = 9
# keys) against the equivalent cfssl + cfssljson script, for RSA-2048 and ECDSA P-256.
#   bench/cluster_vs_cfssl.sh [RUNS]     (needs golang-cfssl; builds are taken from build/)
# Prints the median wall time of each and the ratio etcd-pki / cfssl. No test asserts a time.
set -euo pipefail
RUNS=${1:-7}
E=$(cd "$(dirname "$0")/.." && pwd)/build/cli/etcd-pki
[ -x "$E" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT; cd "$W"
cfssl_cluster() {  # the cfssl equivalent of one cluster run
  local A=$1 S=$2
  cat > cfg.json <<J
{"signing":{"default":{"expiry":"8760h"},"profiles":{
 "server":{"expiry":"8760h","usages":["signing","key encipherment","server auth","client auth"]},
 "peer":{"expiry":"8760h","usages":["signing","key encipherment","server auth","client auth"]},
 "client":{"expiry":"8760h","usages":["signing","key encipherment","client auth"]}}}}
J
  echo "{\"CN\":\"etcd-ca\",\"key\":{\"algo\":\"$A\",\"size\":$S}}" > ca.json
  cfssl gencert -initca ca.json 2>/dev/null | cfssljson -bare ca
  for i in 1 2 3; do
    echo "{\"CN\":\"etcd-$i\",\"hosts\":[\"etcd-$i\",\"10.20.13.1$i\",\"localhost\",\"127.0.0.1\",\"::1\"],\"key\":{\"algo\":\"$A\",\"size\":$S}}" > s$i.json
    echo "{\"CN\":\"etcd-$i\",\"hosts\":[\"etcd-$i\",\"10.20.13.1$i\"],\"key\":{\"algo\":\"$A\",\"size\":$S}}" > p$i.json
    cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=cfg.json -profile=server s$i.json 2>/dev/null | cfssljson -bare server-$i
    cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=cfg.json -profile=peer p$i.json 2>/dev/null | cfssljson -bare peer-$i
  done
  for c in root kube-apiserver-etcd-client; do
    echo "{\"CN\":\"$c\",\"key\":{\"algo\":\"$A\",\"size\":$S}}" > $c.json
    cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=cfg.json -profile=client $c.json 2>/dev/null | cfssljson -bare $c
  done
}
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
IC="etcd-1=https://10.20.13.10:2380,etcd-2=https://10.20.13.11:2380,etcd-3=https://10.20.13.12:2380"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%F)"
printf '%-10s %12s %12s %8s\n' keys cfssl etcd-pki ratio
for spec in "rsa 2048" "ecdsa 256"; do
  set -- $spec
  : > cf; : > ep
  for _ in $(seq "$RUNS"); do
    rm -rf c p; mkdir c
    s=$(now); (cd c && cfssl_cluster "$1" "$2"); echo "$(now) - $s" | bc >> cf
    s=$(now); "$E" cluster --initial-cluster "$IC" --client root --client kube-apiserver-etcd-client \
      --key-algo "$1" --key-size "$2" --out p 2>/dev/null; echo "$(now) - $s" | bc >> ep
  done
  c=$(median < cf); p=$(median < ep)
  printf '%-10s %11.3fs %11.3fs %8.2f\n' "$1-$2" "$c" "$p" "$(echo "scale=3; $p / $c" | bc)"
done

#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what is missing, builds, and generates
# the PKI of the seed guides' 3-member etcd cluster (10.20.13.10-12) into demo-pki/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh etcd-pki  # the CLI only: no tests, benchmarks or fuzzers
OUT=${1:-demo-pki}
build/cli/etcd-pki cluster \
  --initial-cluster "etcd-1=https://10.20.13.10:2380,etcd-2=https://10.20.13.11:2380,etcd-3=https://10.20.13.12:2380" \
  --client root --client kube-apiserver-etcd-client --out "$OUT" --force
echo
find "$OUT" -type f | sort
echo
cat "$OUT/etcd-1/MANIFEST"

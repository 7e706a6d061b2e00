#!/usr/bin/env bash
# Installs what etcd-pki needs from Debian 12's archive, skipping what is already there.
#   scripts/setup.sh          build dependencies
#   scripts/setup.sh --test   also the test peers: cfssl 1.2.0, etcd 3.4, iproute2, python3 (JSON checks in tests),
#                             curl and systemd (systemd-analyze verify of the generated units), the Python
#                             Prometheus client (its parser reads the metrics in tests), expect (the passphrase
#                             prompt driven on a pseudo-terminal),
#                             clang-14 with libFuzzer for scripts/fuzz.sh (GCC's sanitizer runtimes
#                             for scripts/sanitize.sh come with g++),
#                             and the package tools below (test.sh builds and tests the packages)
#   scripts/setup.sh --bench  build dependencies and cfssl 1.2.0, python3 (bench/run.sh)
#   scripts/setup.sh --package build dependencies and what scripts/package.sh and
#                             packaging/test_installed.sh use: python3 (the man page), dpkg-dev
#                             (dpkg-shlibdeps, dpkg-buildflags), file, lintian, man-db, bash-completion
set -euo pipefail
pkgs=(g++ cmake ninja-build pkg-config libssl-dev openssl nlohmann-json3-dev libcli11-dev catch2)
if [ "${1:-}" = "--test" ]; then pkgs+=(golang-cfssl etcd-server etcd-client iproute2 procps python3 time strace curl systemd python3-prometheus-client expect clang-14 libclang-rt-14-dev libfuzzer-14-dev); fi
package_pkgs=(python3 dpkg-dev file lintian man-db bash-completion)
if [ "${1:-}" = "--test" ] || [ "${1:-}" = "--package" ]; then pkgs+=("${package_pkgs[@]}"); fi
if [ "${1:-}" = "--bench" ]; then pkgs+=(golang-cfssl python3 time); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

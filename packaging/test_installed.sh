#!/usr/bin/env bash
# The Debian packages as a user gets them, not the build tree (scripts/test.sh's packages phase):
#   packaging/test_installed.sh [DIR]    the .debs of DIR (default build-pkg/, scripts/package.sh)
# lintian with no error; dpkg -i; etcd-pki, its man page and completion from the installed paths;
# tests/consumer built against the installed files with CMake and with pkg-config alone; the shared
# library's SONAME and exported symbols; dpkg --purge. Needs root (or sudo): it installs and removes
# packages, so it refuses to run when one of them is installed already.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-pkg}
shopt -s nullglob
debs=("$dir"/*.deb)
[ ${#debs[@]} -gt 0 ] || { echo "test_installed: no .deb in $dir (scripts/package.sh)"; exit 1; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
names=()
for d in "${debs[@]}"; do names+=("$(dpkg-deb -f "$d" Package)"); done
for n in "${names[@]}"; do
  if dpkg-query -W -f='${Status}' "$n" 2>/dev/null | grep -q "ok installed"; then
    echo "test_installed: $n is installed already; remove it first (dpkg -r $n)"; exit 1
  fi
done
work=$(mktemp -d)
installed=0
cleanup() {
  rc=$?
  [ "$installed" = 1 ] && $SUDO dpkg --purge "${names[@]}" >/dev/null
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
step() { printf -- '-- %s\n' "$*"; }
version=$(sed -n 's/^#define ETCD_PKI_VERSION_STRING "\(.*\)"/\1/p' include/etcd_pki/version.hpp)

step "lintian ${debs[*]##*/}"
lintian --fail-on error --suppress-tags-from-file /dev/null "${debs[@]}" | tee "$work/lintian.txt"
echo "lintian: $(grep -c '^E:' "$work/lintian.txt" || true) errors, $(grep -c '^W:' "$work/lintian.txt" || true) warnings"
for d in "${debs[@]}"; do echo "$(dpkg-deb -f "$d" Package): Depends: $(dpkg-deb -f "$d" Depends)"; done

step "dpkg -i"
installed=1
# A minimized image (Docker's "slim" ones) may tell dpkg to skip /usr/share/man: take our page anyway.
$SUDO dpkg -i --path-include='/usr/share/man/man1/etcd-pki.1.gz' "${debs[@]}" >/dev/null

step "the CLI from /usr/bin"
[ "$(command -v etcd-pki)" = /usr/bin/etcd-pki ] || { echo "etcd-pki is $(command -v etcd-pki), not /usr/bin/etcd-pki"; exit 1; }
/usr/bin/etcd-pki version | tee "$work/version.txt"
grep -q "$version" "$work/version.txt" || { echo "etcd-pki version does not say $version"; exit 1; }
/usr/bin/etcd-pki init-ca --out "$work/ca" >/dev/null
openssl verify -CAfile "$work/ca/ca.pem" "$work/ca/ca.pem" >/dev/null
[ "$(stat -c %a "$work/ca/ca-key.pem")" = 600 ] || { echo "ca-key.pem is not 0600"; exit 1; }

step "man -w etcd-pki"
page=$(man -w etcd-pki)
[ "$page" = /usr/share/man/man1/etcd-pki.1.gz ] || { echo "man -w etcd-pki: $page"; exit 1; }
echo "$page"
packaging/check_manpage.sh /usr/bin/etcd-pki "$page"

step "bash completion from /usr/share/bash-completion/completions/etcd-pki"
packaging/test_completion.sh /usr/bin/etcd-pki /usr/share/bash-completion/completions/etcd-pki | tail -1

step "tests/consumer with CMake (find_package(etcd_pki) from /usr)"
cmake -S tests/consumer -B "$work/cmake" -G Ninja >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer"

step "tests/consumer with pkg-config alone"
# shellcheck disable=SC2046
g++ -std=c++20 tests/consumer/main.cpp -o "$work/consumer-pc" $(pkg-config --cflags --libs etcd_pki)
"$work/consumer-pc"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
if [ -e "/usr/lib/$multiarch/libetcd_pki.so.0" ]; then
  # /lib is /usr/lib on a merged-/usr system: either spelling is the installed file.
  ldd "$work/consumer-pc" | grep -qE "libetcd_pki.so.0 => (/usr)?/lib/$multiarch/libetcd_pki.so.0" ||
    { echo "the pkg-config consumer does not use the installed libetcd_pki.so.0"; ldd "$work/consumer-pc"; exit 1; }
  echo "linked to /usr/lib/$multiarch/libetcd_pki.so.0"
fi
# The static library with pkg-config --static (its Requires.private/Libs.private).
# shellcheck disable=SC2046
g++ -std=c++20 tests/consumer/main.cpp -o "$work/consumer-static" $(pkg-config --cflags etcd_pki) \
  -l:libetcd_pki.a $(pkg-config --static --libs etcd_pki | sed 's/-letcd_pki//')
"$work/consumer-static"
! ldd "$work/consumer-static" | grep -q libetcd_pki || { echo "consumer-static uses the shared library"; exit 1; }

if [ -e "/usr/lib/$multiarch/libetcd_pki.so.0" ]; then
  step "libetcd_pki.so.0: SONAME and exported symbols"
  lib=/usr/lib/$multiarch/libetcd_pki.so.0
  soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
  [ "$soname" = libetcd_pki.so.0 ] || { echo "SONAME is '$soname'"; exit 1; }
  nm -D --defined-only -C "$lib" | awk '{ $1 = ""; $2 = ""; sub(/^  /, ""); print }' >"$work/exports.txt"
  internal=$(grep -vE '^(etcd_pki::|typeinfo for etcd_pki::|typeinfo name for etcd_pki::|vtable for etcd_pki::|non-virtual thunk to etcd_pki::|ETCD_PKI_0$)' "$work/exports.txt" || true)
  internal+=$(grep -E '^((typeinfo (name )?|vtable )for |non-virtual thunk to )?etcd_pki::(detail|ossl)::' "$work/exports.txt" || true)
  [ -z "$internal" ] || { echo "exported beyond the public API:"; echo "$internal" | head -20; exit 1; }
  grep -q '^etcd_pki::make_ca(' "$work/exports.txt" || { echo "etcd_pki::make_ca is not exported"; exit 1; }
  echo "SONAME $soname; $(wc -l <"$work/exports.txt") symbols exported, all etcd_pki:: public API"
fi

step "dpkg --purge"
$SUDO dpkg --purge "${names[@]}" >/dev/null
installed=0
[ ! -e /usr/bin/etcd-pki ] && ! man -w etcd-pki >/dev/null 2>&1 || { echo "files left after dpkg --purge"; exit 1; }
echo "test_installed: all checks passed"

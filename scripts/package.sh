#!/usr/bin/env bash
# Builds the Debian packages in build-pkg/ with CPack (docs/packaging.md):
#   scripts/package.sh              etcd-pki, libetcd-pki0 (shared library), libetcd-pki-dev
#   SHARED=OFF scripts/package.sh   etcd-pki and libetcd-pki-dev with the static library only
#   PKG_DIR=DIR                     build in DIR instead of build-pkg/
# The packaged CLI and library link Debian's OpenSSL dynamically (ETCD_PKI_STATIC=OFF): libssl3's
# security updates reach them, and dpkg-shlibdeps computes the dependency. The CLI links the library
# statically either way, so etcd-pki does not depend on libetcd-pki0. Compiler and linker flags are
# Debian's (dpkg-buildflags: hardening, fortify). Test the result: packaging/test_installed.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --package
shared=${SHARED:-ON}
dir=${PKG_DIR:-build-pkg}
# No -g: the packages carry no debug symbols (libetcd_pki.a was 136 MB with them).
export DEB_CXXFLAGS_MAINT_STRIP=-g
cxxflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
# Given on every run (the environment's CXXFLAGS would only reach a first configure).
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DCMAKE_CXX_FLAGS="$cxxflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" -DCMAKE_SHARED_LINKER_FLAGS="$ldflags" \
  -DBUILD_SHARED_LIBS="$shared" -DETCD_PKI_STATIC=OFF \
  -DETCD_PKI_BUILD_TESTS=OFF -DETCD_PKI_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir"
rm -f "$dir"/*.deb
(cd "$dir" && cpack -G DEB >/dev/null)
ls -l "$dir"/*.deb

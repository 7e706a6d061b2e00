# The Debian packages, made by CPack's DEB generator (scripts/package.sh; docs/packaging.md):
#   etcd-pki         the CLI, etcd-pki(1), the bash completion
#   libetcd-pki0     libetcd_pki.so.0 (only with -DBUILD_SHARED_LIBS=ON)
#   libetcd-pki-dev  headers, libetcd_pki.a (and the .so link), CMake package, etcd_pki.pc
# Versions come from include/etcd_pki/version.hpp (PROJECT_VERSION); the run-time dependencies
# of the binaries are computed by dpkg-shlibdeps, not written here. The one written dependency is
# the -dev package's libssl-dev: its headers include OpenSSL's and its CMake/pkg-config files
# ask for OpenSSL, which no ELF file says.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME etcd-pki)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "etcd-pki")
set(CPACK_PACKAGE_CONTACT "etcd-pki maintainers <maintainers@etcd-pki.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "TLS PKI of etcd clusters, cfssl-compatible")
set(CPACK_STRIP_FILES ON)                          # lintian: unstripped-binary-or-object
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL cli dev)
if(BUILD_SHARED_LIBS)
  list(APPEND CPACK_COMPONENTS_ALL lib)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)           # NAME_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)   # control files 0644/0755 as dpkg wants
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)      # libetcd-pki-dev depends on libetcd-pki0 (= version)

set(CPACK_DEBIAN_CLI_PACKAGE_NAME etcd-pki)
set(CPACK_COMPONENT_CLI_DESCRIPTION "TLS PKI of etcd clusters, cfssl-compatible (command line)
 etcd-pki makes the CA, per-member server and peer certificates, client
 certificates and one folder per host ready to copy, for etcd. It reads cfssl's
 CSR JSON and ca-config.json, and also verifies, probes, renews and revokes.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libetcd-pki-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libssl-dev (>= 3.0)")
set(CPACK_COMPONENT_DEV_DESCRIPTION "TLS PKI of etcd clusters, cfssl-compatible (development files)
 The C++20 library behind etcd-pki: requests, keys, CSRs, signing profiles,
 certificates and whole-cluster PKIs on OpenSSL 3. Headers, the static
 library, the CMake package (find_package(etcd_pki)) and etcd_pki.pc.")

if(BUILD_SHARED_LIBS)
  set(CPACK_DEBIAN_LIB_PACKAGE_NAME libetcd-pki0)
  set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
  # shlibs (what dpkg-shlibdeps of a package linking libetcd_pki.so.0 writes) and the ldconfig
  # trigger, written here: CPack's CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS calls ldconfig from
  # postinst/postrm instead, which lintian rejects (lacks-ldconfig-trigger).
  configure_file(${PROJECT_SOURCE_DIR}/packaging/shlibs.in ${PROJECT_BINARY_DIR}/packaging/shlibs @ONLY)
  set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/packaging/shlibs
                                             ${PROJECT_SOURCE_DIR}/packaging/triggers)
  set(CPACK_COMPONENT_LIB_DESCRIPTION "TLS PKI of etcd clusters, cfssl-compatible (shared library)
 The C++20 library behind etcd-pki: requests, keys, CSRs, signing profiles,
 certificates and whole-cluster PKIs on OpenSSL 3. This package holds the
 shared library libetcd_pki.so.0.")
  set(CPACK_COMPONENT_DEV_DEPENDS lib)
endif()

include(CPack)

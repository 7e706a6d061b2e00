# Install rules, in three components that are also the Debian packages (cmake/cpack.cmake):
#   cli -> etcd-pki, lib -> libetcd-pki0 (shared builds), dev -> libetcd-pki-dev.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS etcd_pki EXPORT etcd_pki-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev)
if(BUILD_SHARED_LIBS)
  # libetcd_pki.a beside the shared library, for those who link statically (pkg-config --static).
  install(TARGETS etcd_pki_static ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
endif()
install(TARGETS etcd-pki RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/etcd_pki DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(EXPORT etcd_pki-targets NAMESPACE etcd_pki::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/etcd_pki COMPONENT dev)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/etcd_pki-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/etcd_pki-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/etcd_pki)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/etcd_pki-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/etcd_pki-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/etcd_pki-config-version.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/etcd_pki COMPONENT dev)

add_subdirectory(${PROJECT_SOURCE_DIR}/packaging ${PROJECT_BINARY_DIR}/packaging)
include(${CMAKE_CURRENT_LIST_DIR}/cpack.cmake)

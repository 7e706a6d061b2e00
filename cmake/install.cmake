include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS etcd_pki EXPORT etcd_pki-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS etcd-pki RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/etcd_pki DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT etcd_pki-targets NAMESPACE etcd_pki::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/etcd_pki)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/etcd_pki-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/etcd_pki-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/etcd_pki)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/etcd_pki-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/etcd_pki-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/etcd_pki-config-version.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/etcd_pki)

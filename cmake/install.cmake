# SPDX-License-Identifier: MIT
# Installs headers, libtroupe, the troupe::troupe CMake package and troupe.pc.
include(CMakePackageConfigHelpers)

install(TARGETS troupe EXPORT troupe-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/troupe
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT troupe-targets NAMESPACE troupe::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/troupe)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/troupe-config.cmake.in
  ${PROJECT_BINARY_DIR}/troupe-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/troupe)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/troupe-config-version.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/troupe-config.cmake
  ${PROJECT_BINARY_DIR}/troupe-config-version.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/troupe)

# troupe.pc derives its prefix from where it is installed (${pcfiledir}),
# so a staged or moved install works as well as one at CMAKE_INSTALL_PREFIX.
file(RELATIVE_PATH TROUPE_PC_TO_PREFIX
  ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(${PROJECT_SOURCE_DIR}/cmake/troupe.pc.in
  ${PROJECT_BINARY_DIR}/troupe.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/troupe.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

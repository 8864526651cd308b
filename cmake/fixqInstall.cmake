# Install the headers and a relocatable CMake package: find_package(fixq CONFIG).
include(CMakePackageConfigHelpers)

set(FIXQ_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/fixq" CACHE STRING
    "Where to install fixqConfig.cmake (relative to the prefix)")

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/fixq"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(TARGETS fixq fixq_native EXPORT fixqTargets)
if(TARGET fixq_io)
  install(TARGETS fixq_io EXPORT fixqTargets)
endif()
install(EXPORT fixqTargets NAMESPACE fixq:: DESTINATION "${FIXQ_INSTALL_CMAKEDIR}")

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/fixqConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/fixqConfig.cmake"
  INSTALL_DESTINATION "${FIXQ_INSTALL_CMAKEDIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/fixqConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/fixqConfig.cmake"
              "${PROJECT_BINARY_DIR}/fixqConfigVersion.cmake"
        DESTINATION "${FIXQ_INSTALL_CMAKEDIR}")

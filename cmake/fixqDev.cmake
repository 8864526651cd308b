# What fixq's own tests, benchmarks and examples share: flags and a helper.
# Neither flags target is exported or installed: users of fixq::fixq never get them.
#   fixq_dev_flags_portable  warnings (+ -Werror) and sanitizers
#   fixq_dev_flags           the above + -march=native (FIXQ_NATIVE)
include(CheckCXXCompilerFlag)

add_library(fixq_dev_flags_portable INTERFACE)
target_compile_options(fixq_dev_flags_portable INTERFACE
  -Wall -Wextra -Wpedantic $<$<BOOL:${FIXQ_WERROR}>:-Werror>)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 warns falsely from inside its own headers once they are inlined: std::string
  # (-Wrestrict, GCC bug 105329), std::regex under ASan and the AVX-512 intrinsics behind
  # Eigen's reductions (-Wmaybe-uninitialized, GCC bugs 105562, 105593).
  target_compile_options(fixq_dev_flags_portable INTERFACE -Wno-restrict -Wno-maybe-uninitialized)
  # Under ASan (-O1) it also calls the self-initialized `__m512 __Y = __Y` of
  # _mm512_undefined_ps "used uninitialized" (-Wuninitialized) once Eigen's AVX-512
  # transpose is inlined: sanitized builds only; the others keep the warning.
  if(FIXQ_SANITIZE)
    target_compile_options(fixq_dev_flags_portable INTERFACE -Wno-uninitialized)
  endif()
endif()

if(FIXQ_SANITIZE)
  set(fixq_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=all)
  target_compile_options(fixq_dev_flags_portable INTERFACE
    ${fixq_sanitize_flags} -fno-omit-frame-pointer
    # Debug: -O1, as -O0 under ASan runs slowly, and -g1 (line tables: enough for the
    # sanitizers' stack traces, and about 30% less compile time than -g).
    $<$<CONFIG:Debug>:-O1> $<$<CONFIG:Debug>:-g1>)
  target_link_options(fixq_dev_flags_portable INTERFACE ${fixq_sanitize_flags})
endif()

# Tests and benchmarks run the array kernels on several threads when OpenMP is there
# (results must not depend on it; tests/kernels checks that).
if(FIXQ_HAVE_OPENMP)
  target_link_libraries(fixq_dev_flags_portable INTERFACE OpenMP::OpenMP_CXX)
endif()

add_library(fixq_dev_flags INTERFACE)
target_link_libraries(fixq_dev_flags INTERFACE fixq_dev_flags_portable)
if(FIXQ_NATIVE)
  check_cxx_compiler_flag(-march=native FIXQ_HAVE_MARCH_NATIVE)
  if(FIXQ_HAVE_MARCH_NATIVE)
    target_compile_options(fixq_dev_flags INTERFACE -march=native)
  else()
    message(STATUS "fixq: the compiler rejects -march=native; FIXQ_NATIVE has no effect")
  endif()
endif()

# add_subdirectory() for each direct subdirectory that has a CMakeLists.txt; the glob
# re-runs configure when one appears.
function(fixq_add_subdirectories)
  file(GLOB list_files CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*/CMakeLists.txt")
  foreach(list_file IN LISTS list_files)
    get_filename_component(dir "${list_file}" DIRECTORY)
    add_subdirectory("${dir}")
  endforeach()
endfunction()

# The kernels compiled once (FIXQ_SEPARATE_KERNELS) for the tool, the tests of the
# layers, the model and io, and the examples: linking this defines the macro for them.
add_library(fixq_dev_kernels STATIC "${PROJECT_SOURCE_DIR}/tools/fixq/instantiate_kernels.cpp")
target_link_libraries(fixq_dev_kernels PUBLIC fixq::fixq fixq_dev_flags)
target_compile_definitions(fixq_dev_kernels PUBLIC FIXQ_SEPARATE_KERNELS)

# cmake -DCOMPILER=<c++ driver> -DSOURCE=<file.cpp> -DINCLUDE_DIR=<fixq include dir>
#       [-DEIGEN_INCLUDE_DIR=<dir>] -DEXPECT_SUCCESS=ON|OFF -P check_compile.cmake
#
# EXPECT_SUCCESS=ON : SOURCE must compile and must have no "// EXPECT:" line.
# EXPECT_SUCCESS=OFF: SOURCE must fail to compile, and the compiler output must
#                     contain the text after "// EXPECT: " of at least one of its
#                     EXPECT lines (it must have one).
foreach(var COMPILER SOURCE INCLUDE_DIR EXPECT_SUCCESS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_compile.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${SOURCE}")
  message(FATAL_ERROR "check_compile.cmake: no such file: ${SOURCE}")
endif()
if(NOT EXISTS "${INCLUDE_DIR}/fixq/core.hpp")
  message(FATAL_ERROR "check_compile.cmake: ${INCLUDE_DIR} does not hold fixq/core.hpp")
endif()

file(STRINGS "${SOURCE}" expect_lines REGEX "^// EXPECT: ")
set(fragments "")
foreach(line IN LISTS expect_lines)
  string(REGEX REPLACE "^// EXPECT: " "" fragment "${line}")
  string(STRIP "${fragment}" fragment)
  if(fragment STREQUAL "")
    message(FATAL_ERROR "${SOURCE}: empty // EXPECT: line")
  endif()
  list(APPEND fragments "${fragment}")
endforeach()

# Untranslated diagnostics, whatever the caller's locale.
set(ENV{LC_ALL} C)
set(ENV{LANG} C)
set(extra_includes "")
if(DEFINED EIGEN_INCLUDE_DIR AND NOT EIGEN_INCLUDE_DIR STREQUAL "")
  set(extra_includes "-isystem" "${EIGEN_INCLUDE_DIR}")
endif()
execute_process(
  COMMAND "${COMPILER}" -std=c++20 -fsyntax-only "-I${INCLUDE_DIR}" ${extra_includes} "${SOURCE}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)

if(EXPECT_SUCCESS)
  if(fragments)
    message(FATAL_ERROR "${SOURCE}: a file expected to compile must not have // EXPECT: lines")
  endif()
  if(NOT result STREQUAL "0")
    message(FATAL_ERROR "${SOURCE} should compile but did not (${result}):\n${output}")
  endif()
  message(STATUS "${SOURCE} compiles, as expected")
else()
  if(NOT fragments)
    message(FATAL_ERROR "${SOURCE}: a file expected to fail needs a // EXPECT: <text> line")
  endif()
  if(result STREQUAL "0")
    message(FATAL_ERROR "${SOURCE} compiled, but it must not:\n${output}")
  endif()
  foreach(fragment IN LISTS fragments)
    string(FIND "${output}" "${fragment}" at)
    if(at GREATER -1)
      message(STATUS "${SOURCE} fails to compile with \"${fragment}\", as expected")
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "${SOURCE} fails to compile, but the output contains none of the "
                      "expected fragments [${fragments}]:\n${output}")
endif()

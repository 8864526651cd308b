# Dependencies: installed packages (find_package). With FIXQ_FETCH_DEPS=ON, a missing
# one is downloaded at a pinned version instead (FetchContent). A parent project that
# already defines a target keeps its own.
include(FetchContent)

# Header-only content (Eigen, Catch2 v2): download without running its CMakeLists
# (a SOURCE_SUBDIR that does not exist) and wrap the headers in an IMPORTED target,
# so the include dir is SYSTEM and the target never enters fixq's export set.
function(fixq_fetch_headers name target include_subdir)
  FetchContent_Declare(${name} ${ARGN} GIT_SHALLOW TRUE SOURCE_SUBDIR fixq-headers-only)
  FetchContent_MakeAvailable(${name})
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  target_include_directories(${target} INTERFACE "${${name}_SOURCE_DIR}/${include_subdir}")
endfunction()

if(NOT TARGET Eigen3::Eigen)
  if(FIXQ_FETCH_DEPS)
    find_package(Eigen3 3.4 CONFIG QUIET)
  else()
    find_package(Eigen3 3.4 CONFIG REQUIRED)
  endif()
  if(Eigen3_FOUND)
    message(STATUS "fixq: Eigen ${Eigen3_VERSION} from ${Eigen3_DIR}")
  else()
    message(STATUS "fixq: Eigen3 not installed, fetching 3.4.0")
    fixq_fetch_headers(eigen Eigen3::Eigen ""
      GIT_REPOSITORY https://gitlab.com/libeigen/eigen.git GIT_TAG 3.4.0)
  endif()
endif()

if(FIXQ_BUILD_TESTS AND NOT TARGET Catch2::Catch2)
  if(FIXQ_FETCH_DEPS)
    find_package(Catch2 2 CONFIG QUIET)
  else()
    find_package(Catch2 2 CONFIG REQUIRED)
  endif()
  if(Catch2_FOUND)
    message(STATUS "fixq: Catch2 ${Catch2_VERSION} from ${Catch2_DIR}")
  else()
    message(STATUS "fixq: Catch2 not installed, fetching v2.13.10")
    fixq_fetch_headers(catch2 Catch2::Catch2 single_include
      GIT_REPOSITORY https://github.com/catchorg/Catch2.git GIT_TAG v2.13.10)
  endif()
endif()

if(FIXQ_BUILD_BENCH AND NOT TARGET benchmark::benchmark_main)
  if(FIXQ_FETCH_DEPS)
    find_package(benchmark CONFIG QUIET)
  else()
    find_package(benchmark CONFIG REQUIRED)
  endif()
  if(benchmark_FOUND)
    message(STATUS "fixq: benchmark ${benchmark_VERSION} from ${benchmark_DIR}")
  else()
    message(STATUS "fixq: benchmark not installed, fetching v1.7.1")
    set(BENCHMARK_ENABLE_TESTING OFF CACHE BOOL "")
    set(BENCHMARK_ENABLE_GTEST_TESTS OFF CACHE BOOL "")
    set(BENCHMARK_ENABLE_INSTALL OFF CACHE BOOL "")
    set(BENCHMARK_INSTALL_DOCS OFF CACHE BOOL "")
    set(BENCHMARK_ENABLE_WERROR OFF CACHE BOOL "")
    FetchContent_Declare(benchmark GIT_SHALLOW TRUE
      GIT_REPOSITORY https://github.com/google/benchmark.git GIT_TAG v1.7.1)
    FetchContent_MakeAvailable(benchmark)
  endif()
endif()

# Optional. Not part of fixq::fixq; fixq's own tests and benchmarks use it (fixqDev.cmake).
find_package(OpenMP COMPONENTS CXX QUIET)
set(FIXQ_HAVE_OPENMP ${OpenMP_CXX_FOUND})
message(STATUS "fixq: OpenMP found: ${FIXQ_HAVE_OPENMP}")

# Model files and data sets (fixq/io/) and the command-line tool: nlohmann/json, zlib
# (gzip-compressed data set files) and CLI11. Optional for the library alone; required
# when the tool, the tests or the examples are built.
if(NOT TARGET nlohmann_json::nlohmann_json)
  if(FIXQ_BUILD_TOOLS OR FIXQ_BUILD_TESTS OR FIXQ_BUILD_EXAMPLES)
    find_package(nlohmann_json 3 CONFIG REQUIRED)
  else()
    find_package(nlohmann_json 3 CONFIG QUIET)
  endif()
endif()
if(NOT TARGET ZLIB::ZLIB)
  if(FIXQ_BUILD_TOOLS OR FIXQ_BUILD_TESTS OR FIXQ_BUILD_EXAMPLES)
    find_package(ZLIB REQUIRED)
  else()
    find_package(ZLIB QUIET)
  endif()
endif()
if((FIXQ_BUILD_TOOLS OR FIXQ_BUILD_EXAMPLES) AND NOT TARGET CLI11::CLI11)
  find_package(CLI11 CONFIG REQUIRED)
endif()

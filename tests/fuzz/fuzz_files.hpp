// tests/fuzz/fuzz_files.hpp - what the data set fuzz targets share: a hash of the
// input (to choose what else to run on it) and a scratch folder for inputs that
// are loaded as files.
#ifndef FIXQ_TESTS_FUZZ_FILES_HPP
#define FIXQ_TESTS_FUZZ_FILES_HPP

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>

#include <unistd.h>

namespace fuzz_files {

/// FNV-1a: a cheap, deterministic choice of what else to run on an input.
inline std::uint64_t hash_bytes(std::span<const std::uint8_t> bytes) {
  std::uint64_t h = 0xcbf29ce484222325u;
  for (const std::uint8_t c : bytes) h = (h ^ c) * 0x100000001b3u;
  return h;
}

/// One folder per process, fixq_fuzz_<name>_<pid> in the temporary directory, removed
/// at exit (allocated once and never freed, so that it outlives the exit handler).
inline const std::filesystem::path& scratch_dir(const char* name) {
  static const std::filesystem::path* const p = [name] {
    const auto* d = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                              ("fixq_fuzz_" + std::string(name) + "_" + std::to_string(::getpid())));
    std::filesystem::create_directories(*d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(*p, ec);
    });
    return d;
  }();
  return *p;
}

inline void write_file(const std::filesystem::path& path, std::span<const std::uint8_t> b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace fuzz_files

#endif  // FIXQ_TESTS_FUZZ_FILES_HPP

// libFuzzer target: the .npy reader (fixq/io/npy.hpp).
//
// The input is the bytes of a .npy file. parse_npy reads them as float, double,
// int32 and uint8; about one input in four (chosen from a hash of the bytes, so
// that a crashing input replays the same way) is also written to a file of this
// process and read by NpyReader: whole, and by rows. Every problem must be a
// fixq::file_error; any other exception escapes and stops the fuzzer, as does a
// crash, a sanitizer report, a hang or an allocation beyond -rss_limit_mb.
//
// Built with -fsanitize=fuzzer when FIXQ_BUILD_FUZZ is ON (Clang), and in every
// build with replay_main.cpp as fuzz_npy_replay, which runs the committed corpus.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>

#include <unistd.h>

#include <fixq/io/npy.hpp>

namespace {

template <class T>
void parse_as(std::span<const char> bytes) {
  try {
    const fixq::NDArray<T> a = fixq::parse_npy<T>(bytes, "input.npy");
    // The array's promise: as many elements as the shape says.
    if (a.data.size() != fixq::shape_size(a.shape)) std::abort();
  } catch (const fixq::file_error&) {
  }
}

/// FNV-1a: a cheap, deterministic choice of what else to run on an input.
std::uint64_t hash_bytes(std::span<const char> bytes) {
  std::uint64_t h = 0xcbf29ce484222325u;
  for (const char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3u;
  return h;
}

/// One file per process, removed at exit (allocated once and never freed, so that
/// it outlives the exit handler).
const std::filesystem::path& scratch_file() {
  static const std::filesystem::path* const p = [] {
    const auto* f = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                              ("fixq_fuzz_npy_" + std::to_string(::getpid()) + ".npy"));
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove(scratch_file(), ec);
    });
    return f;
  }();
  return *p;
}

template <class T>
void read_file(std::uint64_t h) {
  try {
    fixq::NpyReader r(scratch_file());
    if (r.size() != fixq::shape_size(r.shape())) std::abort();
    if (h & 1) {
      const fixq::NDArray<T> a = r.read<T>();
      if (a.data.size() != r.size()) std::abort();
    }
    // A few row ranges: from the start, the middle, the last row, past the end (the
    // extent may be near 2^63 when another one is 0).
    const std::int64_t rows = r.rows();
    const std::int64_t past = rows > INT64_MAX - 3 ? INT64_MAX : rows + 3;
    const std::int64_t firsts[] = {0, rows / 2, rows - 1, rows, past};
    const std::int64_t first = firsts[(h >> 1) % 5];
    const std::int64_t count = static_cast<std::int64_t>((h >> 8) % 4);
    if (first < 0 || r.shape().empty()) return;
    const fixq::NDArray<T> a = r.read_rows<T>(first, count);
    if (a.data.size() != fixq::shape_size(a.shape) || a.shape[0] > count) std::abort();
  } catch (const fixq::file_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const char> bytes(reinterpret_cast<const char*>(data), size);
  parse_as<float>(bytes);
  parse_as<double>(bytes);
  parse_as<std::int32_t>(bytes);
  parse_as<std::uint8_t>(bytes);

  const std::uint64_t h = hash_bytes(bytes);
  if (h % 4 == 0) {
    {
      std::ofstream out(scratch_file(), std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!out) return 0;
    }
    switch ((h >> 16) % 4) {
      case 0: read_file<float>(h >> 20); break;
      case 1: read_file<double>(h >> 20); break;
      case 2: read_file<std::int32_t>(h >> 20); break;
      default: read_file<std::uint8_t>(h >> 20); break;
    }
  }
  return 0;
}

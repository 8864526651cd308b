// libFuzzer target: the CIFAR-10 reader (fixq/io/cifar10.hpp), gzip
// (fixq/io/gzip.hpp) and batches of a Dataset (fixq/io/dataset.hpp).
//
// The input is the bytes of a batch file, gzip-compressed or not. maybe_gunzip
// inflates it (with a cap of 4 KiB for one input in four, chosen from a hash of
// the bytes, so that the cap is reached often; else 16 MiB), then
// parse_cifar10_batch reads it: the result must hold one image (32, 32, 3) and one
// label 0..9 per 3073 bytes, each pixel where the channel-planar record puts it.
// subset and to_float then cut a batch chosen by the hash. The raw input is also
// read as a batches.meta.txt (parse_cifar10_class_names: ten names or an error),
// and one input in four is loaded as a folder (test_batch.bin and that
// batches.meta.txt) with load_cifar10. Every problem must be a fixq::file_error;
// any other exception escapes and stops the fuzzer, as does a crash, a sanitizer
// report, a hang or an allocation beyond -rss_limit_mb.
//
// Built with -fsanitize=fuzzer when FIXQ_BUILD_FUZZ is ON (Clang), and in every
// build with replay_main.cpp as fuzz_cifar_replay, which runs the committed corpus.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <fixq/io/cifar10.hpp>
#include <fixq/io/dataset.hpp>
#include <fixq/io/gzip.hpp>

#include "fuzz_files.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;
using fuzz_files::hash_bytes;
using fuzz_files::write_file;
const std::filesystem::path& scratch_dir() { return fuzz_files::scratch_dir("cifar"); }


/// Every label and pixel of `d` against the records in `bytes`, starting at image `first`.
void check_batch(const fixq::Dataset& d, std::span<const std::uint8_t> bytes, std::size_t first = 0) {
  constexpr std::size_t rec = fixq::cifar10_record_bytes;
  const std::size_t n = bytes.size() / rec;
  if (bytes.size() % rec != 0 || d.size() < first + n) std::abort();
  if (d.images.shape != fixq::Shape{static_cast<std::int64_t>(d.size()), 32, 32, 3}) std::abort();
  if (d.images.data.size() != d.size() * 3072 || d.class_names.size() != 10) std::abort();
  for (std::size_t r = 0; r < n; ++r) {
    const std::uint8_t* src = bytes.data() + r * rec;
    if (d.labels[first + r] != src[0] || src[0] > 9) std::abort();
    const std::uint8_t* img = d.images.data.data() + (first + r) * 3072;
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t p = 0; p < 1024; ++p)
        if (img[p * 3 + c] != src[1 + c * 1024 + p]) std::abort();
  }
}

void batches(const fixq::Dataset& d, std::uint64_t h) {
  const std::size_t first = static_cast<std::size_t>(h % (d.size() + 2));
  const std::size_t count = static_cast<std::size_t>((h >> 8) % 4);
  try {
    const fixq::Dataset s = fixq::subset(d, first, count);
    const fixq::NDArray<float> x = fixq::to_float(d, first, count, 1.0 / 255, -0.5);
    const std::size_t n = std::min(count, d.size() - first);
    if (s.size() != n || x.shape[0] != static_cast<std::int64_t>(n) || x.data.size() != n * 3072) std::abort();
    for (std::size_t i = 0; i < x.data.size(); ++i)
      if (x.data[i] != static_cast<float>(s.images.data[i] * (1.0 / 255) - 0.5)) std::abort();
  } catch (const std::out_of_range&) {
    if (first <= d.size()) std::abort();
  }
}

void load_folder(std::span<const std::uint8_t> input, std::uint64_t h) {
  const std::filesystem::path& dir = scratch_dir();
  std::error_code ec;
  for (const char* name : {"test_batch.bin", "test_batch.bin.gz", "batches.meta.txt"})
    std::filesystem::remove(dir / name, ec);
  write_file(dir / ((h >> 20) % 2 ? "test_batch.bin.gz" : "test_batch.bin"), input);
  if ((h >> 21) % 2) write_file(dir / "batches.meta.txt", input);
  try {
    const fixq::Dataset d = fixq::load_cifar10(dir, fixq::Cifar10Split::Test, std::size_t{16} << 20);
    if (d.size() == 0 || d.class_names.size() != 10) std::abort();
    if (d.images.shape != fixq::Shape{static_cast<std::int64_t>(d.size()), 32, 32, 3}) std::abort();
  } catch (const fixq::file_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const std::uint64_t h = hash_bytes(input);

  try {
    const std::vector<std::string> names = fixq::parse_cifar10_class_names(input, "batches.meta.txt");
    if (names.size() != 10) std::abort();
    for (const std::string& n : names)
      if (n.empty() || n.find('\n') != std::string::npos) std::abort();
  } catch (const fixq::file_error&) {
  }

  const std::size_t cap = h % 4 == 0 ? 4096 : std::size_t{16} << 20;
  Bytes bytes;
  try {
    bytes = fixq::maybe_gunzip(Bytes(input.begin(), input.end()), "input", cap);
    if (bytes.size() > cap) std::abort();
  } catch (const fixq::file_error&) {
    return 0;
  }
  try {
    const fixq::Dataset d = fixq::parse_cifar10_batch(bytes, "input");
    check_batch(d, bytes);
    batches(d, h >> 16);
  } catch (const fixq::file_error&) {
  }
  if ((h >> 4) % 4 == 0) load_folder(input, h);
  return 0;
}

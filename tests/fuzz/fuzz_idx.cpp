// libFuzzer target: MNIST's IDX reader (fixq/io/mnist.hpp) and gzip (fixq/io/gzip.hpp).
//
// The input is the bytes of a file, gzip-compressed or not. maybe_gunzip inflates
// it (with a cap of 1 KiB for one input in four, chosen from a hash of the bytes,
// so that the cap is reached often; else 16 MiB), then parse_idx_images and
// parse_idx_labels read it. What they return must keep its promises (as many
// pixels as the shape says, the data after the header). One input in four is also
// written as a folder of MNIST's test files (the input as the images; as labels,
// one byte per image taken from the input, some of them above 9) and loaded with
// load_mnist. Every problem must be a fixq::file_error; any other exception
// escapes and stops the fuzzer, as does a crash, a sanitizer report, a hang or an
// allocation beyond -rss_limit_mb.
//
// Built with -fsanitize=fuzzer when FIXQ_BUILD_FUZZ is ON (Clang), and in every
// build with replay_main.cpp as fuzz_idx_replay, which runs the committed corpus.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include <unistd.h>

#include <fixq/io/gzip.hpp>

#include "fuzz_files.hpp"
#include <fixq/io/mnist.hpp>

namespace {

using Bytes = std::vector<std::uint8_t>;
using fuzz_files::hash_bytes;
using fuzz_files::write_file;
const std::filesystem::path& scratch_dir() { return fuzz_files::scratch_dir("idx"); }


void check_images(const fixq::NDArray<std::uint8_t>& a, std::span<const std::uint8_t> bytes) {
  if (a.shape.size() != 4 || a.shape[3] != 1 || a.shape[1] < 1 || a.shape[2] < 1) std::abort();
  if (a.data.size() != fixq::shape_size(a.shape)) std::abort();
  if (bytes.size() != 16 + a.data.size()) std::abort();
  if (!a.data.empty() && (a.data.front() != bytes[16] || a.data.back() != bytes.back())) std::abort();
}

void load_folder(std::span<const std::uint8_t> input, const Bytes& inflated, std::uint64_t h) {
  const std::filesystem::path& dir = scratch_dir();
  std::error_code ec;
  for (const char* name : {"t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte"})
    std::filesystem::remove(dir / name, ec);
  // The images under the name that matches their compression (or the other one).
  const bool gz_name = fixq::is_gzip(input) != ((h >> 8) % 8 == 0);
  write_file(dir / (gz_name ? "t10k-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte"), input);
  // Labels: the image count announced in the header (sometimes one more), values
  // from the input's bytes mod 11 (so some are out of range).
  std::uint32_t n = inflated.size() >= 8 ? fixq::detail::read_be32(inflated.data() + 4) : 0;
  if ((h >> 12) % 8 == 0) n += 1;
  n = std::min<std::uint32_t>(n, 1u << 16);
  Bytes labels = {0, 0, 8, 1, static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                  static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  for (std::uint32_t i = 0; i < n; ++i) labels.push_back(input.empty() ? 0 : input[i % input.size()] % 11);
  write_file(dir / "t10k-labels-idx1-ubyte", labels);
  try {
    const fixq::Dataset d = fixq::load_mnist(dir, fixq::MnistSplit::Test, std::size_t{16} << 20);
    if (d.images.shape.size() != 4 || static_cast<std::size_t>(d.images.shape[0]) != d.labels.size()) std::abort();
    for (const std::uint8_t l : d.labels)
      if (l > 9) std::abort();
    if (d.class_names.size() != 10) std::abort();
  } catch (const fixq::file_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const std::uint64_t h = hash_bytes(input);
  const std::size_t cap = h % 4 == 0 ? 1024 : std::size_t{16} << 20;
  Bytes bytes;
  try {
    bytes = fixq::maybe_gunzip(Bytes(input.begin(), input.end()), "input", cap);
    if (bytes.size() > cap) std::abort();
    if (!fixq::is_gzip(input) && bytes != Bytes(input.begin(), input.end())) std::abort();
  } catch (const fixq::file_error&) {
    return 0;
  }
  try {
    check_images(fixq::parse_idx_images(bytes, "input"), bytes);
  } catch (const fixq::file_error&) {
  }
  try {
    const std::vector<std::uint8_t> labels = fixq::parse_idx_labels(bytes, "input");
    if (bytes.size() != 8 + labels.size()) std::abort();
  } catch (const fixq::file_error&) {
  }
  if ((h >> 4) % 4 == 0) load_folder(input, bytes, h);
  return 0;
}

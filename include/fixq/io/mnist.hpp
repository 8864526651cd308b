// fixq/io/mnist.hpp - MNIST: IDX image and label files, and the data set's folder.
//
//   fixq::Dataset test = fixq::load_mnist("data/mnist", fixq::MnistSplit::Test);
//   // test.images: (10000, 28, 28, 1); test.labels: 0..9; class_names "0".."9"
//   fixq::NDArray<std::uint8_t> x = fixq::read_idx_images("t10k-images-idx3-ubyte.gz");
//   std::vector<std::uint8_t> y = fixq::read_idx_labels("t10k-labels-idx1-ubyte");
//
// IDX (LeCun et al.): a big-endian magic number 00 00 TT DD (TT the element type,
// 08 for unsigned bytes; DD the number of dimensions), DD big-endian 32-bit
// extents, then the elements in row-major order. Image files are 0x00000803
// (count, rows, columns), label files 0x00000801 (count). Files may be
// gzip-compressed (fixq/io/gzip.hpp), whatever their names.
//
// load_mnist looks in `dir` for train-images-idx3-ubyte and train-labels-idx1-ubyte
// (MnistSplit::Train) or t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte
// (MnistSplit::Test), each with or without .gz, and also under the names with a
// dot before "idx" (train-images.idx3-ubyte) that some copies use. Fashion-MNIST
// and other sets in MNIST's files load too: the image size is not fixed.
//
// Errors are fixq::file_error naming the file and the problem: a missing file,
// a gzip problem, a truncated header, a wrong magic number (element type or
// number of dimensions), an empty image extent, data shorter or longer than the
// header announces (no allocation happens before the size is checked, so absurd
// extents cost nothing), image and label counts that differ, a label above 9.
#ifndef FIXQ_IO_MNIST_HPP
#define FIXQ_IO_MNIST_HPP

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <fixq/io/dataset.hpp>
#include <fixq/io/gzip.hpp>
#include <fixq/io/npy.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

enum class MnistSplit { Train, Test };

namespace detail {

inline std::uint32_t read_be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | std::uint32_t{p[3]};
}

inline std::string hex32(std::uint32_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += digits[(v >> shift) & 0xf];
  return s;
}

/// The extents of an IDX file of unsigned bytes with `dims` dimensions (`what`:
/// "image" or "label", for messages), after checking its magic number and that the
/// header is there; throws through `fail` otherwise.
template <class Fail>
std::vector<std::uint32_t> parse_idx_header(std::span<const std::uint8_t> bytes, std::uint32_t dims, const char* what,
                                            Fail&& fail) {
  const std::uint32_t expected = 0x0800u | dims;
  const std::size_t header = 4 + 4 * std::size_t{dims};
  const std::string kind = std::string("an IDX ") + what + " file";
  if (bytes.size() < 4) {
    if (bytes.empty()) fail("empty file (" + kind + " starts with a " + std::to_string(header) + "-byte header)");
    fail("truncated header: " + std::to_string(bytes.size()) + " bytes, " + kind + "'s header is " +
         std::to_string(header));
  }
  const std::uint32_t magic = read_be32(bytes.data());
  if (magic != expected) {
    std::string why;
    if (is_gzip(bytes)) why = "; gzip data: inflate it first (read_idx_* do)";
    else if (bytes[0] != 0 || bytes[1] != 0) why = "; not an IDX file";
    else if (bytes[2] != 0x08) why = "; element type " + hex32(bytes[2]).substr(8) + ", fixq reads unsigned bytes (08)";
    else why = "; " + count_text(bytes[3], "dimension") + ", " + kind + " has " + std::to_string(dims) +
               (bytes[3] == 1 ? " (a label file?)" : bytes[3] == 3 ? " (an image file?)" : "");
    fail("wrong magic number " + hex32(magic) + ", expected " + hex32(expected) + " for " + kind + why);
  }
  if (bytes.size() < header)
    fail("truncated header: " + std::to_string(bytes.size()) + " bytes, " + kind + "'s header is " + std::to_string(header));
  std::vector<std::uint32_t> extents(dims);
  for (std::uint32_t i = 0; i < dims; ++i) extents[i] = read_be32(bytes.data() + 4 + 4 * i);
  return extents;
}

/// Checks that exactly `want` bytes of data follow the header (`want` is empty when
/// the product of the extents overflows); `what` describes the data for messages.
template <class Fail>
void check_idx_data_size(std::span<const std::uint8_t> bytes, std::size_t header, const std::uint64_t* want,
                         const std::string& what, Fail&& fail) {
  const std::size_t have = bytes.size() - header;
  if (!want)
    fail("truncated: the header announces " + what + ", more than 2^64 bytes; the file has " +
         std::to_string(have) + " bytes of data");
  if (have < *want)
    fail("truncated: the header announces " + what + " (" + std::to_string(*want) + " bytes of data), the file has " +
         std::to_string(have));
  if (have > *want) fail(count_text(have - *want, "byte") + " after the data of " + what);
}

/// a * b, or false when it overflows 64 bits.
inline bool mul_u64(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}

}  // namespace detail

/// An IDX image file held in memory (see the top of this file) as images of shape
/// (count, rows, columns, 1); `name` is used in error messages.
inline NDArray<std::uint8_t> parse_idx_images(std::span<const std::uint8_t> bytes, const std::string& name) {
  const auto fail = [&](const std::string& what) { throw file_error(name + ": " + what); };
  const std::vector<std::uint32_t> e = detail::parse_idx_header(bytes, 3, "image", fail);
  const std::uint32_t n = e[0], rows = e[1], cols = e[2];
  const std::string what = std::to_string(n) + " images of " + std::to_string(rows) + " x " + std::to_string(cols) + " pixels";
  if (rows == 0 || cols == 0) fail("the header announces " + what + ": an image needs at least one row and column");
  std::uint64_t pixels = 0, total = 0;
  const bool fits = detail::mul_u64(rows, cols, pixels) && detail::mul_u64(pixels, n, total);
  detail::check_idx_data_size(bytes, 16, fits ? &total : nullptr, what, fail);
  NDArray<std::uint8_t> a;
  a.shape = {static_cast<std::int64_t>(n), static_cast<std::int64_t>(rows), static_cast<std::int64_t>(cols), 1};
  a.data.assign(bytes.begin() + 16, bytes.end());
  return a;
}

/// An IDX label file held in memory (see the top of this file); `name` is used in
/// error messages. Any byte value is a label here (load_mnist checks 0..9).
inline std::vector<std::uint8_t> parse_idx_labels(std::span<const std::uint8_t> bytes, const std::string& name) {
  const auto fail = [&](const std::string& what) { throw file_error(name + ": " + what); };
  const std::vector<std::uint32_t> e = detail::parse_idx_header(bytes, 1, "label", fail);
  const std::uint64_t n = e[0];
  detail::check_idx_data_size(bytes, 8, &n, std::to_string(n) + " labels", fail);
  return std::vector<std::uint8_t>(bytes.begin() + 8, bytes.end());
}

/// An IDX image file, gzip-compressed or not: (count, rows, columns, 1).
inline NDArray<std::uint8_t> read_idx_images(const std::filesystem::path& path,
                                             std::size_t max_size = default_max_file_size) {
  return parse_idx_images(read_file_maybe_gzip(path, max_size), path.string());
}

/// An IDX label file, gzip-compressed or not.
inline std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& path,
                                                 std::size_t max_size = default_max_file_size) {
  return parse_idx_labels(read_file_maybe_gzip(path, max_size), path.string());
}

/// MNIST's training set (60000 images) or test set (10000) from the folder that
/// holds its IDX files (see the top of this file for the names looked for).
inline Dataset load_mnist(const std::filesystem::path& dir, MnistSplit split,
                          std::size_t max_size = default_max_file_size) {
  const bool train = split == MnistSplit::Train;
  const std::string prefix = train ? "train" : "t10k";
  const std::string set = train ? "MNIST training " : "MNIST test ";
  const std::filesystem::path images_path = detail::find_data_file(
      dir,
      {prefix + "-images-idx3-ubyte", prefix + "-images-idx3-ubyte.gz", prefix + "-images.idx3-ubyte",
       prefix + "-images.idx3-ubyte.gz"},
      set + "images");
  const std::filesystem::path labels_path = detail::find_data_file(
      dir,
      {prefix + "-labels-idx1-ubyte", prefix + "-labels-idx1-ubyte.gz", prefix + "-labels.idx1-ubyte",
       prefix + "-labels.idx1-ubyte.gz"},
      set + "labels");
  Dataset d;
  d.images = read_idx_images(images_path, max_size);
  d.labels = read_idx_labels(labels_path, max_size);
  const auto n = static_cast<std::size_t>(d.images.shape[0]);
  if (d.labels.size() != n)
    throw file_error(labels_path.string() + ": " + std::to_string(d.labels.size()) + " labels, but " +
                     images_path.string() + " holds " + std::to_string(n) + " images");
  for (std::size_t i = 0; i < n; ++i)
    if (d.labels[i] > 9)
      throw file_error(labels_path.string() + ": label " + std::to_string(d.labels[i]) + " at index " + std::to_string(i) +
                       " is out of range (MNIST's classes are 0..9)");
  for (int c = 0; c < 10; ++c) d.class_names.push_back(std::to_string(c));
  return d;
}

}  // namespace fixq

#endif  // FIXQ_IO_MNIST_HPP

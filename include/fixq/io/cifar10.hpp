// fixq/io/cifar10.hpp - CIFAR-10 in its binary version: batch files and their folder.
//
//   fixq::Dataset test = fixq::load_cifar10("data/cifar-10-batches-bin", fixq::Cifar10Split::Test);
//   // test.images: (n, 32, 32, 3) RGB in NHWC order; test.labels: 0..9;
//   // test.class_names: "airplane", "automobile", ..., "truck"
//   fixq::Dataset b = fixq::read_cifar10_batch("data_batch_1.bin");
//
// A batch file (data_batch_1.bin .. data_batch_5.bin, test_batch.bin; 10000
// records each in the official set) is a sequence of 3073-byte records: one label
// byte (0..9), then the 32 x 32 red channel, the green one and the blue one, each
// row-major. The loaders convert the channel-planar records to NHWC (row, column,
// then R, G, B), the layout of fixq's layers. Files may be gzip-compressed
// (fixq/io/gzip.hpp), whatever their names.
//
// load_cifar10 reads data_batch_1.bin .. data_batch_5.bin in that order
// (Cifar10Split::Train) or test_batch.bin (Cifar10Split::Test), each with or
// without .gz, from the folder cifar-10-binary.tar.gz unpacks to. The class names
// come from batches.meta.txt in the same folder (ten non-empty lines) when it is
// there, else they are the official ten.
//
// Errors are fixq::file_error naming the file and the problem: a missing batch
// file, a gzip problem, an empty file, a size that is not a whole number of
// records, a label above 9, a batches.meta.txt that does not hold ten names.
#ifndef FIXQ_IO_CIFAR10_HPP
#define FIXQ_IO_CIFAR10_HPP

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <fixq/io/dataset.hpp>
#include <fixq/io/gzip.hpp>
#include <fixq/io/npy.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

enum class Cifar10Split { Train, Test };

/// The bytes of one record: a label, then 32 x 32 pixels of each of 3 channels.
inline constexpr std::size_t cifar10_record_bytes = 1 + 3 * 32 * 32;

/// The official class names, in label order.
inline std::vector<std::string> cifar10_class_names() {
  return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
}

namespace detail {

/// Appends the records of a batch held in memory to `d` (images NHWC, labels).
template <class Fail>
void append_cifar10_records(std::span<const std::uint8_t> bytes, Dataset& d, Fail&& fail) {
  constexpr std::size_t rec = cifar10_record_bytes, plane = 32 * 32;
  if (bytes.empty()) fail("empty file (a CIFAR-10 batch holds records of " + std::to_string(rec) + " bytes)");
  if (bytes.size() % rec != 0) {
    std::string why = std::to_string(bytes.size()) + " bytes: not a whole number of " + std::to_string(rec) +
                      "-byte records (" + count_text(bytes.size() / rec, "record") + " and " +
                      count_text(bytes.size() % rec, "byte") + ")";
    if (bytes.size() % (rec + 1) == 0) why += "; records of 3074 bytes are CIFAR-100's, which fixq does not read";
    fail(why);
  }
  const std::size_t n = bytes.size() / rec;
  for (std::size_t r = 0; r < n; ++r)
    if (bytes[r * rec] > 9)
      fail("record " + std::to_string(r) + ": label " + std::to_string(bytes[r * rec]) +
           " is out of range (CIFAR-10's classes are 0..9)");
  const std::size_t first = d.labels.size();
  d.labels.resize(first + n);
  d.images.data.resize((first + n) * 3 * plane);
  for (std::size_t r = 0; r < n; ++r) {
    const std::uint8_t* src = bytes.data() + r * rec;
    d.labels[first + r] = src[0];
    std::uint8_t* dst = d.images.data.data() + (first + r) * 3 * plane;
    for (std::size_t p = 0; p < plane; ++p)
      for (std::size_t c = 0; c < 3; ++c) dst[3 * p + c] = src[1 + c * plane + p];
  }
  d.images.shape = {static_cast<std::int64_t>(first + n), 32, 32, 3};
}

}  // namespace detail

/// A CIFAR-10 batch held in memory (see the top of this file); `name` is used in
/// error messages. The class names are the official ten.
inline Dataset parse_cifar10_batch(std::span<const std::uint8_t> bytes, const std::string& name) {
  Dataset d;
  d.images.shape = {0, 32, 32, 3};
  detail::append_cifar10_records(bytes, d, [&](const std::string& what) { throw file_error(name + ": " + what); });
  d.class_names = cifar10_class_names();
  return d;
}

/// A CIFAR-10 batch file, gzip-compressed or not. The class names are the official ten.
inline Dataset read_cifar10_batch(const std::filesystem::path& path, std::size_t max_size = default_max_file_size) {
  return parse_cifar10_batch(read_file_maybe_gzip(path, max_size), path.string());
}

/// The class names of a batches.meta.txt held in memory: ten non-empty lines
/// (blank lines, and spaces and tabs around a name, do not count; "\r\n" line ends
/// are fine); `name` is used in error messages.
inline std::vector<std::string> parse_cifar10_class_names(std::span<const std::uint8_t> bytes, const std::string& name) {
  const auto fail = [&](const std::string& what) { throw file_error(name + ": " + what); };
  std::vector<std::string> names;
  std::size_t line = 1, start = 0;
  for (std::size_t i = 0; i <= bytes.size(); ++i) {
    if (i < bytes.size() && bytes[i] != '\n') {
      const std::uint8_t c = bytes[i];
      if (c < 0x20 && c != '\t' && c != '\r') fail("line " + std::to_string(line) + " holds a control character: not a text file");
      continue;
    }
    std::size_t b = start, e = i;
    while (b < e && (bytes[b] == ' ' || bytes[b] == '\t')) ++b;
    while (e > b && (bytes[e - 1] == ' ' || bytes[e - 1] == '\t' || bytes[e - 1] == '\r')) --e;
    if (b < e) {
      if (names.size() == 10) fail("more than ten class names (line " + std::to_string(line) + ")");
      names.emplace_back(reinterpret_cast<const char*>(bytes.data()) + b, e - b);
    }
    start = i + 1;
    ++line;
  }
  if (names.size() != 10) fail(std::to_string(names.size()) + " class names, CIFAR-10 has ten");
  return names;
}

/// CIFAR-10's training set (data_batch_1.bin .. data_batch_5.bin, in that order) or
/// test set (test_batch.bin) from the folder that holds its batch files, with the
/// class names of its batches.meta.txt when there is one.
inline Dataset load_cifar10(const std::filesystem::path& dir, Cifar10Split split,
                            std::size_t max_size = default_max_file_size) {
  std::vector<std::string> stems;
  if (split == Cifar10Split::Train)
    for (int k = 1; k <= 5; ++k) stems.push_back("data_batch_" + std::to_string(k));
  else
    stems.push_back("test_batch");
  Dataset d;
  d.images.shape = {0, 32, 32, 3};
  for (const std::string& stem : stems) {
    const std::filesystem::path path = detail::find_data_file(
        dir, {stem + ".bin", stem + ".bin.gz"},
        std::string("CIFAR-10 ") + (split == Cifar10Split::Train ? "training" : "test") + " batch " + stem);
    const std::vector<std::uint8_t> bytes = read_file_maybe_gzip(path, max_size);
    detail::append_cifar10_records(bytes, d, [&](const std::string& what) { throw file_error(path.string() + ": " + what); });
  }
  const std::filesystem::path meta = dir / "batches.meta.txt";
  std::error_code ec;
  if (std::filesystem::exists(meta, ec))
    d.class_names = parse_cifar10_class_names(read_file_bytes(meta, std::size_t{1} << 20), meta.string());
  else
    d.class_names = cifar10_class_names();
  return d;
}

}  // namespace fixq

#endif  // FIXQ_IO_CIFAR10_HPP

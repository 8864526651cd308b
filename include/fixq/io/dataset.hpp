// fixq/io/dataset.hpp - a labelled image data set in memory, and batches of it.
//
//   fixq::Dataset d = fixq::load_mnist("data/mnist", fixq::MnistSplit::Test);
//   for (std::size_t i = 0; i < d.size(); i += 256) {
//     fixq::NDArray<float> x = fixq::to_float(d, i, 256, 1.0 / 255);   // (<=256, 28, 28, 1)
//     ... d.labels[i + k] is the class of image k of the batch
//   }
//
// Images are raw 8-bit pixels in NHWC order (image, row, column, channel), the
// layout of fixq's layers; labels are class indices into class_names. The
// loaders (fixq/io/mnist.hpp, fixq/io/cifar10.hpp) fill all three. A batch
// (subset, to_float) is counted from `first` and stops at the end of the set:
// the last batch may be short. A `first` past the end, or a Dataset whose parts
// disagree, throws std::out_of_range or std::invalid_argument.
#ifndef FIXQ_IO_DATASET_HPP
#define FIXQ_IO_DATASET_HPP

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <fixq/io/npy.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

struct Dataset {
  NDArray<std::uint8_t> images;          ///< (n, height, width, channels), pixels 0..255
  std::vector<std::uint8_t> labels;      ///< n class indices
  std::vector<std::string> class_names;  ///< the name of each class index

  /// The number of images (and labels).
  std::size_t size() const { return labels.size(); }
};

namespace detail {

/// Checks that a Dataset is (n, h, w, c) images with n labels; returns the bytes
/// of one image.
inline std::size_t dataset_image_bytes(const Dataset& d, const char* what) {
  const Shape& s = d.images.shape;
  if (s.size() != 4 || s[0] < 0 || static_cast<std::size_t>(s[0]) != d.labels.size() ||
      d.images.data.size() != shape_size(s))
    throw std::invalid_argument(std::string("fixq::") + what + ": the data set has images of shape " + shape_text(s) +
                                " and " + std::to_string(d.labels.size()) + " labels");
  return static_cast<std::size_t>(s[1]) * static_cast<std::size_t>(s[2]) * static_cast<std::size_t>(s[3]);
}

/// The number of items from `first`, at most `count`; throws when `first` is past the end.
inline std::size_t batch_count(const Dataset& d, std::size_t first, std::size_t count, const char* what) {
  if (first > d.size())
    throw std::out_of_range(std::string("fixq::") + what + ": first = " + std::to_string(first) + " is past the end (" +
                            std::to_string(d.size()) + " images)");
  return std::min(count, d.size() - first);
}

/// The first of `names` that exists in `dir`; throws naming them all otherwise.
inline std::filesystem::path find_data_file(const std::filesystem::path& dir, std::initializer_list<std::string> names,
                                            const std::string& what) {
  std::error_code ec;
  const auto st = std::filesystem::status(dir, ec);
  if (st.type() == std::filesystem::file_type::not_found) throw file_error(dir.string() + ": no such directory");
  if (!std::filesystem::is_directory(st)) throw file_error(dir.string() + ": not a directory");
  std::string tried;
  for (const std::string& n : names) {
    const std::filesystem::path p = dir / n;
    if (std::filesystem::exists(p, ec)) return p;
    tried += (tried.empty() ? "" : ", ") + n;
  }
  throw file_error(dir.string() + ": no " + what + " (looked for " + tried + ")");
}

}  // namespace detail

/// Images and labels first .. first + count - 1 (fewer at the end of the set), with
/// the same class names.
inline Dataset subset(const Dataset& d, std::size_t first, std::size_t count) {
  const std::size_t per_image = detail::dataset_image_bytes(d, "subset");
  const std::size_t n = detail::batch_count(d, first, count, "subset");
  Dataset out;
  out.images.shape = d.images.shape;
  out.images.shape[0] = static_cast<std::int64_t>(n);
  const auto from = d.images.data.begin() + static_cast<std::ptrdiff_t>(first * per_image);
  out.images.data.assign(from, from + static_cast<std::ptrdiff_t>(n * per_image));
  const auto label = d.labels.begin() + static_cast<std::ptrdiff_t>(first);
  out.labels.assign(label, label + static_cast<std::ptrdiff_t>(n));
  out.class_names = d.class_names;
  return out;
}

/// A batch for a model: images first .. first + count - 1 (fewer at the end of the
/// set) as float, each pixel x as x * scale + offset (computed in double, then
/// rounded to float once), shape (n, height, width, channels).
inline NDArray<float> to_float(const Dataset& d, std::size_t first, std::size_t count, double scale = 1.0,
                               double offset = 0.0) {
  const std::size_t per_image = detail::dataset_image_bytes(d, "to_float");
  const std::size_t n = detail::batch_count(d, first, count, "to_float");
  // 256 possible pixel values: one table instead of a multiply-add per pixel.
  float table[256];
  for (int v = 0; v < 256; ++v) table[v] = static_cast<float>(v * scale + offset);
  NDArray<float> out;
  out.shape = d.images.shape;
  out.shape[0] = static_cast<std::int64_t>(n);
  out.data.resize(n * per_image);
  const std::uint8_t* src = d.images.data.data() + first * per_image;
  for (std::size_t i = 0; i < out.data.size(); ++i) out.data[i] = table[src[i]];
  return out;
}

}  // namespace fixq

#endif  // FIXQ_IO_DATASET_HPP

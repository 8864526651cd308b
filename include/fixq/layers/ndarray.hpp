// fixq/layers/ndarray.hpp - a plain N-dimensional array: shape and row-major data.
//
// Activations are NHWC (batch, height, width, channels) or (batch, features), as in
// Keras and TensorFlow; conv weights HWIO, dense weights (in, out). The last axis
// varies fastest. The same type carries float values (float and sim paths) and
// integer codes (int path).
#ifndef FIXQ_LAYERS_NDARRAY_HPP
#define FIXQ_LAYERS_NDARRAY_HPP

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace fixq {

using Shape = std::vector<std::int64_t>;

/// "(2, 28, 28, 1)".
inline std::string shape_text(const Shape& s) {
  std::string t = "(";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + (s.size() == 1 ? ",)" : ")");
}

/// Number of elements of a shape; throws std::invalid_argument for a negative extent.
inline std::size_t shape_size(const Shape& s) {
  std::size_t n = 1;
  for (const std::int64_t e : s) {
    if (e < 0) throw std::invalid_argument("fixq: negative extent in shape " + shape_text(s));
    n *= static_cast<std::size_t>(e);
  }
  return n;
}

template <class T>
struct NDArray {
  Shape shape;
  std::vector<T> data;

  NDArray() = default;
  explicit NDArray(Shape s, T fill = T{}) : shape(std::move(s)), data(shape_size(shape), fill) {}
  NDArray(Shape s, std::vector<T> d) : shape(std::move(s)), data(std::move(d)) {
    if (data.size() != shape_size(shape))
      throw std::invalid_argument("fixq::NDArray: " + std::to_string(data.size()) + " elements for shape " +
                                  shape_text(shape));
  }

  std::size_t size() const { return data.size(); }
  int rank() const { return static_cast<int>(shape.size()); }
  std::int64_t dim(int axis) const { return shape.at(static_cast<std::size_t>(axis)); }
  T& operator[](std::size_t i) { return data[i]; }
  const T& operator[](std::size_t i) const { return data[i]; }

  friend bool operator==(const NDArray&, const NDArray&) = default;
};

}  // namespace fixq

#endif  // FIXQ_LAYERS_NDARRAY_HPP

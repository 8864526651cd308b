// fixq/train/augment.hpp - data augmentation for image batches (NHWC), keyed by
// a seed so that a run is reproducible: random translation (a random crop of the
// image padded with zeros: the CIFAR recipe "pad 4, crop 32") and random
// horizontal flips.
#ifndef FIXQ_TRAIN_AUGMENT_HPP
#define FIXQ_TRAIN_AUGMENT_HPP

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <fixq/layers/ndarray.hpp>
#include <fixq/random/stream.hpp>

namespace fixq::train {

/// Shifts every image of x (n, H, W, C) by a random (dy, dx) in [-pad, pad]^2,
/// filling with `fill`, and mirrors it left-right with probability 1/2 when
/// `flip`. Sample i draws from derive_seed(seed, i).
inline void random_shift_flip(NDArray<float>& x, int pad, bool flip, std::uint64_t seed, float fill = 0.0f) {
  if (x.rank() != 4) throw std::invalid_argument("fixq::train::random_shift_flip: expects NHWC images");
  if (pad < 0) throw std::invalid_argument("fixq::train::random_shift_flip: pad must be >= 0");
  const std::int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  const std::size_t per = static_cast<std::size_t>(h * w * c);
  std::vector<float> img(per);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint64_t s = derive_seed(seed, static_cast<std::uint64_t>(i));
    const auto draw = [&](std::uint64_t k, int m) {  // uniform in [0, m)
      return static_cast<int>((static_cast<std::uint64_t>(random_u32(s, k)) * static_cast<std::uint64_t>(m)) >> 32);
    };
    const int dy = draw(0, 2 * pad + 1) - pad, dx = draw(1, 2 * pad + 1) - pad;
    const bool mirror = flip && draw(2, 2) == 1;
    if (dy == 0 && dx == 0 && !mirror) continue;
    float* p = x.data.data() + static_cast<std::size_t>(i) * per;
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t xx = 0; xx < w; ++xx) {
        const std::int64_t sy = y - dy, sx0 = xx - dx, sx = mirror ? w - 1 - sx0 : sx0;
        float* dst = img.data() + (y * w + xx) * c;
        if (sy < 0 || sy >= h || sx0 < 0 || sx0 >= w) {
          for (std::int64_t k = 0; k < c; ++k) dst[k] = fill;
        } else {
          const float* src = p + (sy * w + sx) * c;
          for (std::int64_t k = 0; k < c; ++k) dst[k] = src[k];
        }
      }
    std::copy(img.begin(), img.end(), p);
  }
}

}  // namespace fixq::train

#endif  // FIXQ_TRAIN_AUGMENT_HPP

// fixq/layers/linear.hpp - the weighted sum shared by Dense and Conv2D.
//
// Both layers reduce to rows of input values ("patches": a sample's features, or a
// conv window's values in (ky, kx, ci) order) times a weight matrix per group
// (K x Cout_g), plus a bias per output channel. The core holds the weights in one
// layout, (K, Cout) row-major with the output channel last: Dense's (in, out),
// Conv2D's HWIO (kh * kw * C / groups, out), BatchNorm's (1, C); group g's matrix
// is columns [g * Cout_g, (g + 1) * Cout_g), read with a row stride of Cout, so
// nothing regroups the weights and every consumer (the export, calibration) sees
// the layer's own layout. This file holds the formats of such
// a layer and the three paths over patches:
//   float  Eigen float GEMM, plus bias;
//   sim    patches of values on the input grid times weights on their grid, summed
//          exactly (float32 when the exact sum provably fits 24 bits of significance
//          and float32's exponent range, double when it fits 53 bits and double's,
//          else the integer sum), plus the bias on its grid,
//          rounded once into the output format (kernels/quantize_span.hpp);
//   int    patches of codes times weight codes (kernels/gemm.hpp) in int32 or int64,
//          the bias code aligned by a left shift, requantized once
//          (kernels/requantize.hpp).
// The value each path rounds is the same exact rational, and rounding and overflow
// are the same functions of it (and of the same random word), so int == sim.
//
// The exact sum of channel c is T = P * 2^(F - fa) + B * 2^(F - fb) at fraction
// F = max(fa, fb), with P the sum of products at fa = input frac + weight frac of
// c and B the bias code at fb. Its bound, from the code widths and the reduction
// length K, chooses the accumulators: P in int32 when K * max|x| * max|w| < 2^31,
// else int64; T in int64, and a layer whose T could reach 2^63 is rejected.
#ifndef FIXQ_LAYERS_LINEAR_HPP
#define FIXQ_LAYERS_LINEAR_HPP

#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fixq/core/format.hpp>
#include <fixq/core/int128.hpp>
#include <fixq/core/spec.hpp>
#include <fixq/kernels/gemm.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/kernels/requantize.hpp>
#include <fixq/layers/layer.hpp>
#include <fixq/layers/ndarray.hpp>

namespace fixq {

/// The fixed-point formats of a Dense or Conv2D layer.
struct LinearFormats {
  Format input;                              ///< the codes coming in
  Format weight;                             ///< word and signedness; frac when per tensor
  std::vector<int> weight_frac = {};         ///< one frac per output channel (empty: weight.frac)
  std::optional<Format> bias = {};           ///< default: 32 bits at input frac + the channel's weight frac
  QuantSpec output;                          ///< output format, rounding, overflow, seed
  Round weight_round = Round::NearestEven;   ///< how the float weights and bias are put on their grids
};

namespace detail {

/// Largest magnitude of a code of f (2^(w-1) signed, 2^w - 1 unsigned).
inline int128 max_magnitude(const Format& f) {
  return f.is_signed ? pow2_i128(f.word - 1) : pow2_i128(f.word) - 1;
}
/// Bits of a signed integer that holds every value of magnitude <= b (sign included).
inline int signed_bits(int128 b) { return bit_length(static_cast<uint128>(b)) + 1; }

/// What a bound Dense or Conv2D layer shares between its paths.
class LinearCore {
 public:
  /// w: K x cout values (row-major, the output channel last) which the layer holds
  /// in shape `weight_shape`, described by `layout`; bias: cout values or empty;
  /// `fail` throws the layer's error.
  template <class Fail>
  void prepare(Fail&& fail, const LinearFormats& f, int groups, int K, int cout, std::vector<float> w,
               std::vector<float> bias, Shape weight_shape, std::string layout) {
    weight_shape_ = std::move(weight_shape);
    weight_layout_ = std::move(layout);
    formats_ = f;
    groups_ = groups;
    K_ = K;
    cout_ = cout;
    coutg_ = cout / groups;
    w_float_ = std::move(w);
    b_float_ = bias.empty() ? std::vector<float>(static_cast<std::size_t>(cout), 0.0f) : std::move(bias);
    if (f.weight_round == Round::Stochastic)
      fail("weight_round Round::Stochastic is not supported (weights are put on their grid once)");
    if (!f.weight_frac.empty() && static_cast<int>(f.weight_frac.size()) != cout)
      fail("weight_frac has " + std::to_string(f.weight_frac.size()) + " entries for " + std::to_string(cout) +
           " output channels");
    f.output.validate();
    if (f.input.word > Layer::max_word || f.output.format.word > Layer::max_word || f.weight.word > Layer::max_word)
      fail("input, weight and output words must be <= " + std::to_string(Layer::max_word) +
           " (the sim path holds values as float32)");
    // Per channel: weight format, bias format, fractions, shifts, bound.
    const std::size_t C = static_cast<std::size_t>(cout);
    w_fmt_.clear();
    b_fmt_.clear();
    acc_frac_.assign(C, 0);
    prod_shift_.assign(C, 0);
    bias_shift_.assign(C, 0);
    int128 max_t = 0, max_p = 0;
    for (std::size_t c = 0; c < C; ++c) {
      const Format wf{f.weight.word, f.weight_frac.empty() ? f.weight.frac : f.weight_frac[c], f.weight.is_signed};
      const int fa = f.input.frac + wf.frac;
      const Format bf = f.bias ? *f.bias : Format{32, fa, true};
      w_fmt_.push_back(wf);
      b_fmt_.push_back(bf);
      const int F = std::max(fa, bf.frac);
      if (F - fa > 62 || F - bf.frac > 62)
        fail("the bias fraction (" + std::to_string(bf.frac) + ") and the product fraction (" + std::to_string(fa) +
             ") are too far apart for an exact 64-bit sum");
      acc_frac_[c] = F;
      prod_shift_[c] = F - fa;
      bias_shift_[c] = F - bf.frac;
      const int128 p = static_cast<int128>(K) * max_magnitude(f.input) * max_magnitude(wf);
      const int128 t = (p << prod_shift_[c]) + (max_magnitude(bf) << bias_shift_[c]);
      max_p = std::max(max_p, p);
      max_t = std::max(max_t, t);
    }
    exact_bits_ = signed_bits(max_t);
    if (exact_bits_ > 64)
      fail("the exact sum needs " + std::to_string(exact_bits_) + " bits (input " + f.input.name() + ", weights " +
           std::to_string(f.weight.word) + " bits, reduction length " + std::to_string(K) +
           "), more than the 64 of the widest accumulator");
    acc32_ = signed_bits(max_p) <= 32;
    // A floating-point sum is exact when every term and partial sum is a float
    // (double): at most 24 (53) significant bits, and multiples of 2^-F no finer than
    // the smallest subnormal 2^-149 (2^-1074) and below 2^128 (2^1024). The weights'
    // values are held as float32, so they must be float32 values too (frac <= 149,
    // word - frac <= 128). Otherwise the sim path sums the codes.
    const int bits = signed_bits(max_t) - 1;  // |T| < 2^bits
    int f_min = acc_frac_.empty() ? 0 : acc_frac_[0], f_max = f_min;
    bool w_floats = true;
    for (std::size_t c = 0; c < C; ++c) {
      f_min = std::min(f_min, acc_frac_[c]);
      f_max = std::max(f_max, acc_frac_[c]);
      w_floats = w_floats && w_fmt_[c].frac <= 149 && w_fmt_[c].word - w_fmt_[c].frac <= 128;
    }
    sim_float_ = bits <= 24 && w_floats && f_max <= 149 && bits - f_min <= 128;
    sim_double_ = bits <= 53 && w_floats && f_max <= 1074 && bits - f_min <= 1024;
    // Weights and bias on their grids: codes and values.
    w_code_.assign(w_float_.size(), 0);
    w_value_.assign(w_float_.size(), 0.0f);
    for (std::size_t c = 0; c < C; ++c) {
      const QuantSpec ws{w_fmt_[c], f.weight_round, Overflow::Saturate};
      for (int k = 0; k < K; ++k) {
        const std::size_t at = static_cast<std::size_t>(k) * C + c;
        std::int32_t code;
        quantize_span(&w_float_[at], &code, 1, ws);
        w_code_[at] = code;
        w_value_[at] = static_cast<float>(static_cast<double>(code) * w_fmt_[c].lsb());
      }
    }
    // The int16 pair kernel (simd/gemm_i16.hpp) when the input and weight codes fit
    // int16 and the products' sum fits int32.
    const auto fits16 = [](const Format& f) { return f.word + (f.is_signed ? 0 : 1) <= 16; };
    use_i16_ = acc32_ && fits16(f.input) && fits16(f.weight);
    packed_.clear();
    if (use_i16_)
      for (int g = 0; g < groups; ++g)
        packed_.push_back(pack_b16(w_code_.data() + static_cast<std::size_t>(g) * coutg_, static_cast<std::size_t>(K),
                                   static_cast<std::size_t>(coutg_), C));
    b_code_.assign(C, 0);
    b_value_.assign(C, 0.0);
    for (std::size_t c = 0; c < C; ++c) {
      std::int64_t code;
      quantize_span(&b_float_[c], &code, 1, QuantSpec{b_fmt_[c], f.weight_round, Overflow::Saturate});
      b_code_[c] = code;
      b_value_[c] = static_cast<double>(code) * b_fmt_[c].lsb();  // exact: |code| < 2^53 checked by bits
    }
  }

  int exact_bits() const { return exact_bits_; }
  int accumulator_bits() const { return acc32_ ? 32 : 64; }
  int groups() const { return groups_; }
  /// The weights' shape and layout as the layer holds them (the export writes them so).
  const Shape& weight_shape() const { return weight_shape_; }
  const std::string& weight_layout() const { return weight_layout_; }
  int output_channels() const { return cout_; }
  /// Per output channel: the weight and bias formats.
  const std::vector<Format>& weight_formats() const { return w_fmt_; }
  const std::vector<Format>& bias_formats() const { return b_fmt_; }
  /// The weights as given (float), their codes and their values on the grids, all
  /// (K, cout) row-major; the bias codes and values (cout).
  const std::vector<float>& float_weights() const { return w_float_; }
  const std::vector<std::int32_t>& weight_codes() const { return w_code_; }
  const std::vector<float>& weight_values() const { return w_value_; }
  const std::vector<std::int64_t>& bias_codes() const { return b_code_; }
  const std::vector<double>& bias_values() const { return b_value_; }
  /// The requantization, per output channel: the accumulator's fraction F, the left
  /// shifts that align the products' sum (F - (input frac + weight frac)) and the
  /// bias (F - bias frac), and the right shift into the output (F - output frac).
  const std::vector<int>& accumulator_fracs() const { return acc_frac_; }
  const std::vector<int>& product_shifts() const { return prod_shift_; }
  const std::vector<int>& bias_shifts() const { return bias_shift_; }
  std::vector<int> output_shifts() const {
    std::vector<int> s;
    for (const int F : acc_frac_) s.push_back(F - formats_.output.format.frac);
    return s;
  }
  std::int64_t weight_bytes() const {
    std::int64_t bytes = static_cast<std::int64_t>(w_code_.size()) * ((formats_.weight.word + 7) / 8);
    for (const Format& b : b_fmt_) bytes += (b.word + 7) / 8;
    return bytes;
  }

  /// float path: out (rows x cout) = patches (rows x K per group) * w + bias.
  void run_float(std::span<const float> patches, std::size_t rows, float* out) const {
    if (per_channel_scale()) {
      for (int c = 0; c < cout_; ++c) {
        const float* x = patches.data() + static_cast<std::size_t>(c) * rows;
        const float w = w_float_[static_cast<std::size_t>(c)], b = b_float_[static_cast<std::size_t>(c)];
        for (std::size_t r = 0; r < rows; ++r) out[r * static_cast<std::size_t>(cout_) + static_cast<std::size_t>(c)] = x[r] * w + b;
      }
      return;
    }
    using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    for (int g = 0; g < groups_; ++g) {
      const Eigen::Map<const RowMat> a(patches.data() + static_cast<std::size_t>(g) * rows * K_,
                                       static_cast<Eigen::Index>(rows), K_);
      const Eigen::Map<const RowMat, 0, Eigen::OuterStride<>> w(w_float_.data() + static_cast<std::size_t>(g) * coutg_, K_,
                                                                coutg_, Eigen::OuterStride<>(cout_));
      Eigen::Map<RowMat, 0, Eigen::OuterStride<>> o(out + static_cast<std::size_t>(g) * coutg_,
                                                    static_cast<Eigen::Index>(rows), coutg_,
                                                    Eigen::OuterStride<>(cout_));
      o.noalias() = a * w;
      for (Eigen::Index r = 0; r < o.rows(); ++r)
        for (int c = 0; c < coutg_; ++c) o(r, c) += b_float_[static_cast<std::size_t>(g * coutg_ + c)];
    }
  }

  /// sim path: patches of values on the input grid (per group, rows x K each).
  void run_sim(std::span<const float> patches, std::size_t rows, float* out, std::uint64_t first_index) const {
    const std::size_t n = rows * static_cast<std::size_t>(cout_);
    if (sim_float_) {
      std::vector<float> sum(n);
      sum_values<float>(patches, rows, sum.data());
      quantize_span(sum.data(), out, n, formats_.output, first_index);
    } else if (sim_double_) {
      std::vector<double> sum(n);
      sum_values<double>(patches, rows, sum.data());
      quantize_span(sum.data(), out, n, formats_.output, first_index);
    } else {
      // Beyond 53 bits no floating-point sum is exact: sum the codes of the values.
      std::vector<std::int32_t> codes(patches.size());
      const double scale = Format::pow2(formats_.input.frac);
      for (std::size_t i = 0; i < codes.size(); ++i)
        codes[i] = static_cast<std::int32_t>(static_cast<double>(patches[i]) * scale);
      std::vector<std::int32_t> oc(n);
      run_int(std::span<const std::int32_t>(codes), rows, oc.data(), first_index);
      const double lsb = formats_.output.format.lsb();
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<double>(oc[i]) * lsb);
    }
  }

  /// int path: patches of input codes (per group, rows x K each).
  template <class Code>
  void run_int(std::span<const Code> patches, std::size_t rows, std::int32_t* out, std::uint64_t first_index) const {
    const std::size_t n = rows * static_cast<std::size_t>(cout_);
    std::vector<std::int64_t> total(n);
    if (use_i16_ && std::is_same_v<Code, std::int32_t>) {
      std::vector<std::int16_t> p16(patches.begin(), patches.end());  // the codes fit int16
      sum_codes<std::int32_t>(std::span<const std::int16_t>(p16), rows, total.data());
    } else if (acc32_) {
      sum_codes<std::int32_t>(patches, rows, total.data());
    } else {
      sum_codes<std::int64_t>(patches, rows, total.data());
    }
    requantize_span(total.data(), out, n, std::span<const int>(acc_frac_), formats_.output, first_index);
  }

 private:
  /// One input channel and one weight per output channel (BatchNorm kept as a
  /// layer): a scale and an offset per channel, computed element by element
  /// rather than as one GEMM of a single column per channel.
  bool per_channel_scale() const { return K_ == 1 && coutg_ == 1; }

  template <class T>
  void sum_values(std::span<const float> patches, std::size_t rows, T* sum) const {
    if (per_channel_scale()) {  // exact like the GEMM: the bound covers the product and the sum
      for (int c = 0; c < cout_; ++c) {
        const float* x = patches.data() + static_cast<std::size_t>(c) * rows;
        const auto w = static_cast<T>(w_value_[static_cast<std::size_t>(c)]);
        const auto b = static_cast<T>(b_value_[static_cast<std::size_t>(c)]);
        for (std::size_t r = 0; r < rows; ++r)
          sum[r * static_cast<std::size_t>(cout_) + static_cast<std::size_t>(c)] = static_cast<T>(x[r]) * w + b;
      }
      return;
    }
    using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using FloatRowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    for (int g = 0; g < groups_; ++g) {
      // (cast<float> of float data is the data itself: no copy on the float32 path)
      const Eigen::Map<const FloatRowMat> a(patches.data() + static_cast<std::size_t>(g) * rows * K_,
                                            static_cast<Eigen::Index>(rows), K_);
      const Eigen::Map<const FloatRowMat, 0, Eigen::OuterStride<>> w(
          w_value_.data() + static_cast<std::size_t>(g) * coutg_, K_, coutg_, Eigen::OuterStride<>(cout_));
      Eigen::Map<RowMat, 0, Eigen::OuterStride<>> o(sum + static_cast<std::size_t>(g) * coutg_,
                                                    static_cast<Eigen::Index>(rows), coutg_,
                                                    Eigen::OuterStride<>(cout_));
      if constexpr (std::is_same_v<T, float>) {
        o.noalias() = a * w;
      } else {
        // The cast in blocks of rows, into one buffer: a cast operand of the whole
        // batch's patches would be a temporary that leaves the caches.
        constexpr Eigen::Index block = 512;
        const RowMat wt = w.template cast<T>();
        RowMat at(std::min<Eigen::Index>(block, o.rows()), K_);
        for (Eigen::Index r0 = 0; r0 < o.rows(); r0 += block) {
          const Eigen::Index n = std::min(block, o.rows() - r0);
          at.topRows(n) = a.middleRows(r0, n).template cast<T>();
          o.middleRows(r0, n).noalias() = at.topRows(n) * wt;
        }
      }
      for (Eigen::Index r = 0; r < o.rows(); ++r)
        for (int c = 0; c < coutg_; ++c) o(r, c) += static_cast<T>(b_value_[static_cast<std::size_t>(g * coutg_ + c)]);
    }
  }

  template <class Acc, class Code>
  void sum_codes(std::span<const Code> patches, std::size_t rows, std::int64_t* total) const {
    if (per_channel_scale()) {
      for (int c = 0; c < cout_; ++c) {
        const auto ch = static_cast<std::size_t>(c);
        const Code* x = patches.data() + ch * rows;
        const std::int64_t w = w_code_[ch], b = b_code_[ch] << bias_shift_[ch];
        for (std::size_t r = 0; r < rows; ++r)
          total[r * static_cast<std::size_t>(cout_) + ch] = ((static_cast<std::int64_t>(x[r]) * w) << prod_shift_[ch]) + b;
      }
      return;
    }
    std::vector<Acc> p(rows * static_cast<std::size_t>(coutg_));
    for (int g = 0; g < groups_; ++g) {
      const Code* a = patches.data() + static_cast<std::size_t>(g) * rows * K_;
      if constexpr (std::is_same_v<Acc, std::int32_t> && std::is_same_v<Code, std::int16_t>) {
        if (use_i16_) {
          gemm_i16(rows, a, static_cast<std::size_t>(K_), packed_[static_cast<std::size_t>(g)], p.data(),
                   static_cast<std::size_t>(coutg_));
        } else {
          gemm_exact<Acc>(rows, static_cast<std::size_t>(coutg_), static_cast<std::size_t>(K_), a,
                          static_cast<std::size_t>(K_), w_code_.data() + static_cast<std::size_t>(g) * coutg_,
                          static_cast<std::size_t>(cout_), p.data(), static_cast<std::size_t>(coutg_));
        }
      } else {
        gemm_exact<Acc>(rows, static_cast<std::size_t>(coutg_), static_cast<std::size_t>(K_), a,
                        static_cast<std::size_t>(K_), w_code_.data() + static_cast<std::size_t>(g) * coutg_,
                        static_cast<std::size_t>(cout_), p.data(), static_cast<std::size_t>(coutg_));
      }
      for (std::size_t r = 0; r < rows; ++r)
        for (int c = 0; c < coutg_; ++c) {
          const std::size_t ch = static_cast<std::size_t>(g * coutg_ + c);
          total[r * static_cast<std::size_t>(cout_) + ch] =
              (static_cast<std::int64_t>(p[r * static_cast<std::size_t>(coutg_) + static_cast<std::size_t>(c)])
               << prod_shift_[ch]) +
              (b_code_[ch] << bias_shift_[ch]);
        }
    }
  }

  LinearFormats formats_{Format{8, 0}, Format{8, 0}, {}, {}, QuantSpec{Format{8, 0}}};
  int groups_ = 1, K_ = 0, cout_ = 0, coutg_ = 0;
  Shape weight_shape_;
  std::string weight_layout_;
  std::vector<float> w_float_, b_float_, w_value_;
  std::vector<double> b_value_;
  std::vector<std::int32_t> w_code_;
  std::vector<std::int64_t> b_code_;
  std::vector<Format> w_fmt_, b_fmt_;
  std::vector<int> acc_frac_, prod_shift_, bias_shift_;
  int exact_bits_ = 0;
  bool acc32_ = true, sim_float_ = true, sim_double_ = true, use_i16_ = false;
  std::vector<PackedB16> packed_;
};

/// The weights (shape of w) and the bias (empty when b is) of a bound core as their
/// values on their grids.
inline std::pair<NDArray<float>, NDArray<float>> values_on_grid(const LinearCore& core, const NDArray<float>& w,
                                                                const NDArray<float>& b) {
  NDArray<float> wq(w.shape, core.weight_values());
  NDArray<float> bq = b;
  for (std::size_t c = 0; c < bq.size(); ++c) bq.data[c] = static_cast<float>(core.bias_values()[c]);
  return {std::move(wq), std::move(bq)};
}

}  // namespace detail

}  // namespace fixq

#endif  // FIXQ_LAYERS_LINEAR_HPP

// The vector float lanes and the vectorized ARS fill against the scalar core.
//
// This file is compiled four to six times (tests/simd/CMakeLists.txt): with the
// build's flags (-march=native: AVX-512 with VAES on the CI machine), for AVX2 with
// AES-NI (-march=haswell -maes), for baseline x86-64 (the portable float loops; ARS
// from AESENC chosen at run time), with FIXQ_NO_EXPLICIT_SIMD (ARS from the
// table-driven round), and where the machine runs them for AVX2 with VAES and for
// AVX-512 without VAES. Each build tests the code its ISA selects:
//  - fixq::detail::simd::quantize_f32<Native, R, O, Out> (simd/quantize_f32.hpp), or the
//    portable detail::chunk_float_lanes of kernels/quantize_span.hpp;
//  - fixq::detail::simd::random_u32_fill (simd/random_fill.hpp).
// The reference is the scalar core: code_from_floating<R, O>(x, f, random_u32(seed, i)),
// itself tested against an independent big-integer reference in tests/core/.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <fixq/core/convert.hpp>
#include <fixq/random.hpp>
#include <fixq/kernels/quantize_span.hpp>
#include <fixq/simd/native.hpp>
#include <fixq/simd/random_fill.hpp>
#include <fixq/simd/quantize_f32.hpp>

using fixq::Format;
using fixq::Overflow;
using fixq::Round;

namespace {

/// The float lanes this build selects, on n elements starting at flat index `first`.
/// `prefetch`: the prefetching loop of Round::Stochastic (for arrays in memory).
template <Round R, Overflow O, class Out>
void float_lanes(const float* in, Out* out, std::size_t n, const Format& f, std::uint64_t seed,
                 std::uint64_t first, bool prefetch = false) {
#if defined(FIXQ_SIMD_NATIVE)
  fixq::detail::simd::quantize_f32<fixq::detail::simd::Native, R, O>(in, out, n, fixq::detail::branch_free_plan<float, O>(f),
                                                      static_cast<float>(f.lsb()), seed, first, prefetch);
#else
  (void)prefetch;
  std::vector<std::uint32_t> random(n + 1);
  fixq::detail::simd::random_u32_fill(seed, first, random.data(), n);
  fixq::detail::float_path_chunk<R, O>(in, out, n, fixq::detail::make_plan(f, O), random.data());
#endif
}

/// Input values around and beyond f: for small formats every multiple of lsb/4 over
/// three times the range and the floats one ULP either side (every tie and its
/// neighbours); for wide formats random values at every scale and exact ties; for
/// both, signed zeros, subnormals, huge values, infinities and NaN.
std::vector<float> inputs(const Format& f, std::mt19937_64& gen) {
  std::vector<float> x;
  const double lsb = f.lsb();
  const double top = std::max(std::fabs(f.min_value()), f.max_value());
  const auto add3 = [&](float v) {
    x.push_back(v);
    x.push_back(std::nextafter(v, std::numeric_limits<float>::infinity()));
    x.push_back(std::nextafter(v, -std::numeric_limits<float>::infinity()));
  };
  if (f.word <= 8) {
    const double span = 3.0 * top + 4 * lsb;
    for (double v = -span; v <= span; v += lsb / 4) add3(static_cast<float>(v));
  } else {
    std::uniform_real_distribution<double> unit(-1.0, 1.0);
    for (int i = 0; i < 500; ++i) {
      add3(static_cast<float>(unit(gen) * top * 1.25));                                   // around the range
      add3(static_cast<float>((std::floor(unit(gen) * top / lsb) + 0.5) * lsb));          // exact ties
      add3(static_cast<float>(std::ldexp(unit(gen), static_cast<int>(gen() % 60) - 30) * lsb));  // all scales
      x.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(gen())));               // any bit pattern
    }
  }
  for (float s : {0.0f, -0.0f, std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::min(), std::numeric_limits<float>::max(),
                  std::numeric_limits<float>::lowest(), std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                  -std::numeric_limits<float>::quiet_NaN(), 0x1p30f, -0x1p30f, 0x1p31f, -0x1p31f})
    x.push_back(s);
  for (float s : {static_cast<float>(lsb * 0x1p-30), static_cast<float>(lsb * 0.5), static_cast<float>(top),
                  static_cast<float>(-top), static_cast<float>(top + lsb / 2), static_cast<float>(-top - lsb / 2)})
    add3(s);
  return x;
}

template <class T>
bool same_bits(T a, T b) {
  if constexpr (std::is_same_v<T, float>)
    return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
  else
    return a == b;
}

/// Runs the float lanes for Out on x (at flat index `first`) and counts the elements
/// that differ from the reference codes.
template <Round R, Overflow O, class Out>
std::size_t mismatches(const std::vector<float>& x, const std::vector<fixq::int128>& ref, const Format& f,
                       std::uint64_t seed, std::uint64_t first) {
  std::vector<Out> got(x.size());
  float_lanes<R, O>(x.data(), got.data(), x.size(), f, seed, first, first % 2 == 1);  // both loops
  std::size_t bad = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    Out want;
    if constexpr (std::is_same_v<Out, float>)
      want = fixq::detail::to_floating<float>(ref[i], f.frac);
    else
      want = static_cast<Out>(ref[i]);
    if (!same_bits(got[i], want)) {
      if (bad < 3)
        UNSCOPED_INFO(f.name() << " " << fixq::to_string(R) << " " << fixq::to_string(O) << " out of "
                               << sizeof(Out) << " bytes, x[" << i << "] = " << std::hexfloat << x[i]
                               << std::defaultfloat << ": expected " << static_cast<double>(want) << ", got "
                               << static_cast<double>(got[i]));
      ++bad;
    }
  }
  return bad;
}

template <Round R, Overflow O>
std::size_t check_format(const Format& f, const std::vector<float>& x, std::uint64_t seed, std::uint64_t first) {
  // Round::Stochastic takes the vector lanes for fewer formats (codes within 2^24).
  if (R == Round::Stochastic && !fixq::detail::simd::stochastic_lanes_fit(f)) return 0;
  std::vector<fixq::int128> ref(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    ref[i] = fixq::detail::code_from_floating<R, O>(x[i], f, fixq::random_u32(seed, first + i));
  const auto fits = [&](auto bits, bool is_signed) {
    return f.max_code() < (std::uint64_t{1} << (bits - (is_signed ? 1 : 0))) && (is_signed || !f.is_signed);
  };
  std::size_t bad = mismatches<R, O, std::int32_t>(x, ref, f, seed, first);
  bad += mismatches<R, O, std::int64_t>(x, ref, f, seed, first);
  if (f.max_code() <= (1u << 24) && -f.min_code() <= (1 << 24)) bad += mismatches<R, O, float>(x, ref, f, seed, first);
  if (fits(8, true)) bad += mismatches<R, O, std::int8_t>(x, ref, f, seed, first);
  if (fits(16, false)) bad += mismatches<R, O, std::uint16_t>(x, ref, f, seed, first);
  return bad;
}

/// Formats the float lanes take: 0 <= frac < 127, codes within +-2^30 (Round::Stochastic:
/// codes within +-2^24, narrow below 2^15 with frac < 111; check_format skips the others).
std::vector<Format> lane_formats() {
  std::vector<Format> fs;
  for (int w : {1, 2, 3, 5, 8, 12, 15, 16, 17, 22, 23, 24, 25, 26, 30})
    for (int frac : {0, 1, w - 1, w + 3, 100, 110, 111, 118, 119, 126})
      for (bool s : {true, false})
        if (frac >= 0 && frac < 127) fs.push_back(Format{w, frac, s});
  return fs;
}

}  // namespace

TEST_CASE("float lanes equal the scalar core for every rounding, saturating mode and code type", "[simd]") {
  INFO("ISA: " << fixq::detail::simd::isa_name());
  std::mt19937_64 gen(17);
  std::size_t bad = 0, checked = 0;
  std::uint64_t first = 0;
  for (const Format& f : lane_formats()) {
    const std::vector<float> x = inputs(f, gen);
    first = (first * 7 + 13) % 1000;  // starts on and off an ARS block
    for (Round r : fixq::all_rounds) fixq::detail::dispatch_round(r, [&]<Round R>() {
      bad += check_format<R, Overflow::Saturate>(f, x, 5, first);
      bad += check_format<R, Overflow::SaturateSymmetric>(f, x, 6, first);
      bad += check_format<R, Overflow::SaturateZero>(f, x, 7, first);
    });
    checked += x.size();
  }
  INFO("inputs per mode: " << checked);
  CHECK(bad == 0);
}

TEST_CASE("float lanes: every length and start index around the vector width", "[simd]") {
  std::mt19937_64 gen(18);
  std::normal_distribution<float> dist(0.0f, 5.0f);
  const Format f{8, 4};
  std::size_t bad = 0;
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 150; ++n) lengths.push_back(n);
  for (std::size_t n : {255u, 256u, 257u, 511u, 512u, 513u, 1100u, 1600u}) lengths.push_back(n);  // Round::Stochastic steps 256 (AVX-512)
  for (std::size_t n : lengths) {
    std::vector<float> x(n);
    for (auto& v : x) v = dist(gen);
    for (std::uint64_t first : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3},
                                std::uint64_t{(1ull << 34) + 5}}) {
      bad += check_format<Round::Stochastic, Overflow::Saturate>(f, x, 1234, first);
      bad += check_format<Round::NearestAway, Overflow::Saturate>(f, x, 0, first);
    }
  }
  CHECK(bad == 0);
}

TEST_CASE("random_u32_fill equals random_u32 for every start and length", "[simd][random]") {
  INFO("ISA: " << fixq::detail::simd::ars_isa_name());
  std::size_t bad = 0;
  for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{42}, ~std::uint64_t{0}})
    for (std::uint64_t first : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{3}, std::uint64_t{1000},
                                std::uint64_t{0xFFFFFFFFull * 4 - 8}, ~std::uint64_t{0} - 300})
      for (std::size_t n : {0u, 1u, 5u, 16u, 17u, 63u, 64u, 65u, 127u, 128u, 129u, 300u, 600u, 1500u}) {
        std::vector<std::uint32_t> got(n + 1, 0xDEADBEEF);
        fixq::detail::simd::random_u32_fill(seed, first, got.data(), n);
        for (std::size_t k = 0; k < n; ++k) bad += got[k] != fixq::random_u32(seed, first + k);
        bad += got[n] != 0xDEADBEEF;  // nothing written past the end
      }
  CHECK(bad == 0);
}

TEST_CASE("Round::Stochastic: in place, and elements whose carry the bottom halfwords decide", "[simd]") {
  // The vector lanes decide from the top halfword b of each random word and redo
  // the elements where the top halfword of F = frac(y) 2^32 is 0xFFFF - b. Here
  // every element is built that way, so the carry comes from the bottom halfwords:
  // y = F / 2^32 or y = -1 + F / 2^32 (exact floats: F's low byte is 0). Formats
  // {8, 4} and {16, 4} take the narrow scheme, {20, 4} and {24, 4} the wide one.
  std::mt19937_64 gen(21);
  for (const Format& f : {Format{8, 4}, Format{16, 4}, Format{20, 4}, Format{24, 4}})
    for (std::uint64_t seed : {std::uint64_t{3}, std::uint64_t{0xABCDEF}})
      for (bool prefetch : {false, true}) {
        const std::size_t n = 4096;
        const std::uint64_t first = 128;
        std::vector<float> x(n);
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint32_t b = fixq::detail::random_half(seed, first + i, 0);
          const std::uint32_t F = (0xFFFFu - b) << 16 | (static_cast<std::uint32_t>(gen()) & 0xFF00u);
          const double y = i % 2 ? std::ldexp(static_cast<double>(F), -32) : -std::ldexp(std::ldexp(1.0, 32) - F, -32);
          x[i] = static_cast<float>(y / 16);
          REQUIRE(static_cast<double>(x[i]) * 16 == y);  // exact
        }
        std::vector<float> got(n), in_place = x;
        float_lanes<Round::Stochastic, Overflow::Saturate>(x.data(), got.data(), n, f, seed, first, prefetch);
        float_lanes<Round::Stochastic, Overflow::Saturate>(in_place.data(), in_place.data(), n, f, seed, first, prefetch);
        std::vector<std::int32_t> zero_mode(n);
        float_lanes<Round::Stochastic, Overflow::SaturateZero>(x.data(), zero_mode.data(), n, f, seed, first, prefetch);
        std::size_t bad = 0, ups = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const auto want =
              fixq::detail::code_from_floating<Round::Stochastic, Overflow::Saturate>(x[i], f, fixq::random_u32(seed, first + i));
          const double v = static_cast<double>(want) / 16;
          bad += got[i] != v;
          bad += in_place[i] != v;
          bad += zero_mode[i] != want;  // no overflow here: SaturateZero agrees
          ups += want == (i % 2 ? 1 : 0);
        }
        INFO(f.name() << " seed " << seed << " prefetch " << prefetch);
        CHECK(bad == 0);
        // Both outcomes occur (the bottom halfwords really decide): about half each.
        CHECK(ups > n / 4);
        CHECK(ups < 3 * n / 4);
      }
}

#if defined(FIXQ_SIMD_NATIVE)
TEST_CASE("V::ars equals ars::block for any first block and stream", "[simd][random]") {
  // The generator of the vector lanes: vector j holds blocks first + (lanes / 4) j + l
  // in its 128-bit lanes l; checked for starts whose blocks carry into the counter's
  // high word, against the scalar (table-driven or AES-NI) block.
  using V = fixq::detail::simd::Native;
  if constexpr (V::has_ars) {
    std::mt19937_64 gen(5);
    std::size_t bad = 0;
    constexpr int n = V::ars_in_flight;
    constexpr std::size_t blocks_per_vector = V::lanes / 4;
    for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{0x0123456789ABCDEF}})
      for (std::uint64_t first : {std::uint64_t{0}, std::uint64_t{0xFFFFFFFFull - 3}, gen(), ~std::uint64_t{0} - 100})
        for (std::uint32_t stream : {0u, 1u}) {
          const V::ArsKeys keys(seed);
          V::I w[n];
          V::ars<n>(keys, first, w, stream);
          for (int j = 0; j < n; ++j) {
            alignas(64) std::uint32_t got[V::lanes];
            V::store(got, w[j]);
            for (std::size_t l = 0; l < blocks_per_vector; ++l) {
              const auto want = fixq::detail::ars::block(fixq::detail::ars::counter_of_block(first + blocks_per_vector * j + l, stream),
                                                 fixq::detail::ars::key_of(seed));
              for (std::size_t t = 0; t < 4; ++t) bad += got[4 * l + t] != want[t];
            }
          }
        }
    CHECK(bad == 0);
  }
}
#endif

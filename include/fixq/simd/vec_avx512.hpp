// fixq/simd/vec_avx512.hpp - the AVX-512 vector operations fixq's kernels are written in.
//
// A thin layer over the intrinsics, in the spirit of gemmlowp's fixedpoint_*.h and
// Eigen's packet math: the algorithms (simd/quantize_f32.hpp, simd/philox.hpp) are
// written once against this vocabulary and instantiated for each ISA (see
// vec_avx2.hpp for the other one). Every operation here is exact and independent
// of the MXCSR rounding mode: rounding uses immediate modes, and conversions
// between float and int32 either act on integral values or carry an explicit
// rounding. Masked ("maskz") forms with a full mask are used where the plain
// intrinsic would read _mm512_undefined_*(), which trips GCC 12's
// -Wmaybe-uninitialized (GCC bug 105593).
#ifndef FIXQ_SIMD_VEC_AVX512_HPP
#define FIXQ_SIMD_VEC_AVX512_HPP

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#define FIXQ_SIMD_HAVE_AVX512 1

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <fixq/core/random.hpp>

namespace fixq::simd {

struct Avx512 {
  static constexpr const char* name = "AVX-512";
  static constexpr int lanes = 16;           // float / 32-bit lanes per vector
  static constexpr int philox_in_flight = 8;  // independent Philox vectors per step (latency hiding)
  using F = __m512;                          // 16 floats
  using I = __m512i;                         // 16 int32 / uint32
  using M = __mmask16;                       // one bit per lane
  static constexpr M all = 0xFFFF;

  // ---- float lanes
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  /// a + b rounded to nearest even whatever MXCSR says (embedded rounding).
  static constexpr bool has_add_nearest = true;
  static F add_nearest(F a, F b) { return _mm512_maskz_add_round_ps(all, a, b, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  /// |magnitude| with the sign of sign.
  static F copysign(F magnitude, F sign) {
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(sign), _mm512_castps_si512(magnitude),
                                                         _mm512_set1_epi32(static_cast<int>(0x80000000u)), 0xE4));  // C ? A : B
  }
  static F min(F a, F b) { return _mm512_maskz_min_ps(all, a, b); }  // b if either is NaN
  static F max(F a, F b) { return _mm512_maskz_max_ps(all, a, b); }  // b if either is NaN
  static F abs(F a) { return _mm512_castsi512_ps(_mm512_and_epi32(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff))); }
  /// Round to an integral value; Mode is _MM_FROUND_TO_{NEAREST_INT,NEG_INF,POS_INF,ZERO}.
  template <int Mode>
  static F round(F a) { return _mm512_maskz_roundscale_ps(all, a, Mode | _MM_FROUND_NO_EXC); }
  static M ordered(F a) { return _mm512_cmp_ps_mask(a, a, _CMP_ORD_Q); }
  static M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M gt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static M eq(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  /// int32 of an integral float within the int32 range (exact).
  static I to_int(F integral) { return _mm512_maskz_cvtps_epi32(all, integral); }
  /// uint32 of an integral float in [0, 2^32) (exact).
  static I to_uint(F integral) { return _mm512_maskz_cvttps_epu32(all, integral); }
  /// float of an int32, rounded to nearest even whatever MXCSR says.
  static F to_float(I a) { return _mm512_maskz_cvt_roundepi32_ps(all, a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static void store(float* p, F a) { _mm512_storeu_ps(p, a); }

  // ---- 32-bit integer lanes
  static I load(const std::uint32_t* p) { return _mm512_loadu_si512(p); }
  static I set1(std::int32_t v) { return _mm512_set1_epi32(v); }
  static I zero() { return _mm512_setzero_si512(); }
  static I add(I a, I b) { return _mm512_add_epi32(a, b); }
  static I add_if(M m, I a, I b) { return _mm512_mask_add_epi32(a, m, a, b); }  // m ? a + b : a
  static I sub_if(M m, I a, I b) { return _mm512_mask_sub_epi32(a, m, a, b); }  // m ? a - b : a
  static I negate_if(M m, I a) { return _mm512_mask_sub_epi32(a, m, _mm512_setzero_si512(), a); }
  static I zero_unless(M m, I a) { return _mm512_maskz_mov_epi32(m, a); }
  static I min(I a, I b) { return _mm512_maskz_min_epi32(all, a, b); }
  static I max(I a, I b) { return _mm512_maskz_max_epi32(all, a, b); }
  static M lt(I a, I b) { return _mm512_cmplt_epi32_mask(a, b); }
  static M ult(I a, I b) { return _mm512_cmplt_epu32_mask(a, b); }
  static M eq(I a, I b) { return _mm512_cmpeq_epi32_mask(a, b); }
  static M even(I a) { return _mm512_testn_epi32_mask(a, _mm512_set1_epi32(1)); }
  /// floor(a) as int32 (a integral or not; |a| < 2^31), one conversion with an embedded rounding.
  static I floor_to_int(F a) { return _mm512_maskz_cvt_roundps_epi32(all, a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static I shift_right_arith(I a, unsigned n) { return _mm512_maskz_srai_epi32(all, a, n); }
  static I bit_and(I a, I b) { return _mm512_and_epi32(a, b); }
  /// The shuffle_bytes table that leaves byte k of each 32-bit lane, zero extended.
  static I byte_table(int k) {
    const auto t = [k](int d) { return static_cast<int>(0x80808000u | static_cast<unsigned>(4 * d + k)); };
    return _mm512_set4_epi32(t(3), t(2), t(1), t(0));
  }
  /// Bytes of a picked by a table, per 128-bit lane (vpshufb; table byte 0x80: zero).
  static I shuffle_bytes(I a, I table) { return _mm512_shuffle_epi8(a, table); }
  /// Bit 4 j set when the low byte of lane j is 0xFF (and no other bits).
  static std::uint64_t low_byte_ff(I a) {
    return _mm512_mask_cmpeq_epi8_mask(0x1111111111111111ull, a, _mm512_set1_epi8(-1));
  }
  static std::uint32_t mask_bits(M m) { return m; }  // bit j: lane j
  static M mask_or(M a, M b) { return static_cast<M>(a | b); }
  static M mask_and(M a, M b) { return static_cast<M>(a & b); }
  static M mask_andnot(M a, M b) { return static_cast<M>(~a & b); }  // !a && b

  /// Stores 16 int32 codes as Out (an integer type whose range holds every code).
  template <class Out>
  static void store_codes(Out* p, I c) {
    static_assert(std::is_integral_v<Out>);
    if constexpr (sizeof(Out) == 1)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_maskz_cvtepi32_epi8(all, c));
    else if constexpr (sizeof(Out) == 2)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_maskz_cvtepi32_epi16(all, c));
    else if constexpr (sizeof(Out) == 4)
      _mm512_storeu_si512(p, c);
    else {
      // through memory: _mm512_castsi512_si256 trips GCC bug 105593 as well
      alignas(64) std::int32_t codes[16];
      _mm512_store_si512(codes, c);
      _mm512_storeu_si512(p, _mm512_maskz_cvtepi32_epi64(0xFF, _mm256_load_si256(reinterpret_cast<const __m256i*>(codes))));
      _mm512_storeu_si512(p + 8, _mm512_maskz_cvtepi32_epi64(0xFF, _mm256_load_si256(reinterpret_cast<const __m256i*>(codes + 8))));
    }
  }

  // ---- Philox4x32-10 (core/random.hpp), eight blocks per pair of vectors.
  // A 64-bit lane of vector A holds {c0, c1} of one block, the same lane of B its
  // {c2, c3}. vpmuludq multiplies the low halves: A * M0 = {lo0, hi0} and
  // B * M1 = {lo1, hi1} per lane. A round maps {c0, c1, c2, c3} to
  // {hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0}: a masked three-way XOR into the
  // high halves of the products ({lo1, hi1 ^ c1 ^ k0}) and a 32-bit rotation of
  // each 64-bit lane. Three instructions per 16 words and round (one multiply).
  // The lanes hold blocks 0 4 1 5 2 6 3 7 of the pair, so that unpacking the low
  // and high 64-bit lanes of A and B gives blocks 0-3 and 4-7 with their words in
  // memory order: the random words of 32 consecutive element indices.
  struct PhiloxKeys {
    I mult0, mult1;
    std::uint32_t k0[philox::rounds], k1[philox::rounds];
    explicit PhiloxKeys(std::uint64_t seed) {
      const philox::Key key = philox::key_of(seed);
      mult0 = _mm512_set1_epi64(philox::M0);
      mult1 = _mm512_set1_epi64(philox::M1);
      for (int r = 0; r < philox::rounds; ++r) {
        k0[r] = key[0] + static_cast<std::uint32_t>(r) * philox::W0;
        k1[r] = key[1] + static_cast<std::uint32_t>(r) * philox::W1;
      }
    }
  };
  /// Round r on eight blocks: a = {c0, c1}, b = {c2, c3} per 64-bit lane.
  static void philox_round(const PhiloxKeys& k, int r, I& a, I& b) {
    constexpr __mmask16 high = 0xAAAA;
    const I p0 = _mm512_maskz_mul_epu32(0xFF, a, k.mult0);  // {lo0, hi0}
    const I p1 = _mm512_maskz_mul_epu32(0xFF, b, k.mult1);  // {lo1, hi1}
    a = _mm512_maskz_ror_epi64(0xFF, _mm512_mask_ternarylogic_epi32(p1, high, a, _mm512_set1_epi32(static_cast<int>(k.k0[r])), 0x96), 32);
    b = _mm512_maskz_ror_epi64(0xFF, _mm512_mask_ternarylogic_epi32(p0, high, b, _mm512_set1_epi32(static_cast<int>(k.k1[r])), 0x96), 32);
  }
  /// out[v] = the 16 words of blocks first_block + 4 v ... + 3 of a stream, for
  /// v < N (N vectors computed together: a round is a dependent multiply-XOR-rotate
  /// chain, so independent vectors hide its latency). An odd N computes one
  /// vector more than it returns.
  template <int N>
  static void philox(const PhiloxKeys& k, std::uint64_t first_block, I* out, std::uint32_t stream = 0) {
    constexpr int pairs = (N + 1) / 2;
    const __m512i order = _mm512_set_epi64(7, 3, 6, 2, 5, 1, 4, 0);
    I a[pairs], b[pairs];
    for (int p = 0; p < pairs; ++p) {
      a[p] = _mm512_maskz_add_epi64(0xFF, _mm512_set1_epi64(static_cast<long long>(first_block + 8 * static_cast<unsigned>(p))), order);
      b[p] = _mm512_set1_epi64(stream);  // {c2, c3} = {stream, 0}
    }
    for (int r = 0; r < philox::rounds; ++r)
      for (int p = 0; p < pairs; ++p) philox_round(k, r, a[p], b[p]);
    for (int p = 0; p < pairs; ++p) {
      out[2 * p] = _mm512_maskz_unpacklo_epi64(0xFF, a[p], b[p]);
      if (2 * p + 1 < N) out[2 * p + 1] = _mm512_maskz_unpackhi_epi64(0xFF, a[p], b[p]);
    }
  }
  /// Lane j: random_byte(seed, g[j], stream) for 16 arbitrary element indices g
  /// (core/random.hpp), all in registers: the blocks of two vector pairs in flight,
  /// then each lane's word and byte picked by a variable shift.
  static I philox_bytes_at(const PhiloxKeys& k, const std::uint64_t* g, std::uint32_t stream) {
    const I three = _mm512_set1_epi64(3);
    const I g0 = _mm512_loadu_si512(g), g1 = _mm512_loadu_si512(g + 8);
    // philox::byte_position: block 4 (g / 64) + (g mod 16) / 4, word g mod 4, shift 8 ((g / 16) mod 4)
    const auto block = [&](I x) {
      return _mm512_add_epi64(_mm512_maskz_slli_epi64(0xFF, _mm512_maskz_srli_epi64(0xFF, x, 6), 2), _mm512_and_si512(_mm512_maskz_srli_epi64(0xFF, x, 2), three));
    };
    I a0 = block(g0), a1 = block(g1);
    I b0 = _mm512_set1_epi64(stream), b1 = b0;
    for (int r = 0; r < philox::rounds; ++r) {
      philox_round(k, r, a0, b0);
      philox_round(k, r, a1, b1);
    }
    // words 0, 1 are the low and high halves of a's lane, words 2, 3 those of b's
    const auto pick = [&](I x, I a, I b) {
      const I word = _mm512_mask_mov_epi64(a, _mm512_test_epi64_mask(x, _mm512_set1_epi64(2)), b);
      const I shift = _mm512_add_epi64(_mm512_maskz_slli_epi64(0xFF, _mm512_and_si512(x, _mm512_set1_epi64(1)), 5),
                                       _mm512_maskz_slli_epi64(0xFF, _mm512_and_si512(_mm512_maskz_srli_epi64(0xFF, x, 4), three), 3));
      return _mm512_maskz_srlv_epi64(0xFF, word, shift);
    };
    const I low_dwords = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_and_si512(_mm512_permutex2var_epi32(pick(g0, a0, b0), low_dwords, pick(g1, a1, b1)), _mm512_set1_epi32(0xFF));
  }
  static void store(std::uint32_t* p, I a) { _mm512_storeu_si512(p, a); }
};

}  // namespace fixq::simd

#endif  // AVX-512 F/BW/DQ/VL
#endif  // FIXQ_SIMD_VEC_AVX512_HPP

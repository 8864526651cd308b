// fixq/simd/vec_avx512.hpp - the AVX-512 vector operations fixq's kernels are written in.
//
// A thin layer over the intrinsics, in the spirit of gemmlowp's fixedpoint_*.h and
// Eigen's packet math: the algorithms (simd/quantize_f32.hpp, simd/random_fill.hpp) are
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

#include <fixq/random/stream.hpp>
#include <fixq/simd/ars_aesni.hpp>

namespace fixq::detail::simd {

struct Avx512 {
  static constexpr const char* name = "AVX-512";
  static constexpr int lanes = 16;           // float / 32-bit lanes per vector
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
  static std::uint32_t mask_bits(M m) { return m; }  // bit j: lane j
  static M mask_or(M a, M b) { return static_cast<M>(a | b); }
  static M mask_and(M a, M b) { return static_cast<M>(a & b); }
  static M mask_andnot(M a, M b) { return static_cast<M>(~a & b); }  // !a && b
  static M mask_xor(M a, M b) { return static_cast<M>(a ^ b); }
  static M mask_not(M a) { return static_cast<M>(~a); }
  static M mask_all() { return static_cast<M>(0xFFFF); }
  static M mask_none() { return 0; }

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

  // ---- ARS-7 (random/ars.hpp), four blocks per vector (VAES; with AES-NI only,
  // four AESENC per vector and round).
#if defined(FIXQ_ARS_HAVE_AESNI)
  static constexpr bool has_ars = true;
#else
  static constexpr bool has_ars = false;  // no AES instructions: kernels use their other paths
#endif
  static constexpr int ars_in_flight = 8;  // independent vectors per call (hides the round latency)
  struct ArsKeys {
    __m128i round_key[ars::rounds + 1];
#if defined(__VAES__) && defined(FIXQ_ARS_HAVE_AESNI)
    I round_key4[ars::rounds + 1];  // each broadcast to the four 128-bit lanes
#endif
    explicit ArsKeys(std::uint64_t seed) {
#if defined(FIXQ_ARS_HAVE_AESNI)
      ars_round_keys(seed, round_key);
#if defined(__VAES__)
      for (int r = 0; r <= ars::rounds; ++r) round_key4[r] = _mm512_maskz_broadcast_i32x4(all, round_key[r]);
#endif
#else
      (void)seed;
#endif
    }
  };
#if defined(__VAES__) && defined(FIXQ_ARS_HAVE_AESNI)
  /// ars<N> in stages, to interleave with other work: ars_start makes the counters
  /// and adds the first key, ars_stage(s) for s = 1 .. rounds does round s.
  static constexpr bool has_ars_stages = true;
  template <int N>
  [[gnu::always_inline]] static inline void ars_start(const ArsKeys& k, std::uint64_t first_block, I* v, std::uint32_t stream) {
    const I lanes4 = _mm512_set_epi64(stream, 3, stream, 2, stream, 1, stream, 0);
    for (int j = 0; j < N; ++j)
      v[j] = _mm512_xor_si512(
          _mm512_add_epi64(lanes4, _mm512_maskz_set1_epi64(0x55, static_cast<long long>(first_block + 4 * static_cast<unsigned>(j)))),
          k.round_key4[0]);
  }
  template <int N>
  [[gnu::always_inline]] static inline void ars_stage(const ArsKeys& k, int s, I* v) {
    if (s < ars::rounds)
      for (int j = 0; j < N; ++j) v[j] = _mm512_aesenc_epi128(v[j], k.round_key4[s]);
    else
      for (int j = 0; j < N; ++j) v[j] = _mm512_aesenclast_epi128(v[j], k.round_key4[s]);
  }
#else
  static constexpr bool has_ars_stages = false;
#endif
  /// out[j] = blocks first_block + 4 j + l (128-bit lane l) of a stream, j < N:
  /// the top (stream 0) or bottom (stream 1) halfwords of the random words of the
  /// 32 elements 8 (first_block + 4 j) ... in memory order.
  template <int N>
  [[gnu::always_inline]] static inline void ars(const ArsKeys& k, std::uint64_t first_block, I* out, std::uint32_t stream) {
#if defined(__VAES__) && defined(FIXQ_ARS_HAVE_AESNI)
    ars_start<N>(k, first_block, out, stream);
    for (int r = 1; r <= ars::rounds; ++r) ars_stage<N>(k, r, out);
#elif defined(FIXQ_ARS_HAVE_AESNI)
    __m128i b[4 * N];
    ars_blocks_aesni<4 * N>(k.round_key, first_block, stream, b);
    for (int j = 0; j < N; ++j)
      out[j] = _mm512_maskz_inserti32x4(all, _mm512_maskz_inserti32x4(all, _mm512_maskz_inserti32x4(all, _mm512_zextsi128_si512(b[4 * j]), b[4 * j + 1], 1),
                                                                  b[4 * j + 2], 2),
                                        b[4 * j + 3], 3);
#else
    (void)k, (void)first_block, (void)out, (void)stream;
#endif
  }
  /// The halfwords 0-15 (lo) and 16-31 (hi) of a vector, zero extended to 32 bits.
  static I halves_lo(I w) { return _mm512_maskz_cvtepu16_epi32(all, _mm512_maskz_extracti64x4_epi64(0xF, w, 0)); }
  static I halves_hi(I w) { return _mm512_maskz_cvtepu16_epi32(all, _mm512_maskz_extracti64x4_epi64(0xF, w, 1)); }
  static I max_u16(I a, I b) { return _mm512_max_epu16(a, b); }
  /// Whether the low halfword of some 32-bit lane is 0xFFFF.
  static bool any_low_half_ffff(I a) { return _mm512_mask_cmpeq_epi16_mask(0x55555555u, a, _mm512_set1_epi16(-1)) != 0; }
  static I shift_left(I a, unsigned n) { return _mm512_maskz_slli_epi32(all, a, n); }
  static I bit_or(I a, I b) { return _mm512_or_si512(a, b); }
  static void store(std::uint32_t* p, I a) { _mm512_storeu_si512(p, a); }
};

}  // namespace fixq::detail::simd

#endif  // AVX-512 F/BW/DQ/VL
#endif  // FIXQ_SIMD_VEC_AVX512_HPP

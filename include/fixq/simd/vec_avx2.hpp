// fixq/simd/vec_avx2.hpp - the AVX2 vector operations fixq's kernels are written in.
//
// The same vocabulary as vec_avx512.hpp (see there) for 8 lanes. AVX2 has no mask
// registers: a mask M is a vector whose lanes are all ones (true) or all zeros.
// Rounding uses immediate modes (vroundps), so nothing depends on MXCSR.
#ifndef FIXQ_SIMD_VEC_AVX2_HPP
#define FIXQ_SIMD_VEC_AVX2_HPP

#if defined(__AVX2__)
#define FIXQ_SIMD_HAVE_AVX2 1

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <fixq/random/stream.hpp>
#include <fixq/simd/ars_aesni.hpp>

namespace fixq::detail::simd {

struct Avx2 {
  static constexpr const char* name = "AVX2";
  static constexpr int lanes = 8;
  using F = __m256;
  using I = __m256i;
  using M = __m256i;

  // ---- float lanes
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static constexpr bool has_add_nearest = false;  // no embedded rounding: vaddps obeys MXCSR
  static F min(F a, F b) { return _mm256_min_ps(a, b); }  // b if either is NaN
  static F max(F a, F b) { return _mm256_max_ps(a, b); }  // b if either is NaN
  static F abs(F a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
  template <int Mode>
  static F round(F a) { return _mm256_round_ps(a, Mode | _MM_FROUND_NO_EXC); }
  static M ordered(F a) { return _mm256_castps_si256(_mm256_cmp_ps(a, a, _CMP_ORD_Q)); }
  static M lt(F a, F b) { return _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_LT_OQ)); }
  static M gt(F a, F b) { return _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_GT_OQ)); }
  static M ge(F a, F b) { return _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_GE_OQ)); }
  static M eq(F a, F b) { return _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_EQ_OQ)); }
  static I to_int(F integral) { return _mm256_cvtps_epi32(integral); }  // exact: integral, in range
  /// uint32 of an integral float in [0, 2^32): values >= 2^31 lose 2^31 exactly
  /// (Sterbenz) before the signed conversion and get it back as the top bit.
  static I to_uint(F integral) {
    const F two31 = _mm256_set1_ps(0x1p31f);
    const __m256 big = _mm256_cmp_ps(integral, two31, _CMP_GE_OQ);
    const I low = _mm256_cvtps_epi32(_mm256_sub_ps(integral, _mm256_and_ps(big, two31)));
    return _mm256_xor_si256(low, _mm256_slli_epi32(_mm256_castps_si256(big), 31));
  }
  /// float of an int32 with |a| <= 2^24 (exact; callers guarantee the range).
  static F to_float(I a) { return _mm256_cvtepi32_ps(a); }
  static void store(float* p, F a) { _mm256_storeu_ps(p, a); }

  // ---- 32-bit integer lanes
  static I load(const std::uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static I set1(std::int32_t v) { return _mm256_set1_epi32(v); }
  static I zero() { return _mm256_setzero_si256(); }
  static I add(I a, I b) { return _mm256_add_epi32(a, b); }
  static I add_if(M m, I a, I b) { return _mm256_add_epi32(a, _mm256_and_si256(m, b)); }
  static I sub_if(M m, I a, I b) { return _mm256_sub_epi32(a, _mm256_and_si256(m, b)); }
  static I negate_if(M m, I a) { return _mm256_sub_epi32(_mm256_xor_si256(a, m), m); }  // m = -1: ~a + 1
  static I zero_unless(M m, I a) { return _mm256_and_si256(m, a); }
  static I min(I a, I b) { return _mm256_min_epi32(a, b); }
  static I max(I a, I b) { return _mm256_max_epi32(a, b); }
  static M lt(I a, I b) { return _mm256_cmpgt_epi32(b, a); }
  static M ult(I a, I b) {
    const I flip = _mm256_set1_epi32(static_cast<int>(0x80000000u));
    return _mm256_cmpgt_epi32(_mm256_xor_si256(b, flip), _mm256_xor_si256(a, flip));
  }
  static M eq(I a, I b) { return _mm256_cmpeq_epi32(a, b); }
  static M even(I a) { return _mm256_cmpeq_epi32(_mm256_and_si256(a, _mm256_set1_epi32(1)), _mm256_setzero_si256()); }
  /// floor(a) as int32 (|a| < 2^31).
  static I floor_to_int(F a) { return _mm256_cvtps_epi32(_mm256_round_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)); }
  static I shift_right_arith(I a, unsigned n) { return _mm256_srai_epi32(a, static_cast<int>(n)); }
  static I bit_and(I a, I b) { return _mm256_and_si256(a, b); }
  static std::uint32_t mask_bits(M m) { return static_cast<std::uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(m))); }  // bit j: lane j
  static M mask_or(M a, M b) { return _mm256_or_si256(a, b); }
  static M mask_and(M a, M b) { return _mm256_and_si256(a, b); }
  static M mask_andnot(M a, M b) { return _mm256_andnot_si256(a, b); }  // !a && b
  static M mask_xor(M a, M b) { return _mm256_xor_si256(a, b); }
  static M mask_not(M a) { return _mm256_xor_si256(a, _mm256_set1_epi32(-1)); }
  static M mask_all() { return _mm256_set1_epi32(-1); }
  static M mask_none() { return _mm256_setzero_si256(); }

  /// Stores 8 int32 codes as Out (an integer type whose range holds every code).
  template <class Out>
  static void store_codes(Out* p, I c) {
    static_assert(std::is_integral_v<Out>);
    if constexpr (sizeof(Out) == 1) {
      // the low byte of each dword, gathered in dwords 0 and 4, then joined
      const I bytes = _mm256_shuffle_epi8(c, _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                              0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
      const I joined = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(joined));
    } else if constexpr (sizeof(Out) == 2) {
      const I halves = _mm256_shuffle_epi8(c, _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1,
                                                               0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1));
      const I joined = _mm256_permute4x64_epi64(halves, 0x08);  // qwords 0, 2
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(joined));
    } else if constexpr (sizeof(Out) == 4) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), c);
    } else {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_cvtepi32_epi64(_mm256_castsi256_si128(c)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 4), _mm256_cvtepi32_epi64(_mm256_extracti128_si256(c, 1)));
    }
  }

  // ---- ARS-7 (random/ars.hpp), two blocks per vector (as in vec_avx512.hpp):
  // VAES on ymm when the target has it, else two AESENC per vector and round.
#if defined(FIXQ_ARS_HAVE_AESNI)
  static constexpr bool has_ars = true;
#else
  static constexpr bool has_ars = false;  // no AES instructions: kernels use their other paths
#endif
  static constexpr int ars_in_flight = 8;
  static constexpr bool has_ars_stages = false;  // (the AVX-512 kernel interleaves; here ars<N> runs whole)
  struct ArsKeys {
    __m128i round_key[ars::rounds + 1];
#if defined(__VAES__) && defined(FIXQ_ARS_HAVE_AESNI)
    I round_key2[ars::rounds + 1];  // each broadcast to both 128-bit lanes
#endif
    explicit ArsKeys(std::uint64_t seed) {
#if defined(FIXQ_ARS_HAVE_AESNI)
      ars_round_keys(seed, round_key);
#if defined(__VAES__)
      for (int r = 0; r <= ars::rounds; ++r) round_key2[r] = _mm256_broadcastsi128_si256(round_key[r]);
#endif
#else
      (void)seed;
#endif
    }
  };
  /// out[j] = blocks first_block + 2 j + l (128-bit lane l) of a stream, j < N:
  /// the halfwords of the 16 elements 8 (first_block + 2 j) ... in memory order.
  template <int N>
  [[gnu::always_inline]] static inline void ars(const ArsKeys& k, std::uint64_t first_block, I* out, std::uint32_t stream) {
#if defined(__VAES__) && defined(FIXQ_ARS_HAVE_AESNI)
    const I* rk = k.round_key2;
    const I lanes2 = _mm256_set_epi64x(stream, 1, stream, 0);
    I v[N];
    for (int j = 0; j < N; ++j)
      v[j] = _mm256_xor_si256(_mm256_add_epi64(lanes2, _mm256_set_epi64x(0, static_cast<long long>(first_block + 2 * static_cast<unsigned>(j)), 0,
                                                                          static_cast<long long>(first_block + 2 * static_cast<unsigned>(j)))),
                              rk[0]);
    for (int r = 1; r < ars::rounds; ++r)
      for (int j = 0; j < N; ++j) v[j] = _mm256_aesenc_epi128(v[j], rk[r]);
    for (int j = 0; j < N; ++j) out[j] = _mm256_aesenclast_epi128(v[j], rk[ars::rounds]);
#elif defined(FIXQ_ARS_HAVE_AESNI)
    __m128i b[2 * N];
    ars_blocks_aesni<2 * N>(k.round_key, first_block, stream, b);
    for (int j = 0; j < N; ++j) out[j] = _mm256_set_m128i(b[2 * j + 1], b[2 * j]);
#else
    (void)k, (void)first_block, (void)out, (void)stream;
#endif
  }
  /// The halfwords 0-7 (lo) and 8-15 (hi) of a vector, zero extended to 32 bits.
  static I halves_lo(I w) { return _mm256_cvtepu16_epi32(_mm256_castsi256_si128(w)); }
  static I halves_hi(I w) { return _mm256_cvtepu16_epi32(_mm256_extracti128_si256(w, 1)); }
  static I max_u16(I a, I b) { return _mm256_max_epu16(a, b); }
  /// Whether the low halfword of some 32-bit lane is 0xFFFF.
  static bool any_low_half_ffff(I a) {
    return (_mm256_movemask_epi8(_mm256_cmpeq_epi16(a, _mm256_set1_epi16(-1))) & 0x33333333) != 0;
  }
  static I shift_left(I a, unsigned n) { return _mm256_slli_epi32(a, static_cast<int>(n)); }
  static I bit_or(I a, I b) { return _mm256_or_si256(a, b); }
  static void store(std::uint32_t* p, I a) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), a); }
};

}  // namespace fixq::detail::simd

#endif  // __AVX2__
#endif  // FIXQ_SIMD_VEC_AVX2_HPP

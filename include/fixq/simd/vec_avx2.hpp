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

#include <fixq/core/random.hpp>

namespace fixq::simd {

struct Avx2 {
  static constexpr const char* name = "AVX2";
  static constexpr int lanes = 8;
  static constexpr int philox_in_flight = 4;  // 16 ymm registers: keep the state in registers
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
  /// The shuffle_bytes table that leaves byte k of each 32-bit lane, zero extended.
  static I byte_table(int k) {
    const auto t = [k](int d) { return static_cast<int>(0x80808000u | static_cast<unsigned>(4 * d + k)); };
    return _mm256_setr_epi32(t(0), t(1), t(2), t(3), t(0), t(1), t(2), t(3));
  }
  /// Bytes of a picked by a table, per 128-bit lane (vpshufb; table byte 0x80: zero).
  static I shuffle_bytes(I a, I table) { return _mm256_shuffle_epi8(a, table); }
  /// Bit 4 j set when the low byte of lane j is 0xFF (and no other bits).
  static std::uint64_t low_byte_ff(I a) {
    const int m = _mm256_movemask_epi8(_mm256_cmpeq_epi8(a, _mm256_set1_epi8(-1)));
    return static_cast<std::uint32_t>(m) & 0x11111111u;
  }
  static std::uint32_t mask_bits(M m) { return static_cast<std::uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(m))); }  // bit j: lane j
  static M mask_or(M a, M b) { return _mm256_or_si256(a, b); }
  static M mask_and(M a, M b) { return _mm256_and_si256(a, b); }
  static M mask_andnot(M a, M b) { return _mm256_andnot_si256(a, b); }  // !a && b

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

  // ---- Philox4x32-10, two blocks per vector (layout as in vec_avx512.hpp).
  struct PhiloxKeys {
    I mult;
    I round_key[philox::rounds];
    explicit PhiloxKeys(std::uint64_t seed) {
      const philox::Key key = philox::key_of(seed);
      mult = _mm256_setr_epi32(static_cast<int>(philox::M0), 0, static_cast<int>(philox::M1), 0,
                               static_cast<int>(philox::M0), 0, static_cast<int>(philox::M1), 0);
      for (int r = 0; r < philox::rounds; ++r) {
        const int k0 = static_cast<int>(key[0] + static_cast<std::uint32_t>(r) * philox::W0);
        const int k1 = static_cast<int>(key[1] + static_cast<std::uint32_t>(r) * philox::W1);
        round_key[r] = _mm256_setr_epi32(k0, 0, k1, 0, k0, 0, k1, 0);
      }
    }
  };
  /// Round r on two blocks, one per 128-bit lane {c0, c1, c2, c3}.
  static void philox_round(const PhiloxKeys& k, int r, I& s) {
    const __m256i swapped = _mm256_shuffle_epi32(_mm256_mul_epu32(s, k.mult), 0x1B);  // {hi1, lo1, hi0, lo0}
    const __m256i odd = _mm256_srli_epi64(s, 32);                                      // {c1, 0, c3, 0}
    s = _mm256_xor_si256(_mm256_xor_si256(swapped, odd), k.round_key[r]);
  }
  /// out[v] = the 8 words of blocks first_block + 2 v, + 1 of a stream, v < N.
  template <int N>
  static void philox(const PhiloxKeys& k, std::uint64_t first_block, I* out, std::uint32_t stream = 0) {
    I s[N];
    for (int v = 0; v < N; ++v) {
      const std::uint64_t b = first_block + 2 * static_cast<unsigned>(v);
      s[v] = _mm256_setr_epi64x(static_cast<long long>(b), stream, static_cast<long long>(b + 1), stream);
    }
    for (int r = 0; r < philox::rounds; ++r)
      for (int v = 0; v < N; ++v) philox_round(k, r, s[v]);
    for (int v = 0; v < N; ++v) out[v] = s[v];
  }
  /// words[j] = the four words of block blocks[j] of a stream, for `lanes` (8) arbitrary block indices.
  static void philox_at(const PhiloxKeys& k, const std::uint64_t* blocks, std::uint32_t stream,
                        std::uint32_t (*words)[4]) {
    I s[4];
    for (int v = 0; v < 4; ++v)
      s[v] = _mm256_setr_epi64x(static_cast<long long>(blocks[2 * v]), stream, static_cast<long long>(blocks[2 * v + 1]), stream);
    for (int r = 0; r < philox::rounds; ++r)
      for (int v = 0; v < 4; ++v) philox_round(k, r, s[v]);
    for (int v = 0; v < 4; ++v) _mm256_storeu_si256(reinterpret_cast<__m256i*>(words[2 * v]), s[v]);
  }
  /// Lane j: random_byte(seed, g[j], stream) for 8 arbitrary element indices g.
  static I philox_bytes_at(const PhiloxKeys& k, const std::uint64_t* g, std::uint32_t stream) {
    philox::BytePosition pos[8];
    std::uint64_t blocks[8];
    for (int j = 0; j < 8; ++j) {
      pos[j] = philox::byte_position(g[j]);
      blocks[j] = pos[j].block;
    }
    std::uint32_t words[8][4];
    philox_at(k, blocks, stream, words);
    alignas(32) std::uint32_t bytes[8];
    for (int j = 0; j < 8; ++j) bytes[j] = (words[j][pos[j].word] >> pos[j].shift) & 0xFFu;
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(bytes));
  }
  static void store(std::uint32_t* p, I a) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), a); }
};

}  // namespace fixq::simd

#endif  // __AVX2__
#endif  // FIXQ_SIMD_VEC_AVX2_HPP

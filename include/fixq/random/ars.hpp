// fixq/random/ars.hpp - ARS-7, the counter-based generator behind stochastic rounding.
//
// ARS-7 (AES Random Stream, Salmon, Moraes, Dror, Shaw: "Parallel random numbers:
// as easy as 1, 2, 3", SC 2011; the ars4x32 generator of Random123, at its default
// 7 rounds): the AES round function (SubBytes, ShiftRows, MixColumns) applied to a
// 128-bit counter, with a Weyl-sequence key schedule in place of AES's. A keyed
// bijection of the counter with no state, so element i of a tensor gets the same
// random word on every machine, thread count, SIMD width and evaluation order.
// x86 computes a round in one instruction (AESENC; VAESENC does four blocks per
// AVX-512 vector), which makes it the cheapest well-studied counter-based
// generator there: a quarter of Philox4x32-10's instructions per random byte with AVX-512
// (bench/RESULTS.md). ARS-5 already passes TestU01's BigCrush (the paper);
// Random123 uses 7 for a safety margin, and so does fixq.
//
// How words are drawn from the blocks (fixq's convention) is in random/stream.hpp.
//
// The block function is checked against Random123's ARS known-answer vectors in
// tests/random/ars.test.cpp. It is constexpr (a table-driven AES round); at run
// time on x86 with AES-NI it uses the instruction (see FIXQ_AES_TARGET below).
#ifndef FIXQ_RANDOM_ARS_HPP
#define FIXQ_RANDOM_ARS_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

// AES-NI: used directly when the target has it (-maes, -march=native ...); on other
// x86-64 targets with GCC or Clang (e.g. plain -march=x86-64, what distributions
// build with), through functions compiled for it and chosen at run time when the
// CPU has it (every x86-64 CPU since 2010 does); else the table-driven round.
#if defined(__SSE2__) && !defined(FIXQ_NO_EXPLICIT_SIMD)
#if defined(__AES__)
#define FIXQ_ARS_HAVE_AESNI 1
#define FIXQ_AES_TARGET
#elif (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define FIXQ_ARS_RUNTIME_AESNI 1
#define FIXQ_AES_TARGET __attribute__((target("aes")))
#endif
#endif
#if defined(FIXQ_ARS_HAVE_AESNI) || defined(FIXQ_ARS_RUNTIME_AESNI)
#include <wmmintrin.h>
#endif

namespace fixq::detail::ars {
inline constexpr int rounds = 7;  // Random123's default for ars4x32
// The key schedule: round r's key is the seed key plus r times these, per 64-bit half.
inline constexpr std::uint64_t weyl_lo = 0x9E3779B97F4A7C15ull;  // golden ratio
inline constexpr std::uint64_t weyl_hi = 0xBB67AE8584CAA73Bull;  // sqrt(3) - 1

using Block = std::array<std::uint32_t, 4>;  // 128 bits, word 0 least significant
using Key = std::array<std::uint32_t, 4>;

namespace impl {
constexpr std::uint8_t xtime(std::uint8_t a) {  // a * x in GF(2^8) mod x^8 + x^4 + x^3 + x + 1
  return static_cast<std::uint8_t>((a << 1) ^ ((a & 0x80u) != 0 ? 0x1Bu : 0u));
}
constexpr std::uint8_t gf_mul(std::uint8_t a, std::uint8_t b) {
  std::uint8_t p = 0;
  for (; b != 0; b = static_cast<std::uint8_t>(b >> 1), a = xtime(a))
    if ((b & 1u) != 0) p = static_cast<std::uint8_t>(p ^ a);
  return p;
}
constexpr std::uint8_t rotl8(std::uint8_t a, int n) { return static_cast<std::uint8_t>((a << n) | (a >> (8 - n))); }
/// The AES S-box (FIPS-197 5.1.1), computed: the inverse in GF(2^8) (a^254), then
/// the affine map.
constexpr std::array<std::uint8_t, 256> make_sbox() {
  std::array<std::uint8_t, 256> s{};
  for (int x = 0; x < 256; ++x) {
    std::uint8_t inv = 1, base = static_cast<std::uint8_t>(x);
    for (int e = 254; e != 0; e >>= 1, base = gf_mul(base, base))
      if ((e & 1) != 0) inv = gf_mul(inv, base);
    if (x == 0) inv = 0;
    s[static_cast<std::size_t>(x)] =
        static_cast<std::uint8_t>(inv ^ rotl8(inv, 1) ^ rotl8(inv, 2) ^ rotl8(inv, 3) ^ rotl8(inv, 4) ^ 0x63u);
  }
  return s;
}
inline constexpr std::array<std::uint8_t, 256> sbox = make_sbox();
/// SubBytes and MixColumns of one byte in row 0 of a column: {2 s, s, s, 3 s}
/// (rows 0-3 in bytes 0-3); rows 1-3 use it rotated by 8, 16, 24 bits.
constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::size_t x = 0; x < 256; ++x) {
    const std::uint32_t v = sbox[x];
    const std::uint32_t v2 = xtime(sbox[x]);
    t[x] = v2 | v << 8 | v << 16 | (v2 ^ v) << 24;
  }
  return t;
}
inline constexpr std::array<std::uint32_t, 256> table = make_table();
constexpr std::uint32_t rotl32(std::uint32_t a, int n) { return (a << n) | (a >> (32 - n)); }
constexpr std::uint32_t byte_of(std::uint32_t w, int r) { return (w >> (8 * r)) & 0xFFu; }

/// One AES encryption round (AESENC) or the last one (AESENCLAST: no MixColumns)
/// on a state whose word c is column c, row r in byte r.
template <bool Last>
constexpr Block aes_round(const Block& a, const Block& k) {
  Block out{};
  for (int c = 0; c < 4; ++c) {
    // ShiftRows: row r of column c comes from column c + r.
    const std::uint32_t b0 = byte_of(a[static_cast<std::size_t>(c)], 0);
    const std::uint32_t b1 = byte_of(a[static_cast<std::size_t>((c + 1) % 4)], 1);
    const std::uint32_t b2 = byte_of(a[static_cast<std::size_t>((c + 2) % 4)], 2);
    const std::uint32_t b3 = byte_of(a[static_cast<std::size_t>((c + 3) % 4)], 3);
    std::uint32_t col;
    if constexpr (Last)
      col = static_cast<std::uint32_t>(sbox[b0]) | static_cast<std::uint32_t>(sbox[b1]) << 8 |
            static_cast<std::uint32_t>(sbox[b2]) << 16 | static_cast<std::uint32_t>(sbox[b3]) << 24;
    else
      col = table[b0] ^ rotl32(table[b1], 8) ^ rotl32(table[b2], 16) ^ rotl32(table[b3], 24);
    out[static_cast<std::size_t>(c)] = col ^ k[static_cast<std::size_t>(c)];
  }
  return out;
}

constexpr Key next_key(const Key& k) {
  const std::uint64_t lo = (static_cast<std::uint64_t>(k[1]) << 32 | k[0]) + weyl_lo;
  const std::uint64_t hi = (static_cast<std::uint64_t>(k[3]) << 32 | k[2]) + weyl_hi;
  return {static_cast<std::uint32_t>(lo), static_cast<std::uint32_t>(lo >> 32), static_cast<std::uint32_t>(hi),
          static_cast<std::uint32_t>(hi >> 32)};
}

#if defined(FIXQ_ARS_HAVE_AESNI) || defined(FIXQ_ARS_RUNTIME_AESNI)
/// Whether block_aesni may run: always with FIXQ_ARS_HAVE_AESNI, else when the CPU has AES-NI.
inline bool aesni_usable() {
#if defined(FIXQ_ARS_HAVE_AESNI)
  return true;
#else
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("aes") != 0;
  }();
  return has;
#endif
}
/// The round keys of ARS-R under key k: k plus r times the Weyl increments (per
/// 64-bit half), r = 0 .. R.
template <int R>
FIXQ_AES_TARGET inline void aesni_round_keys(const Key& k, __m128i* round_key) {
  const __m128i weyl = _mm_set_epi64x(static_cast<long long>(weyl_hi), static_cast<long long>(weyl_lo));
  __m128i key = _mm_set_epi32(static_cast<int>(k[3]), static_cast<int>(k[2]), static_cast<int>(k[1]), static_cast<int>(k[0]));
  for (int r = 0; r <= R; ++r, key = _mm_add_epi64(key, weyl)) round_key[r] = key;
}
/// ARS-R of NB counters, in place (all NB in flight: a round's latency is several
/// cycles, its throughput one or two per cycle).
template <int R, int NB>
FIXQ_AES_TARGET inline void aesni_blocks(const __m128i* round_key, __m128i* v) {
  for (int q = 0; q < NB; ++q) v[q] = _mm_xor_si128(v[q], round_key[0]);
  for (int r = 1; r < R; ++r)
    for (int q = 0; q < NB; ++q) v[q] = _mm_aesenc_si128(v[q], round_key[r]);
  for (int q = 0; q < NB; ++q) v[q] = _mm_aesenclast_si128(v[q], round_key[R]);
}
template <int R>
FIXQ_AES_TARGET inline Block block_aesni(const Block& c, const Key& k) {
  __m128i round_key[R + 1];
  aesni_round_keys<R>(k, round_key);
  __m128i v = _mm_set_epi32(static_cast<int>(c[3]), static_cast<int>(c[2]), static_cast<int>(c[1]), static_cast<int>(c[0]));
  aesni_blocks<R, 1>(round_key, &v);
  alignas(16) std::uint32_t w[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(w), v);
  return {w[0], w[1], w[2], w[3]};
}
#endif
}  // namespace impl

/// One ARS-R block: 128 random bits from (counter, key). R = 7 is fixq's.
template <int R = rounds>
constexpr Block block(Block c, Key k) {
  static_assert(R >= 1 && R <= 10);
#if defined(FIXQ_ARS_HAVE_AESNI) || defined(FIXQ_ARS_RUNTIME_AESNI)
  if (!std::is_constant_evaluated() && impl::aesni_usable()) return impl::block_aesni<R>(c, k);
#endif
  Block v{c[0] ^ k[0], c[1] ^ k[1], c[2] ^ k[2], c[3] ^ k[3]};
  for (int r = 1; r < R; ++r) {
    k = impl::next_key(k);
    v = impl::aes_round<false>(v, k);
  }
  return impl::aes_round<true>(v, impl::next_key(k));
}

constexpr Key key_of(std::uint64_t seed) {
  return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32), 0, 0};
}
constexpr Block counter_of_block(std::uint64_t block_index, std::uint32_t stream) {
  return {static_cast<std::uint32_t>(block_index), static_cast<std::uint32_t>(block_index >> 32), stream, 0};
}
inline constexpr int streams = 2;            // stream 0: the top halfword of every word; 1: the bottom
inline constexpr int halves_per_block = 8;   // elements per block
/// Halfword h (0-7) of a block.
constexpr std::uint32_t halfword(const Block& b, int h) {
  return (b[static_cast<std::size_t>(h / 2)] >> (16 * (h % 2))) & 0xFFFFu;
}
}  // namespace fixq::detail::ars

#endif  // FIXQ_RANDOM_ARS_HPP


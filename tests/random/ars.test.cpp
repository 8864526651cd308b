// ARS-7 and fixq's counter convention (include/fixq/random/).
//
// 1. The AES pieces against FIPS-197, the block function against Random123's
//    ARS known-answer vectors, and the AES-NI path (run time) against the
//    table-driven one (compile time).
// 2. The index convention: random_u32(seed, i) = H(0, i) << 16 | H(1, i), H(s, i)
//    the halfword i mod 8 of the block with counter {lo32(i / 8), hi32(i / 8), s, 0}
//    and key {lo32(seed), hi32(seed), 0, 0}.
// 3. RandomStream(seed, start) replays random_u32(seed, start + k).
// 4. Statistical sanity of consecutive indices, with thresholds whose
//    false-alarm probability is stated, and a self-check that the same
//    statistics reject obviously bad generators (so they have teeth).
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include <fixq/core.hpp>
#include <fixq/random.hpp>

namespace {

using fixq::detail::ars::Block;
using fixq::detail::ars::Key;

// ---------------------------------------------------------------------------
// 1. The S-box entries FIPS-197 quotes (figure 7 and the example of 5.1.1:
//    S(0x53) = 0xED), and the multiplication example of 4.2 ({57} x {13} = {fe}).
static_assert(fixq::detail::ars::impl::sbox[0x00] == 0x63);
static_assert(fixq::detail::ars::impl::sbox[0x01] == 0x7C);
static_assert(fixq::detail::ars::impl::sbox[0x53] == 0xED);
static_assert(fixq::detail::ars::impl::sbox[0xFF] == 0x16);
static_assert(fixq::detail::ars::impl::gf_mul(0x57, 0x13) == 0xFE);

// Known-answer vectors: Random123 examples/kat_vectors, "ars4x32 10" lines
// (counter[4] key[4] -> output[4]); ARS with 10 rounds runs the same round
// function and key schedule as fixq's 7, three rounds longer.
struct Kat {
  Block counter;
  Key key;
  Block expected;
};
constexpr Kat kats[] = {
    {{0x00000001u, 0, 0, 0}, {0, 0, 0x00000001u, 0}, {0x3b6da218u, 0xdead2919u, 0x1881c9f1u, 0x1fbae2fau}},
    {{0x886a3f24u, 0xd308a385u, 0x2e8a1913u, 0x44737003u}, {0, 0, 0x00000001u, 0},
     {0xdba9a18fu, 0x4a8ba058u, 0xd88ade5cu, 0x09d1295fu}},
    {{0xe6212845u, 0x7713d038u, 0xcf6654beu, 0x6c0ce934u}, {0, 0x01000000u, 0, 0},
     {0xfa481e8au, 0x4aee6a4au, 0x3743c22bu, 0x43c29a06u}},
    {{0x00000001u, 0, 0, 0}, {0, 0x80000000u, 0, 0}, {0x35490912u, 0x57d0e7d9u, 0xca875369u, 0x3cfd04f0u}},
    {{0xe6212845u, 0x7713d038u, 0xcf6654beu, 0x6c0ce934u}, {0, 0, 0, 0x80000000u},
     {0xd45af446u, 0x218fe8d8u, 0x47653a38u, 0xa1d863e2u}},
};

// block() is constexpr: the vectors hold at compile time (the table-driven round).
static_assert(fixq::detail::ars::block<10>(kats[0].counter, kats[0].key) == kats[0].expected);
static_assert(fixq::detail::ars::block<10>(kats[2].counter, kats[2].key) == kats[2].expected);
static_assert(fixq::detail::ars::block<10>(kats[4].counter, kats[4].key) == kats[4].expected);

TEST_CASE("ars: Random123 known-answer vectors", "[random]") {
  for (const Kat& k : kats) {
    const Block got = fixq::detail::ars::block<10>(k.counter, k.key);  // AES-NI where the build has it
    for (int w = 0; w < 4; ++w) {
      INFO("kat counter[0] = " << k.counter[0] << ", word " << w);
      CHECK(got[w] == k.expected[w]);
    }
  }
}

// The same blocks at compile time (table-driven AES round) and at run time
// (AESENC when the build targets AES-NI), for random counters and keys.
template <std::size_t N>
constexpr std::array<Block, N> blocks_of(const std::array<std::array<std::uint32_t, 8>, N>& in) {
  std::array<Block, N> out{};
  for (std::size_t q = 0; q < N; ++q)
    out[q] = fixq::detail::ars::block(Block{in[q][0], in[q][1], in[q][2], in[q][3]}, Key{in[q][4], in[q][5], in[q][6], in[q][7]});
  return out;
}
constexpr std::array<std::array<std::uint32_t, 8>, 4> some_inputs = {{
    {0, 0, 0, 0, 0, 0, 0, 0},
    {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
    {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0x082efa98u, 0xec4e6c89u},
    {17, 0, 1, 0, 0xdeadbeefu, 0xcafebabeu, 0, 0},
}};
constexpr auto compile_time_blocks = blocks_of(some_inputs);

TEST_CASE("ars: the run-time block equals the compile-time one", "[random]") {
  const auto run_time = blocks_of(some_inputs);
  for (std::size_t q = 0; q < some_inputs.size(); ++q) CHECK(run_time[q] == compile_time_blocks[q]);
  std::mt19937_64 gen(3);
  for (int t = 0; t < 1000; ++t) {
    const Block c{static_cast<std::uint32_t>(gen()), static_cast<std::uint32_t>(gen()), static_cast<std::uint32_t>(gen()),
                  static_cast<std::uint32_t>(gen())};
    const Key k{static_cast<std::uint32_t>(gen()), static_cast<std::uint32_t>(gen()), static_cast<std::uint32_t>(gen()),
                static_cast<std::uint32_t>(gen())};
    // the portable round, called directly, against block() (AES-NI or the same)
    Block v{c[0] ^ k[0], c[1] ^ k[1], c[2] ^ k[2], c[3] ^ k[3]};
    Key kk = k;
    for (int r = 1; r < fixq::detail::ars::rounds; ++r) {
      kk = fixq::detail::ars::impl::next_key(kk);
      v = fixq::detail::ars::impl::aes_round<false>(v, kk);
    }
    v = fixq::detail::ars::impl::aes_round<true>(v, fixq::detail::ars::impl::next_key(kk));
    REQUIRE(fixq::detail::ars::block(c, k) == v);
  }
}

// ---------------------------------------------------------------------------
// 2. The index convention, written out here independently of the library's
//    key_of / counter_of_block / halfword helpers.
std::uint32_t half(std::uint64_t seed, std::uint64_t i, std::uint32_t s) {
  const std::uint64_t b = i / 8;
  const Key key{static_cast<std::uint32_t>(seed & 0xffffffffu), static_cast<std::uint32_t>(seed >> 32), 0, 0};
  const Block c{static_cast<std::uint32_t>(b & 0xffffffffu), static_cast<std::uint32_t>(b >> 32), s, 0u};
  const Block out = fixq::detail::ars::block(c, key);
  return (out[(i % 8) / 2] >> (16 * (i % 2))) & 0xffffu;
}
std::uint32_t expected_u32(std::uint64_t seed, std::uint64_t i) { return half(seed, i, 0) << 16 | half(seed, i, 1); }

constexpr std::uint64_t seeds[] = {0,
                                   1,
                                   7,
                                   0xffffffffull,
                                   0x100000000ull,  // only the high key word set
                                   0x100000005ull,
                                   0xdeadbeefcafebabeull,
                                   ~0ull};

// Indices around every boundary of the counter words: i/8 crossing 2^32 puts
// bits into counter[1]; the top indices use all of counter[0..1].
std::vector<std::uint64_t> test_indices() {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = 0; i < 40; ++i) v.push_back(i);
  for (std::uint64_t base : {0xffffffffull, 0x7fffffff8ull, 0x800000000ull, 0xffffffff8ull, 0x1000000000ull, 0x10000000003ull,
                             0x8000000000000000ull, 0xfffffffffffffff0ull})
    for (std::uint64_t d = 0; d < 16; ++d) v.push_back(base + d);  // wraps past 2^64 - 1 on purpose
  return v;
}

TEST_CASE("random_u32: top and bottom halfwords from two ARS streams, 8 indices per block", "[random]") {
  for (std::uint64_t seed : seeds)
    for (std::uint64_t i : test_indices()) {
      INFO("seed " << seed << " index " << i);
      REQUIRE(fixq::random_u32(seed, i) == expected_u32(seed, i));
      for (std::uint32_t s = 0; s < 2; ++s)
        REQUIRE(fixq::detail::random_half(seed, i, s) == ((expected_u32(seed, i) >> (16 - 16 * s)) & 0xffffu));
    }
  // The seed's high half matters, and so does the index's high half.
  CHECK(fixq::random_u32(0x100000000ull, 0) != fixq::random_u32(0, 0));
  CHECK(fixq::random_u32(5, 0x800000000ull) != fixq::random_u32(5, 0));
  // Spot value: the top halfword of index 3 under seed 0 is halfword 3 of block
  // 0 of stream 0 under key 0, the first compile-time block above.
  static_assert(fixq::detail::random_half(0, 3, 0) == (compile_time_blocks[0][1] >> 16));
}

// ---------------------------------------------------------------------------
// 3. RandomStream replays random_u32 from any start, including starts that are
//    not multiples of 8 and starts whose index wraps past 2^64 - 1.
TEST_CASE("RandomStream(seed, start) draws random_u32(seed, start + k)", "[random]") {
  const std::uint64_t starts[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1001, 0xfffffffdull, 0x7fffffffeull,
                                  0xfffffffffffffffbull};
  for (std::uint64_t seed : seeds)
    for (std::uint64_t start : starts) {
      fixq::RandomStream s(seed, start);
      CHECK(s.seed() == seed);
      CHECK(s.index() == start);
      for (std::uint64_t k = 0; k < 13; ++k) {
        INFO("seed " << seed << " start " << start << " k " << k);
        const std::uint32_t expected = expected_u32(seed, start + k);
        REQUIRE((k % 2 == 0 ? s.next() : s()) == expected);  // next() and operator() alike
        REQUIRE(s.index() == start + k + 1);
      }
    }
  // There is no default seed; a stream at seed 0 starts at index 0.
  static_assert(!std::is_default_constructible_v<fixq::RandomStream>);
  fixq::RandomStream d(0);
  CHECK(d.seed() == 0);
  CHECK(d.index() == 0);
  CHECK(d.next() == expected_u32(0, 0));
  CHECK((expected_u32(0, 0) >> 16) == (compile_time_blocks[0][0] & 0xffffu));  // block 0 under key 0
}

TEST_CASE("RandomStream: copies continue identically; usable in constant expressions", "[random]") {
  fixq::RandomStream a(42, 6);
  a.next();  // now mid-block, with a cached block
  fixq::RandomStream b = a;
  for (int k = 0; k < 10; ++k) REQUIRE(a.next() == b.next());
  CHECK(a.index() == 17);

  constexpr auto third_draw = [] {
    fixq::RandomStream s(99, 3);
    s.next();
    s.next();
    return s.next();
  }();
  static_assert(third_draw == fixq::random_u32(99, 5));
  CHECK(third_draw == expected_u32(99, 5));
}

// ---------------------------------------------------------------------------
// 4. Statistics. Each function returns true when the sample passes; a sample
//    from an ideal generator fails with the probability stated next to it.
constexpr std::size_t N = std::size_t{1} << 20;

std::vector<std::uint32_t> ars_words(std::uint64_t seed, std::size_t n) {
  std::vector<std::uint32_t> v(n);
  fixq::RandomStream s(seed, 0);
  for (auto& w : v) w = s.next();
  return v;
}

template <class Gen>
std::vector<std::uint32_t> words_of(Gen gen, std::size_t n) {
  std::vector<std::uint32_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = gen(static_cast<std::uint64_t>(i));
  return v;
}

// Chi-square of the top 8 bits (256 cells, 255 degrees of freedom), two-sided:
// P(chi2 > 381.13) = P(chi2 < 159.37) = 0.5e-6 for chi2(255) (computed with
// mpmath's regularized incomplete gamma), so the false-alarm rate is 1e-6.
// The lower tail catches sequences that are too even (e.g. a Weyl sequence).
bool chi_square_top8_ok(const std::vector<std::uint32_t>& v, double* stat = nullptr) {
  std::array<double, 256> count{};
  for (std::uint32_t w : v) count[w >> 24] += 1;
  const double expected = static_cast<double>(v.size()) / 256;
  double chi2 = 0;
  for (double c : count) chi2 += (c - expected) * (c - expected) / expected;
  if (stat) *stat = chi2;
  return chi2 > 159.37 && chi2 < 381.13;
}

// Pearson correlation of u[i] and u[i+1] (as uniforms). For independent draws
// sqrt(n) * r is asymptotically N(0, 1); |r| < 5 / sqrt(n) fails with
// probability 5.7e-7.
double lag1_correlation(const std::vector<std::uint32_t>& v) {
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  const std::size_t n = v.size() - 1;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = v[i] / 4294967296.0 - 0.5, y = v[i + 1] / 4294967296.0 - 0.5;
    sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
  }
  const double dn = static_cast<double>(n);
  const double cov = sxy / dn - (sx / dn) * (sy / dn);
  return cov / std::sqrt((sxx / dn - (sx / dn) * (sx / dn)) * (syy / dn - (sy / dn) * (sy / dn)));
}
bool lag1_ok(const std::vector<std::uint32_t>& v) {
  return std::fabs(lag1_correlation(v)) < 5.0 / std::sqrt(static_cast<double>(v.size() - 1));
}

// Ones per bit position: Binomial(n, 1/2), sd sqrt(n)/2. |ones - n/2| < 6 sd
// fails with probability 2.0e-9 per bit, < 6.4e-8 for all 32 bits.
bool bit_balance_ok(const std::vector<std::uint32_t>& v) {
  std::array<std::size_t, 32> ones{};
  for (std::uint32_t w : v)
    for (int b = 0; b < 32; ++b) ones[b] += (w >> b) & 1u;
  const double n = static_cast<double>(v.size());
  for (int b = 0; b < 32; ++b)
    if (std::fabs(static_cast<double>(ones[b]) - n / 2) >= 6 * std::sqrt(n) / 2) return false;
  return true;
}

// Two streams a, b (same indices, different seeds). Independence means
// popcount(a ^ b) summed over n words is Binomial(32 n, 1/2): |sum - 16 n| <
// 6 sd fails with probability 2.0e-9; and the cross-correlation r of the words
// as uniforms satisfies |r| < 6 / sqrt(n) except with probability 2.0e-9.
bool streams_independent_ok(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
  double hamming = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    hamming += std::popcount(a[i] ^ b[i]);
    const double x = a[i] / 4294967296.0 - 0.5, y = b[i] / 4294967296.0 - 0.5;
    sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
  }
  const double n = static_cast<double>(a.size());
  const double r = (sxy / n - (sx / n) * (sy / n)) /
                   std::sqrt((sxx / n - (sx / n) * (sx / n)) * (syy / n - (sy / n) * (sy / n)));
  const bool hamming_ok = std::fabs(hamming - 16 * n) < 6 * std::sqrt(32 * n) / 2;
  const bool corr_ok = std::fabs(r) < 6 / std::sqrt(n);
  return hamming_ok && corr_ok;
}

TEST_CASE("random_u32: statistics of consecutive indices", "[random][statistics]") {
  // The stream is checked equal to random_u32 above; it is four times cheaper per draw.
  for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{0x123456789abcdefull}}) {
    INFO("seed " << seed);
    const auto v = ars_words(seed, N);
    double chi2 = 0;
    CHECK(chi_square_top8_ok(v, &chi2));
    INFO("chi2 " << chi2);
    CHECK(lag1_ok(v));
    CHECK(bit_balance_ok(v));
  }
}

TEST_CASE("random_u32: seeds one bit apart give unrelated streams", "[random][statistics]") {
  constexpr std::size_t n = std::size_t{1} << 16;
  const std::uint64_t base = 0x0123456789abcdefull;
  const auto a = ars_words(base, n);
  for (int bit : {0, 1, 31, 32, 33, 63}) {
    INFO("seed bit " << bit);
    CHECK(streams_independent_ok(a, ars_words(base ^ (std::uint64_t{1} << bit), n)));
  }
}

// The statistics above must reject bad generators; otherwise passing them
// would mean nothing.
TEST_CASE("statistics self-check: bad generators are rejected", "[random][statistics]") {
  const auto identity = words_of([](std::uint64_t i) { return static_cast<std::uint32_t>(i); }, N);
  const auto weyl = words_of([](std::uint64_t i) { return static_cast<std::uint32_t>(i * 0x9E3779B9u); }, N);
  // One bit stuck at zero in otherwise good words.
  auto stuck = ars_words(3, N);
  for (auto& w : stuck) w &= ~(1u << 17);
  // Good words but each repeated twice: perfect marginals, dependent neighbours.
  auto doubled = ars_words(4, N);
  for (std::size_t i = 1; i < N; i += 2) doubled[i] = doubled[i - 1];

  CHECK_FALSE(chi_square_top8_ok(identity));  // top 8 bits of 0..2^20-1 are all zero
  CHECK_FALSE(chi_square_top8_ok(weyl));      // far too even: chi2 near 0
  CHECK_FALSE(lag1_ok(identity));             // r close to 1
  CHECK_FALSE(lag1_ok(weyl));                 // u[i+1] = u[i] + 0.618 mod 1: r about -0.42
  CHECK_FALSE(lag1_ok(doubled));              // r about 1/2
  CHECK_FALSE(bit_balance_ok(identity));      // bits 20..31 never set
  CHECK_FALSE(bit_balance_ok(stuck));

  // Two "seeded" bad generators whose streams for seeds one bit apart are related.
  constexpr std::size_t n = std::size_t{1} << 16;
  auto xor_seeded = [](std::uint64_t seed) {
    return words_of([seed](std::uint64_t i) { return static_cast<std::uint32_t>((i ^ seed) * 0x9E3779B9u); }, n);
  };
  CHECK_FALSE(streams_independent_ok(xor_seeded(0), xor_seeded(1u << 31)));  // differ in the top bit only
  auto ars_plus_seed = [](std::uint64_t seed) {
    return words_of([seed](std::uint64_t i) { return fixq::random_u32(0, i) + static_cast<std::uint32_t>(seed); }, n);
  };
  CHECK_FALSE(streams_independent_ok(ars_plus_seed(0), ars_plus_seed(1)));

  // ...while the same functions accept ARS (also checked above).
  CHECK(chi_square_top8_ok(ars_words(5, N)));
}

}  // namespace

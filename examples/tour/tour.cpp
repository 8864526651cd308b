// A short tour of fixq: formats, every rounding and overflow mode, exact
// arithmetic, stochastic rounding, and Eigen arrays of Fixed.
// Build and run: bash scripts/demo.sh
#include <Eigen/Core>
#include <cstdio>
#include <iostream>

#include <fixq/fixq.hpp>

using fixq::Fixed;
using fixq::Overflow;
using fixq::Round;

namespace {

// One row of the rounding table: how each mode rounds x into Fixed<8,2>.
template <Round R>
void rounding_row(double x) {
  std::cout << "  " << fixq::to_string(R) << std::string(22 - fixq::to_string(R).size(), ' ');
  for (double v : {x, -x}) {
    if constexpr (R == Round::Stochastic) {
      fixq::RandomStream rng(2026);
      std::cout << Fixed<8, 2, R>(v, rng) << "\t";
    } else {
      std::cout << Fixed<8, 2, R>(v) << "\t";
    }
  }
  std::cout << "\n";
}

// One row of the overflow table: 9.0 and -9.0 into Fixed<8,4> under O.
template <Overflow O>
void overflow_row() {
  std::cout << "  " << fixq::to_string(O) << std::string(18 - fixq::to_string(O).size(), ' ');
  for (double v : {9.0, -9.0}) {
    try {
      std::cout << Fixed<8, 4, Round::NearestEven, O>(v) << "\t";
    } catch (const fixq::overflow_error& e) {
      std::cout << "throws: " << e.what() << "\t";
    }
  }
  std::cout << "\n";
}

}  // namespace

int main() {
  std::cout << "fixq tour\n=========\n\n";

  using Q = Fixed<8, 4>;  // 8-bit word, 4 fraction bits: [-8, 7.9375] in steps of 1/16
  std::cout << Q::format().name() << ": lowest " << Q::lowest() << ", max " << Q::max()
            << ", lsb " << Q::lsb() << "\n";
  const Q a(1.30), b(-0.30);
  std::cout << "Q(1.30) = " << a << " (code " << int(a.raw()) << "), Q(-0.30) = " << b
            << " (code " << int(b.raw()) << ")\n\n";

  std::cout << "Rounding 0.625 and -0.625 (2.5 and -2.5 LSBs of Fixed<8,2>):\n";
  rounding_row<Round::Floor>(0.625);
  rounding_row<Round::Ceil>(0.625);
  rounding_row<Round::TowardZero>(0.625);
  rounding_row<Round::NearestTiesToPosInf>(0.625);
  rounding_row<Round::NearestTiesToNegInf>(0.625);
  rounding_row<Round::NearestAway>(0.625);
  rounding_row<Round::NearestTiesToZero>(0.625);
  rounding_row<Round::NearestEven>(0.625);
  rounding_row<Round::NearestOdd>(0.625);
  rounding_row<Round::Stochastic>(0.625);

  std::cout << "\nOverflow of 9.0 and -9.0 into Fixed<8,4> (range [-8, 7.9375]):\n";
  overflow_row<Overflow::Saturate>();
  overflow_row<Overflow::SaturateSymmetric>();
  overflow_row<Overflow::SaturateZero>();
  overflow_row<Overflow::Wrap>();
  overflow_row<Overflow::Throw>();

  std::cout << "\nExact arithmetic (the result type grows, as in ac_fixed):\n";
  const auto sum = a + b;   // Fixed<9,4>
  const auto prod = a * b;  // Fixed<16,8>
  std::cout << "  a + b = " << sum << "  as " << decltype(sum)::format().name() << "\n";
  std::cout << "  a * b = " << prod << "  as " << decltype(prod)::format().name() << "\n";
  std::cout << "  back to Q (NearestEven, Saturate): " << Q(prod) << "\n";
  std::cout << "  a / b into Fixed<16,8>: " << fixq::divide<Fixed<16, 8>>(a, b) << "\n\n";

  std::cout << "Stochastic rounding of 0.3 into Fixed<8,2> (0.25 or 0.5, P(0.5) = 0.2):\n  ";
  fixq::RandomStream rng(42);
  double mean = 0;
  constexpr int draws = 100000;
  for (int i = 0; i < draws; ++i) mean += Fixed<8, 2, Round::Stochastic>(0.3, rng).to_double();
  std::printf("mean of %d draws = %.5f (exact 0.3)\n\n", draws, mean / draws);

  std::cout << "Eigen arrays of Fixed:\n";
  Eigen::ArrayXf x(6);
  x << -9.0f, -0.03125f, 0.03125f, 0.09375f, 1.3f, 100.0f;
  const Eigen::Array<Q, Eigen::Dynamic, 1> qx = x.cast<Q>();
  std::cout << "  x        = " << x.transpose() << "\n";
  std::cout << "  Q(x)     = " << qx.transpose() << "\n";
  std::cout << "  Q(x)^2   = " << (qx * qx).transpose() << "  (exact, Fixed<16,8>)\n";
  std::cout << "  max |err| = " << (x - qx.cast<float>()).abs().segment(1, 4).maxCoeff()
            << " for the in-range elements (<= lsb/2 = 0.03125)\n\n";

  std::cout << "Array kernels (float in, float out, no Fixed objects):\n";
  Eigen::ArrayXf y(6);
  y = fixq::quantize(x, {.format = {8, 4}});  // written into y's storage
  std::cout << "  quantize(x, {.format = {8, 4}})           = " << y.transpose() << "\n";
  y = fixq::quantize<Fixed<8, 4, Round::Floor, Overflow::Wrap>>(x);
  std::cout << "  quantize<Fixed<8,4,Floor,Wrap>>(x)        = " << y.transpose() << "\n";
  const Eigen::ArrayXf g = Eigen::ArrayXf::Constant(8, 0.3f);
  Eigen::ArrayXf gq(8);
  for (int step = 0; step < 3; ++step) {  // fresh, reproducible noise at every step
    gq = fixq::quantize(g, {.format = {8, 2}, .round = Round::Stochastic, .seed = fixq::derive_seed(2026, step)});
    std::cout << "  0.3 stochastically into Fixed<8,2>, step " << step << " = " << gq.transpose() << "\n";
  }
  std::cout << "  choose_frac(x, {.word = 8}) = " << fixq::choose_frac(x, {.word = 8})
            << " (the largest frac with which nothing saturates)\n";
  return 0;
}

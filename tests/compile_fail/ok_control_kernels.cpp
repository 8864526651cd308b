// The control of the cases above: their valid neighbours compile.
#include <fixq/core.hpp>
#include <fixq/kernels/quantize.hpp>
#include <fixq/random.hpp>

int main() {
  using S = fixq::Fixed<8, 4, fixq::Round::Stochastic>;
  fixq::RandomStream rng(1);
  S x(0.3, rng);                                 // with a generator
  S widened = fixq::Fixed<4, 2>(1.0);            // lossless: no rounding, no generator
  S a;
  a += fixq::Fixed<8, 4, fixq::Round::NearestEven>{};  // compound assignment: same frac, nothing to round
  const fixq::Fixed<8, 4, fixq::Round::Floor, fixq::Overflow::Wrap> f(1.0);
  auto s = f + fixq::Fixed<8, 4, fixq::Round::Floor, fixq::Overflow::Wrap>(fixq::Fixed<8, 4>(1.0));
  fixq::Format fmt{8, 4};
  Eigen::ArrayXf in(4), out(4);
  in.setZero();
  out = fixq::quantize<S>(in, 7);
  out = fixq::quantize(in, {.format = fmt, .round = fixq::Round::Stochastic, .seed = 7});
  (void)x, (void)widened, (void)a, (void)s;
}

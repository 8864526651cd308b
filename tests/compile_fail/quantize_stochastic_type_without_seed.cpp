// quantize<Q> of a Round::Stochastic Q needs a seed: quantize<Q>(x, seed).
// EXPECT: needs a seed
#include <fixq/kernels/quantize.hpp>

int main() {
  Eigen::ArrayXf x(4), y(4);
  x.setZero();
  y = fixq::quantize<fixq::Fixed<8, 4, fixq::Round::Stochastic>>(x);
}

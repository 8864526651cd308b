// quantize() returns an expression with no coefficients to read: reading one
// would read a temporary that dies with the read. Assign it or call .eval().
// EXPECT: no match for call to
#include <fixq/kernels/quantize.hpp>

int main() {
  Eigen::ArrayXf x(4);
  x.setZero();
  const float first = fixq::quantize(x, {.format = {8, 4}})(0);
  (void)first;
}

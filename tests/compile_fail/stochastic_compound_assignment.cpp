// a *= b into a Round::Stochastic type rounds (the product has more fraction
// bits), so it needs a generator: a = A(a * b, rng).
// EXPECT: needs random
#include <fixq/core.hpp>

int main() {
  fixq::Fixed<8, 4, fixq::Round::Stochastic> a;
  a *= fixq::Fixed<8, 4, fixq::Round::Stochastic>{};
}

// A conversion into a Round::Stochastic type that can round needs random words,
// and there is no hidden stream: without a generator it does not compile.
// EXPECT: needs random words
#include <fixq/core.hpp>

int main() {
  fixq::Fixed<8, 4, fixq::Round::Stochastic> x(0.3);
  (void)x;
}

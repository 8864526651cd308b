// A word of 0 bits is rejected.
// EXPECT: Word must be in [1, 64]
#include <fixq/core.hpp>

int main() {
  fixq::Fixed<0, 0> x;
  (void)x;
}

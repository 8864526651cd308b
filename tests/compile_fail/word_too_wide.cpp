// A word of more than 64 bits is rejected where the type is used.
// EXPECT: Word must be in [1, 64]
#include <fixq/core.hpp>

int main() {
  fixq::Fixed<65, 0> x;
  (void)x;
}

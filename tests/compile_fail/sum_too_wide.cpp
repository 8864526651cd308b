// The exact sum of two 64-bit words needs 65 bits.
// EXPECT: the exact result of this arithmetic needs more than 64 bits
#include <fixq/core.hpp>

int main() {
  auto s = fixq::UFixed<64, 0>{} + fixq::UFixed<1, 0>{};
  (void)s;
}

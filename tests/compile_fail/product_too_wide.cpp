// The exact product of a 64-bit and a 2-bit word needs 66 bits.
// EXPECT: the exact result of this arithmetic needs more than 64 bits
#include <fixq/core.hpp>

int main() {
  auto p = fixq::Fixed<64, 0>{} * fixq::Fixed<2, 0>{};
  (void)p;
}

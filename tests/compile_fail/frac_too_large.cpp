// Frac = 1023: the LSB 2^-1023 is not a normal double.
// EXPECT: Frac must be <= 1022
#include <fixq/core.hpp>

int main() {
  fixq::Fixed<8, 1023> x;
  (void)x;
}

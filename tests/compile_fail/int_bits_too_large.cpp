// Word - Frac = 1024: the largest values are not finite doubles.
// EXPECT: Word - Frac must be <= 1023
#include <fixq/core.hpp>

int main() {
  fixq::Fixed<8, -1016> x;
  (void)x;
}

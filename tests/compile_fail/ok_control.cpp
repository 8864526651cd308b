// The control: the nearest valid neighbour of every compile_fail case must
// compile (so a broken include path or flag cannot make the other cases pass).
#include <fixq/core.hpp>

int main() {
  fixq::Fixed<64, 0> widest;
  fixq::Fixed<1, 0> narrowest;
  fixq::Fixed<8, 1022> finest;
  fixq::Fixed<8, -1015> coarsest;  // Word - Frac = 1023
  auto p = fixq::Fixed<62, 0>{} * fixq::Fixed<2, 0>{};      // 64-bit product
  auto s = fixq::UFixed<63, 0>{} + fixq::UFixed<1, 0>{};    // 64-bit sum
  fixq::Fixed<8, 4> narrowed{fixq::Fixed<16, 8>{}};         // explicit: allowed
  fixq::Fixed<16, 8> widened = fixq::Fixed<8, 4>{};         // lossless: implicit
  (void)widest, (void)narrowest, (void)finest, (void)coarsest;
  (void)p, (void)s, (void)narrowed, (void)widened;
}

// Fixed<16,8> -> Fixed<8,4> can lose bits at both ends, so it is explicit only:
// copy-initialization must not find the constructor.
// EXPECT: to non-scalar type
// EXPECT: no viable conversion from
#include <fixq/core.hpp>

int main() {
  fixq::Fixed<8, 4> x = fixq::Fixed<16, 8>{};
  (void)x;
}

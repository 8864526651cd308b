// + - * of operands with different Round or Overflow modes: no result modes are
// right for every design, so the operands must agree (convert one first).
// EXPECT: different Round or Overflow modes
#include <fixq/core.hpp>

int main() {
  const fixq::Fixed<8, 4, fixq::Round::Floor, fixq::Overflow::Wrap> a(1.0);
  const fixq::Fixed<8, 4> b(1.0);
  auto s = a + b;
  (void)s;
}

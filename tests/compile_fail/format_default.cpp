// A Format says what it is: there is no default format.
// EXPECT: no matching function for call to
// EXPECT: no matching constructor
#include <fixq/core.hpp>

int main() {
  fixq::Format f{};
  (void)f;
}

// fixq::io from the consumer's side: its dependencies (nlohmann/json, zlib) come with
// the target. A gzip stream ("fixq", as Python's gzip.compress writes it) inflates.
#include <cstdint>
#include <vector>

#include <fixq/io/cifar10.hpp>
#include <fixq/io/gzip.hpp>
#include <fixq/io/mnist.hpp>

int main() {
  const std::vector<std::uint8_t> z = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x4b, 0xcb,
                                       0xac, 0x28, 0x04, 0x00, 0x38, 0x35, 0xeb, 0xb8, 0x04, 0x00, 0x00, 0x00};
  return fixq::gunzip(z, "fixq.gz") == std::vector<std::uint8_t>{'f', 'i', 'x', 'q'} ? 0 : 1;
}

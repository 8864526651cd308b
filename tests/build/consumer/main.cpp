#include <fixq/fixq.hpp>

int main() { return 0; }

// Catch2's main(), compiled once into fixq_catch_main and linked into every test.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

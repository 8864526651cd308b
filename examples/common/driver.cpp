// The examples' shared driver, compiled once for fixq-mnist and fixq-cifar10.
#include "driver.hpp"

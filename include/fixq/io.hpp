// fixq/io.hpp - model files, .npy arrays, exports for hardware test benches, the
// MNIST and CIFAR-10 data sets, and the file checks and atomic writes they share
// (files.hpp). Needs nlohmann/json and zlib (CMake: link fixq::io); fixq/fixq.hpp
// does not include it.
#ifndef FIXQ_IO_HPP
#define FIXQ_IO_HPP

#include <fixq/io/cifar10.hpp>
#include <fixq/io/code_files.hpp>
#include <fixq/io/dataset.hpp>
#include <fixq/io/export.hpp>
#include <fixq/io/files.hpp>
#include <fixq/io/gzip.hpp>
#include <fixq/io/mnist.hpp>
#include <fixq/io/model_file.hpp>
#include <fixq/io/npy.hpp>
#include <fixq/io/summary.hpp>

#endif  // FIXQ_IO_HPP

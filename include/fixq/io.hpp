// fixq/io.hpp - model files, .npy arrays and exports for hardware test benches.
// Needs nlohmann/json (CMake: link fixq::io); fixq/fixq.hpp does not include it.
#ifndef FIXQ_IO_HPP
#define FIXQ_IO_HPP

#include <fixq/io/code_files.hpp>
#include <fixq/io/export.hpp>
#include <fixq/io/model_file.hpp>
#include <fixq/io/npy.hpp>

#endif  // FIXQ_IO_HPP

// examples/common/task.hpp - what an example program gives the shared driver
// (driver.hpp, compiled once in driver.cpp): its Task, and the entry point.
#ifndef FIXQ_EXAMPLES_TASK_HPP
#define FIXQ_EXAMPLES_TASK_HPP

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <fixq/io/dataset.hpp>
#include <fixq/io/model_file.hpp>
#include <fixq/train/network.hpp>

namespace fixq_examples {

namespace fs = std::filesystem;

/// What an example is about.
struct Task {
  std::string dataset;       ///< "mnist"
  std::string program;       ///< "fixq-mnist"
  std::string data_subdir;   ///< its folder under FIXQ_DATA_DIR
  fs::path bundled_data;     ///< the test set (and a calibration sample) in the repository
  fs::path bundled_model;    ///< the pretrained float model's JSON
  fixq::Preprocess preprocess;
  /// The test or training split from a data folder; throws fixq::file_error.
  std::function<fixq::Dataset(const fs::path& dir, bool train)> load;
  /// The calibration sample bundled in bundled_data.
  std::function<fixq::Dataset(const fs::path& dir)> load_calibration;
  std::function<fixq::train::Network()> network;
  // The training recipe.
  int epochs = 8;
  std::size_t batch = 64;
  double lr = 1e-3, weight_decay = 1e-4;
  int shift = 2;       ///< augmentation: random translation by up to this many pixels
  bool flip = false;   ///< augmentation: random horizontal flips
  std::size_t calibration_images = 1000;
  /// Weight fractions per output channel (else per tensor), as TFLite does for conv weights.
  bool per_channel = false;
  // The targets --check enforces.
  double float_min = 0;                ///< float accuracy at least this
  double int8_within = 0.001;          ///< 8-bit integer-only accuracy at most this below float
  std::optional<double> conv4_min;     ///< 4-bit conv weights, 8-bit elsewhere: at least this
};

/// The program's command line (sweep, train, export) for task t.
int run(const Task& t, int argc, char** argv);

}  // namespace fixq_examples

#endif  // FIXQ_EXAMPLES_TASK_HPP

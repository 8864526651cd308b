// fixq-mnist: MNIST end to end (examples/mnist/README.md). A LeNet-5-class network
// trained by fixq's trainer, swept over word widths and rounding modes as an
// integer-only network checked bit for bit against its simulation, and exported.
#include <filesystem>

#include <fixq/io/mnist.hpp>

#include "../common/task.hpp"
#include "lenet.hpp"

int main(int argc, char** argv) {
  const std::filesystem::path examples = FIXQ_EXAMPLES_DIR;
  fixq_examples::Task t;
  t.dataset = "mnist";
  t.program = "fixq-mnist";
  t.data_subdir = "mnist";
  t.bundled_data = examples / "data" / "mnist";
  t.bundled_model = examples / "mnist" / "model" / "model.json";
  // Pixels p in 0..255 become p / 256: exactly an 8-bit unsigned code with frac 8.
  t.preprocess = {1.0 / 256, 0.0};
  t.load = [](const std::filesystem::path& dir, bool training) {
    return fixq::load_mnist(dir, training ? fixq::MnistSplit::Train : fixq::MnistSplit::Test);
  };
  t.load_calibration = [](const std::filesystem::path& dir) {
    fixq::Dataset d;
    d.images = fixq::read_idx_images(dir / "calibration-images-idx3-ubyte.gz");
    d.labels = fixq::read_idx_labels(dir / "calibration-labels-idx1-ubyte.gz");
    return d;
  };
  t.network = fixq_examples::lenet;
  t.epochs = 8;
  t.batch = 64;
  t.lr = 1e-3;
  t.weight_decay = 1e-4;
  t.shift = 2;
  t.flip = false;
  t.calibration_images = 1000;
  t.float_min = 0.992;
  t.int8_within = 0.001;
  t.conv4_min = 0.990;
  return fixq_examples::run(t, argc, argv);
}

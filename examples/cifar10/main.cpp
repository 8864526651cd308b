// fixq-cifar10: CIFAR-10 end to end (examples/cifar10/README.md). A small CNN of
// the cifar10_quick class with batch normalization, trained by fixq's trainer,
// swept over word widths and rounding modes as an integer-only network checked
// bit for bit against its simulation, and exported.
#include <filesystem>

#include <fixq/io/cifar10.hpp>
#include <fixq/train.hpp>

#include "../common/task.hpp"

int main(int argc, char** argv) {
  namespace train = fixq::train;
  const std::filesystem::path examples = FIXQ_EXAMPLES_DIR;
  fixq_examples::Task t;
  t.dataset = "cifar10";
  t.program = "fixq-cifar10";
  t.data_subdir = "cifar-10-batches-bin";
  t.bundled_data = examples / "data" / "cifar10";
  t.bundled_model = examples / "cifar10" / "model" / "model.json";
  // Pixels p in 0..255 (R, G, B) become p / 256 - 1/2: exactly an 8-bit signed code with frac 8.
  t.preprocess = {1.0 / 256, -0.5};
  t.load = [](const std::filesystem::path& dir, bool training) {
    return fixq::load_cifar10(dir, training ? fixq::Cifar10Split::Train : fixq::Cifar10Split::Test);
  };
  t.load_calibration = [](const std::filesystem::path& dir) {
    return fixq::read_cifar10_batch(dir / "calibration_batch.bin");
  };
  t.network = [] {
    // Caffe's cifar10_quick (conv 32-32-64 of 5 x 5, then 64 and 10 units) with
    // batch normalization after each convolution and 2 x 2 pools.
    const fixq::Window2D same{{5, 5}, {1, 1}, {1, 1}, fixq::Padding::same()};
    train::Network n({32, 32, 3});
    n.add(train::Conv2D("conv1", 32, {5, 5}, same));
    n.add(train::BatchNorm("bn1"));
    n.add(train::ReLU("relu1"));
    n.add(train::MaxPool2D("pool1", {2, 2}));
    n.add(train::Conv2D("conv2", 32, {5, 5}, same));
    n.add(train::BatchNorm("bn2"));
    n.add(train::ReLU("relu2"));
    n.add(train::AvgPool2D("pool2", {2, 2}));
    n.add(train::Conv2D("conv3", 64, {5, 5}, same));
    n.add(train::BatchNorm("bn3"));
    n.add(train::ReLU("relu3"));
    n.add(train::AvgPool2D("pool3", {2, 2}));
    n.add(train::Flatten("flatten"));
    n.add(train::Dense("fc1", 64));
    n.add(train::ReLU("relu4"));
    n.add(train::Dense("fc2", 10));
    return n;
  };
  t.epochs = 40;
  t.batch = 64;
  t.lr = 2e-3;
  t.weight_decay = 5e-4;
  t.shift = 4;
  t.flip = true;
  t.calibration_images = 500;
  t.per_channel = true;  // batch norm scales differ widely between channels
  t.float_min = 0.0;  // reported, not enforced: the bundled data is a 4,660-image subset
  t.int8_within = 0.005;
  return fixq_examples::run(t, argc, argv);
}

// examples/mnist/lenet.hpp - the MNIST example's network: Caffe's LeNet (the network
// of Ristretto's MNIST experiments) with ReLU, 431,080 parameters. Shared by
// fixq-mnist and the training benchmark.
#ifndef FIXQ_EXAMPLES_MNIST_LENET_HPP
#define FIXQ_EXAMPLES_MNIST_LENET_HPP

#include <fixq/train.hpp>

namespace fixq_examples {

inline fixq::train::Network lenet() {
  namespace train = fixq::train;
  train::Network n({28, 28, 1});
  n.add(train::Conv2D("conv1", 20, {5, 5}));
  n.add(train::ReLU("relu1"));
  n.add(train::MaxPool2D("pool1", {2, 2}));
  n.add(train::Conv2D("conv2", 50, {5, 5}));
  n.add(train::ReLU("relu2"));
  n.add(train::MaxPool2D("pool2", {2, 2}));
  n.add(train::Flatten("flatten"));
  n.add(train::Dense("fc1", 500));
  n.add(train::ReLU("relu3"));
  n.add(train::Dense("fc2", 10));
  return n;
}

}  // namespace fixq_examples

#endif  // FIXQ_EXAMPLES_MNIST_LENET_HPP

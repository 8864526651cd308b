// fixq/layers.hpp - every layer: Dense, Conv2D, the pools, ReLU / ReLU6, LeakyReLU,
// Flatten, Add, Concat, BatchNorm, the registry of layer types, and the PyTorch
// layout helpers.
#ifndef FIXQ_LAYERS_HPP
#define FIXQ_LAYERS_HPP

#include <fixq/layers/activation.hpp>
#include <fixq/layers/batch_norm.hpp>
#include <fixq/layers/conv2d.hpp>
#include <fixq/layers/dense.hpp>
#include <fixq/layers/describe.hpp>
#include <fixq/layers/flatten.hpp>
#include <fixq/layers/layer.hpp>
#include <fixq/layers/layout.hpp>
#include <fixq/layers/leaky_relu.hpp>
#include <fixq/layers/merge.hpp>
#include <fixq/layers/ndarray.hpp>
#include <fixq/layers/pool.hpp>
#include <fixq/layers/registry.hpp>
#include <fixq/layers/window.hpp>

#endif  // FIXQ_LAYERS_HPP

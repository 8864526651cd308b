// fixq/train.hpp - a small float trainer for fixq's layers, with quantization
// hooks for fixed-point training: layers with backward passes, softmax
// cross-entropy, SGD and Adam, schedules, augmentation, and the training loop.
#ifndef FIXQ_TRAIN_HPP
#define FIXQ_TRAIN_HPP

#include <fixq/train/activation.hpp>
#include <fixq/train/augment.hpp>
#include <fixq/train/batch_norm.hpp>
#include <fixq/train/iterative.hpp>
#include <fixq/train/layer.hpp>
#include <fixq/train/linear.hpp>
#include <fixq/train/loss.hpp>
#include <fixq/train/network.hpp>
#include <fixq/train/optimizer.hpp>
#include <fixq/train/pool.hpp>
#include <fixq/train/quantizer.hpp>
#include <fixq/train/trainer.hpp>

#endif  // FIXQ_TRAIN_HPP

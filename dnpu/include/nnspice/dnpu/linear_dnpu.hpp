// Single-layer classifier of the seed paper (Ruiz-Euler et al. 2021, MNIST experiment): a bias-free linear
// layer 784 -> 10*field (weights = the memristor crossbar of the mission), whose outputs are voltages on the
// data electrodes of 10 DNPU nodes (field 3: e0, e3, e4 with controls e1, e2, e5, e6; field 7: all seven
// electrodes, no controls); node k's output current (nA) x logit_scale is the logit of class k; cross
// entropy, Adam, L2 weight decay on the linear layer (torch Adam's weight_decay). The NN baseline replaces
// each node by `field` ReLU units with biases and one linear output (same receptive fields).
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <functional>
#include <vector>

#include "nnspice/dnpu/surrogate.hpp"

namespace nnspice::dnpu {

enum class LinearPhase { train, validate, test };

struct LinearDnpuOptions {
  std::size_t field = 3;          ///< linear outputs per node: 3 or 7
  std::size_t classes = 10;
  std::size_t epochs = 80;
  std::size_t batch = 64;
  double learning_rate = 2e-5;
  double weight_decay = 0.1;      ///< on the linear layer only
  double penalty = 1.0;           ///< out-of-range penalty on the control voltages
  bool clamp_controls = true;     ///< project the control voltages onto their ranges after every step
  double logit_scale = 1.0;       ///< logits = output current (nA) x logit_scale
  bool baseline = false;          ///< NN baseline instead of DNPUs
  std::uint64_t seed = 1;
  /// Optional hardware linear layer: outputs (hidden x samples) from the ideal weights W and the inputs x, e.g.
  /// a memristor crossbar with the device model in the loop (nnspice/memristor/hybrid.hpp). Gradients pass
  /// straight through (dL/dW = dL/da x^T). Empty = the ideal W x.
  std::function<Eigen::MatrixXd(const Eigen::MatrixXd& w, const Eigen::MatrixXd& x, LinearPhase phase)> linear_layer;
  /// Checkpoint file, rewritten atomically after every epoch (weights, controls, Adam moments, history, best epoch).
  /// When it exists, training resumes after its last epoch; it must come from the same options, model and data
  /// (the number of epochs may grow). Empty = no checkpoint.
  std::string checkpoint;
  void validate() const;
};

struct EpochRecord {
  double loss = 0, train_accuracy = 0, val_accuracy = 0;
};
/// Called after every epoch (1-based) with its record; also for the epochs restored from a checkpoint.
using EpochFn = std::function<void(std::size_t epoch, const EpochRecord& record, bool resumed)>;

struct LinearDnpuResult {
  std::vector<EpochRecord> history;
  double test_accuracy = 0, best_val_accuracy = 0;
  std::size_t best_epoch = 0;     ///< test accuracy is measured with the weights of the best validation epoch
  double linear_out_abs_p99_V = 0;  ///< 99th percentile of |linear outputs| on the test set (range check)
  Eigen::MatrixXd linear_weights;   ///< the linear layer's weights of the best validation epoch (hidden x n_in)
  double mean_abs_output_nA = 0;    ///< mean |node output current| over the test set and the 10 nodes (DNPU variant)
};

/// x: pixels (n_in x samples) in [-0.5, 0.5]; labels 0..classes-1. `progress(epoch, batch_done, batches)`.
LinearDnpuResult train_linear_dnpu(const SurrogateModel& m, const Eigen::MatrixXd& x_train, const std::vector<int>& y_train,
                                   const Eigen::MatrixXd& x_val, const std::vector<int>& y_val, const Eigen::MatrixXd& x_test,
                                   const std::vector<int>& y_test, const LinearDnpuOptions& o,
                                   const std::function<void(std::size_t, std::size_t, std::size_t)>& progress = {},
                                   const EpochFn& on_epoch = {});

}  // namespace nnspice::dnpu

// Training of the chip model (network.hpp) with Adam on mini-batches: losses MSE (paper), the
// target-weighted MSE of the authors' code, cross-entropy; L1 on negative master weights; activity L1
// on hidden units; validation-based early stopping; a checkpoint after every epoch (atomic) from which
// `resume` continues bit-identically. Non-finite loss → NumericalError, the last good checkpoint stays.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nnspice/train/calibration.hpp"
#include "nnspice/train/dataset.hpp"
#include "nnspice/train/network.hpp"

namespace nnspice::train {

enum class Loss { mse, weighted_mse, cross_entropy };
Loss parse_loss(const std::string& name, const std::string& what);
std::string loss_name(Loss loss);

struct TrainOptions {
  Layers layers;
  Loss loss = Loss::weighted_mse;
  double target_scale = -1;        ///< one-hot target height; < 0: 3 for weighted_mse, 1 for mse
  double learning_rate = 0.001;    ///< Adam; 0.005 can kill an output for good (circuits.md §5)
  std::string lr_schedule = "constant";  ///< constant | cosine (lr → lr·lr_final_fraction over the epochs)
  double lr_final_fraction = 0.02;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-6;
  int epochs = 50;
  int batch_size = 200;
  double init_range = 0.5;         ///< masters ~ U(−r, r)
  double l1_negative = 1e-6;       ///< λ · Σ |w| over negative master weights
  double l1_activity = 0.0;        ///< λ · mean over samples of Σ hidden activations
  double relu_leak = 0.0;          ///< surrogate ReLU derivative below threshold (0 = exact gradient)
  bool quantize = true;            ///< false: float weights (reference / gradient checks)
  QuantGrid grid;
  int patience = 0;                ///< > 0: stop after this many epochs without validation improvement
  /// Dead-output monitor (every epoch, on a fixed subset of the training set): an output unit active (> 0) on
  /// fewer than dead_fraction of the monitoring samples is dead. Recovery (`revive_dead`): the dead unit's
  /// rectifier gets the surrogate slope revive_leak in the backward pass while it is dead, and its incoming
  /// weights are re-drawn non-negative (|U(−r, r)|, Adam moments reset) when it is still dead after
  /// revive_patience epochs with the slope — docs/training.md "Dead outputs".
  bool revive_dead = true;
  double dead_fraction = 0.01;
  double revive_leak = 0.05;
  int revive_patience = 2;
  std::uint64_t seed = 1;
  int threads = 2;
  /// Throws InputError "TrainOptions::<field> = <value>. Violated constraint: …".
  void validate() const;
  nlohmann::json to_json() const;
};

struct EpochRecord {
  int epoch = 0;  ///< 1-based
  double train_loss = 0, train_accuracy = 0, validation_accuracy = -1, test_accuracy = -1;
  double seconds = 0;  ///< wall time of the epoch's training steps (without the accuracy evaluations)
  std::vector<int> dead_outputs;  ///< output units dead on the monitoring batch after this epoch's steps
  std::size_t zero_outputs = 0;   ///< monitoring samples whose outputs are all zero
  std::vector<int> revived;       ///< output units whose incoming weights were re-drawn after this epoch
};

/// Health of the output layer on a data set: units active (> 0) on fewer than dead_fraction of the samples
/// (at least one sample: a unit is dead when it is active on none) and samples whose outputs are all zero.
struct OutputHealth {
  std::vector<int> dead_units;
  std::vector<std::size_t> active_samples;  ///< per output unit
  std::size_t all_zero_samples = 0, samples = 0;
};
OutputHealth output_health(const Eigen::MatrixXf& outputs, double dead_fraction);

/// Everything needed to continue a run exactly.
struct TrainState {
  Network<float> net;
  std::vector<Network<float>::Mat> adam_m, adam_v;
  std::int64_t adam_step = 0;
  int epoch = 0;                       ///< epochs completed
  std::vector<EpochRecord> history;
  std::vector<Network<float>::Mat> best_master;  ///< masters at the best validation accuracy
  int best_epoch = 0;
  double best_validation = -1;
  int epochs_without_improvement = 0;
  bool stopped_early = false;
  nlohmann::json options;              ///< TrainOptions::to_json() of the run that wrote it
};

struct TrainResult {
  Network<float> net;  ///< the selected weights (best validation epoch, or the last epoch without validation)
  std::vector<EpochRecord> history;
  int epochs_run = 0, selected_epoch = 0;
  bool stopped_early = false;
  double train_accuracy = 0, validation_accuracy = -1, test_accuracy = -1;
  /// Corner-aware training: the accuracies with each calibration (calibrations[0] first); the fields above are
  /// their means. One calibration: one entry each, equal to the fields above.
  std::vector<double> train_accuracies, validation_accuracies, test_accuracies;
  double wall_s = 0;
  OutputHealth train_health, test_health;  ///< of the selected weights (test: empty when there is no test set)
  std::size_t monitor_samples = 0;         ///< size of the per-epoch monitoring batch
  /// The selected weights still have a dead output unit on the training or the test set.
  bool collapsed() const { return !train_health.dead_units.empty() || !test_health.dead_units.empty(); }
};

struct TrainHooks {
  std::string checkpoint_path;   ///< "" = no checkpoints
  bool resume = false;           ///< continue from checkpoint_path (must exist)
  bool progress = true;          ///< nnspice::Progress on stderr
  std::function<void(const EpochRecord&)> on_epoch;  ///< called after every epoch
  std::function<void(const std::string&)> on_notice;  ///< dead outputs found / recovered (one line each)
};

/// Trains on `data` (validation/test may be empty). Checks the calibration against options.layers and
/// the data's feature / class counts against the first and last layer. The model uses the calibration's
/// per-synapse gains when it has them (Calibration::drop_synapse_gains for the per-neuron model); the
/// checkpoint records whether it did, and a resume must agree.
TrainResult train_network(const TrainOptions& options, const Calibration& calibration, const DataSplits& data,
                          const TrainHooks& hooks = {});
/// Corner-aware training (issue 19): one set of weights against several calibrations of the same chip (e.g. measured
/// at several temperatures or supplies). Every batch runs through the network once per calibration; the loss and
/// its gradient are the mean over them, and the per-epoch accuracies (validation: the selection) are their means.
/// The output-health monitor and the dead-output recovery use calibrations[0]. One calibration = the overload
/// above, bit for bit. All must match options.layers.
TrainResult train_network(const TrainOptions& options, const std::vector<Calibration>& calibrations, const DataSplits& data,
                          const TrainHooks& hooks = {});

/// Samples (columns) of `outputs` holding a NaN or Inf: how many, and the first one's index.
struct NonFinite {
  std::size_t count = 0, first = 0;
};
NonFinite non_finite_samples(const Eigen::MatrixXf& outputs);

/// Accuracy (fraction) of argmax of the outputs; ties go to the lowest index. Does not look for NaN/Inf
/// outputs: a caller that reports an accuracy checks non_finite_samples first (infer, train).
double accuracy(const Network<float>& net, const Dataset& data, std::size_t batch = 2000);
/// Outputs (N_L, samples) of the model on a data set.
Eigen::MatrixXf outputs(const Network<float>& net, const Dataset& data, std::size_t batch = 2000);

/// Loss value and d loss / d out for a batch (out: (C, B)); used by training and gradient checks.
template <typename T>
T loss_and_grad(Loss loss, double target_scale, const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& out,
                const int* labels, Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& d_out);

/// Checkpoint file (binary, little-endian floats; written atomically).
void write_checkpoint(const std::string& path, const TrainState& state);
/// Throws InputError naming the file and why it is unusable (damaged, checksum, NaN/Inf, other format).
TrainState read_checkpoint(const std::string& path);
/// read_checkpoint, or nothing (with a one-line notice on stderr) when the checkpoint is unusable.
std::optional<TrainState> load_checkpoint(const std::string& path);

}  // namespace nnspice::train

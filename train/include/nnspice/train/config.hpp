// The configuration of one `nnspice train` run: training options, data set, calibration and output
// directory, read from YAML (train.yaml; unknown keys and wrong types are errors naming key and line)
// and/or overridden by command-line flags. Keys are listed in docs/training.md.
#pragma once

#include <string>
#include <vector>

#include "nnspice/train/dataset.hpp"
#include "nnspice/train/trainer.hpp"

namespace nnspice::train {

struct TrainConfig {
  TrainOptions train;
  DatasetOptions data;
  std::string calibration;       ///< calibration.json; "" = homogeneous model
  /// Corner-aware training: more calibrations (the chip at other temperatures / supplies, or other chips) the
  /// same weights are trained against, with `calibration` (needs it). Empty = train on `calibration` only.
  std::vector<std::string> corner_calibrations;
  double negative_gain = 1.0;    ///< homogeneous model only: the global negative-weight gain
  /// Use the calibration's per-synapse gains when it has them (false: its per-neuron model).
  bool synapse_gains = true;
  /// Magnitude bits of the synapses (codes ±(2^B - 1)); 0 = the calibration's (3 for the homogeneous model).
  int weight_bits = 0;
  /// weight_step set by YAML or --weight-step. When not, a B-bit training takes 0.25 · 7 / (2^B − 1): code
  /// ±(2^B − 1) is the same weight at every B, so more bits are finer steps over the same range.
  bool weight_step_given = false;
  std::string out = "runs/train";
  bool plot = true;
  /// The defaults for a data set (layers, learning rate, epochs, …), applied before YAML and flags.
  static TrainConfig defaults_for(const std::string& dataset);
  nlohmann::json to_json() const;
};

/// The YAML keys accepted in train.yaml.
const std::vector<std::string>& train_config_keys();
/// Applies the keys of a YAML file on top of `config` (dataset-specific defaults first: when the file
/// names a dataset, `config` is reset to TrainConfig::defaults_for(that dataset)).
void apply_train_yaml(const std::string& path, TrainConfig& config);

}  // namespace nnspice::train

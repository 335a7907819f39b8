// DNPU surrogate model: the MLP (7 electrode voltages in V -> 1 output) that brains-py trains on
// measurements of a dopant network, times `amplification` = output current in nA, optionally clipped.
// Loads brains-py .pt files natively (any depth, key prefixes, float32/float64, info dict) and a plain
// documented format (docs/dnpu.md: model.json + NPY weights). Batch evaluation with Eigen and exact
// gradients w.r.t. the inputs (reverse mode). Columns of every input matrix are samples.
#pragma once

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <array>
#include <limits>
#include <string>
#include <vector>

#include "nnspice/dnpu/pickle.hpp"

namespace nnspice::dnpu {

struct TorchFile;

enum class Activation { relu, elu, tanh, sigmoid, hardtanh, leaky_relu };
const char* activation_name(Activation a);
/// Parses "relu", "elu", "tanh", "sigmoid", "hardtanh"/"hard-tanh", "leaky_relu"/"leaky-relu"; false if unknown.
bool parse_activation(const std::string& name, Activation& out);

struct SurrogateModel {
  std::vector<Eigen::MatrixXd> weights;  ///< layer l: (out_l, in_l), PyTorch Linear layout
  std::vector<Eigen::VectorXd> biases;   ///< layer l: out_l
  Activation activation = Activation::relu;  ///< between layers; the last layer is linear
  ScalarType dtype = ScalarType::float32;    ///< element type the weights were stored in
  std::vector<std::array<double, 2>> voltage_ranges_V;  ///< per electrode [min, max]; empty = unknown
  double amplification = 1.0;            ///< raw output x amplification = current in nA
  double clip_min_nA = -std::numeric_limits<double>::infinity();
  double clip_max_nA = std::numeric_limits<double>::infinity();
  double noise_sd_nA = 0.0;              ///< surrogate test RMSE, used by noisy evaluation (0 = none)
  nlohmann::json source;                 ///< provenance: file, layout, key prefix
  nlohmann::json info;                   ///< the file's info dict (converted), if any
  std::vector<std::string> notes;        ///< where each field came from / defaults used

  std::size_t n_inputs() const { return weights.empty() ? 0 : static_cast<std::size_t>(weights.front().cols()); }
  std::size_t n_layers() const { return weights.size(); }
  /// Checks internal consistency (shapes, finite values, ranges); InputError naming `name` otherwise.
  void validate(const std::string& name) const;

  /// Output currents in nA of the samples in the columns of `v_V` (n_inputs x batch); clipping applied.
  Eigen::VectorXd eval(const Eigen::MatrixXd& v_V) const;

  /// What the backward pass needs of a forward pass.
  struct Tape {
    std::vector<Eigen::MatrixXd> pre;  ///< pre-activations of the hidden layers
    Eigen::VectorXd out_nA;            ///< clipped output
    Eigen::VectorXd unclipped_nA;
  };
  Eigen::VectorXd forward(const Eigen::MatrixXd& v_V, Tape& tape) const;
  /// dL/dv (n_inputs x batch) given dL/dout (batch) for the forward pass recorded in `tape`.
  Eigen::MatrixXd backward(const Tape& tape, const Eigen::VectorXd& dl_dout) const;
  /// d out / d v for every sample (n_inputs x batch), nA/V.
  Eigen::MatrixXd input_gradient(const Eigen::MatrixXd& v_V) const;

  /// Samples (columns) with an electrode outside its range by more than tol_V: "sample 3, e5 = 0.41 V
  /// outside [-0.7, 0.3]". Empty when all inside or ranges unknown.
  std::vector<std::string> range_violations(const Eigen::MatrixXd& v_V, double tol_V = 1e-9, std::size_t max_report = 5) const;
};

struct SurrogateLoadOptions {
  std::string key_prefix;  ///< select the Linear stack whose key prefix starts with this ("" = the only one)
};

/// Builds a surrogate from an unpickled torch file (brains-py layouts and generic state dicts).
SurrogateModel surrogate_from_torch(const TorchFile& file, const SurrogateLoadOptions& opts = {});
/// Loads a .pt file, a plain-format directory, or its model.json.
SurrogateModel load_surrogate(const std::string& path, const SurrogateLoadOptions& opts = {});
/// Writes the plain format into `dir` (created): model.json + layer_<l>_weight.npy / layer_<l>_bias.npy.
void save_surrogate_plain(const SurrogateModel& m, const std::string& dir);
/// Writes a torch zip (or legacy) .pt in brains-py's layout: {'model_state_dict': raw_model.<2l>.*, 'info': ...}.
void save_surrogate_torch(const SurrogateModel& m, const std::string& path, bool legacy = false, ScalarType dtype = ScalarType::float32);

/// A pickled value as JSON (numbers, strings, lists, dicts, arrays; tensors as {"tensor": shape}).
nlohmann::json py_to_json(const PyPtr& v, const TorchFile* file = nullptr, int depth = 0);

}  // namespace nnspice::dnpu

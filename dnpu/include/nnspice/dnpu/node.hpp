// DNPU nodes and layers (docs/dnpu.md): a node is one surrogate whose electrodes are split into data
// inputs and control voltages (the learnable parameters); an affine transform maps data (e.g. [-1, 1])
// onto each data electrode's voltage range. A layer is a set of time-multiplexed copies of one device
// with their own control voltages. Output noise (std in nA), clipping (the model's), and a batch-norm
// variant (standardise each node's output over the batch, optional learnable affine). Units: V in, nA out.
#pragma once

#include <Eigen/Dense>

#include <vector>

#include "nnspice/common/rng.hpp"
#include "nnspice/dnpu/surrogate.hpp"

namespace nnspice::dnpu {

struct DnpuNode {
  const SurrogateModel* model = nullptr;
  std::vector<int> data_electrodes;     ///< electrode index per data input
  std::vector<int> control_electrodes;  ///< the others, in increasing order
  Eigen::VectorXd controls_V;           ///< one per control electrode
  Eigen::VectorXd in_scale, in_offset;  ///< v_data = in_scale .* x + in_offset (per data input)

  /// A node with `data_electrodes`; data in [in_lo, in_hi] map linearly onto each electrode's range
  /// (in_lo == in_hi: identity, data are volts). Controls start at the middle of their ranges.
  static DnpuNode make(const SurrogateModel& m, std::vector<int> data_electrodes, double in_lo = 0, double in_hi = 0);
  std::size_t n_data() const { return data_electrodes.size(); }
  std::size_t n_controls() const { return control_electrodes.size(); }
  /// Control voltages uniform in their ranges.
  void randomize_controls(Rng& rng);
  /// Electrode voltages (7 x batch) for data x (n_data x batch).
  Eigen::MatrixXd electrode_voltages(const Eigen::MatrixXd& x) const;
  /// Out-of-range penalty sum relu(min - v) + relu(v - max) over the controls; adds its gradient.
  double range_penalty(Eigen::VectorXd* grad) const;
  /// Projects the controls onto their ranges (the constraint applied after every optimiser step, so that a
  /// trained node can be set on the device: the surrogate is not valid outside the measured ranges).
  void clamp_controls();
  /// Largest distance (V) of a control outside its range; 0 when all are inside.
  double max_range_violation() const;
};

/// A node's forward pass kept for its backward pass.
struct NodeTape {
  SurrogateModel::Tape tape;
};

/// Output currents (batch) of `node` for data x; noise (std `noise_sd_nA`) added when rng != nullptr.
Eigen::VectorXd node_forward(const DnpuNode& node, const Eigen::MatrixXd& x, NodeTape& t, double noise_sd_nA = 0, Rng* rng = nullptr);
/// Backward: accumulates dL/dcontrols into `d_controls` (n_controls) and returns dL/dx (n_data x batch).
Eigen::MatrixXd node_backward(const DnpuNode& node, const NodeTape& t, const Eigen::VectorXd& dl_dy, Eigen::VectorXd& d_controls);

/// Batch normalisation of one value per sample: y = gamma * (u - mean) / sqrt(var + eps) + beta.
struct BatchNorm {
  double gamma = 1, beta = 0, eps = 1e-5;
  bool affine = true;
  struct Tape {
    Eigen::VectorXd xhat;
    double inv_std = 1;
  };
  Eigen::VectorXd forward(const Eigen::VectorXd& u, Tape& t) const;
  /// Returns dL/du; adds dL/dgamma, dL/dbeta.
  Eigen::VectorXd backward(const Tape& t, const Eigen::VectorXd& dl_dy, double& d_gamma, double& d_beta) const;
};

/// A time-multiplexed DNPU layer: node k reads inputs input_map[k] (indices into the layer input).
struct DnpuLayer {
  std::vector<DnpuNode> nodes;
  std::vector<std::vector<int>> input_map;
  double noise_sd_nA = 0;
  bool batch_norm = false;  ///< variant: standardise each node's output (no affine on the inputs)
  std::vector<BatchNorm> norms;

  struct Tape {
    std::vector<NodeTape> nodes;
    std::vector<BatchNorm::Tape> norms;
  };
  /// Outputs (n_nodes x batch) for inputs (n_in x batch).
  Eigen::MatrixXd forward(const Eigen::MatrixXd& in, Tape& t, Rng* noise_rng = nullptr) const;
  /// Returns dL/din; adds the gradient of every node's controls into d_controls[k].
  Eigen::MatrixXd backward(const Eigen::MatrixXd& in, const Tape& t, const Eigen::MatrixXd& dl_dout, std::vector<Eigen::VectorXd>& d_controls,
                           std::vector<std::array<double, 2>>* d_norm = nullptr) const;
};

/// Adam (Kingma & Ba) on a flat parameter vector.
struct Adam {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  Eigen::VectorXd m, v;
  long t = 0;
  void step(Eigen::VectorXd& params, const Eigen::VectorXd& grad);
};

/// Fisher criterion (m1 - m0)^2 / (s0^2 + s1^2) of outputs y for binary labels; adds d/dy into grad (if given).
double fisher(const Eigen::VectorXd& y, const Eigen::VectorXi& labels, Eigen::VectorXd* grad);

/// Genetic algorithm of brains-py's evolution-in-materio defaults (docs/dnpu.md): population 26 = 4 elite +
/// 22 offspring, stochastic universal sampling on linear rank (pressure 1.5 ... 0.5), BLX-alpha-beta crossover
/// (alpha 0.6, beta 0.4, toward the better parent) clipped to ranges, mutation with probability
/// 0.625 / (2 + 5 g / (G - 1)) per gene from a triangular (min, current, max), duplicates re-randomised.
struct GaOptions {
  std::size_t population = 26, elite = 4, generations = 100;
  double alpha = 0.6, beta = 0.4;
  std::uint64_t seed = 1;
};
struct GaResult {
  Eigen::VectorXd best;
  double best_fitness = 0;
  std::vector<double> best_per_generation;
};
/// Maximises fitness(genes) over genes in [lo, hi] (per gene).
GaResult genetic_maximize(const std::function<double(const Eigen::VectorXd&)>& fitness, const Eigen::VectorXd& lo, const Eigen::VectorXd& hi,
                          const GaOptions& opt);

}  // namespace nnspice::dnpu

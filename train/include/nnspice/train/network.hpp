// The behavioural model of a chip (docs/conventions.md): bias-free ReLU layers with fixed per-neuron
// slopes and per-pre-neuron negative gains,
//   a_0 = s_0 ⊙ x,   a_{l+1} = s_{l+1} ⊙ relu(W̃_l a_l) (hidden),   out = relu(W̃_{L-1} a_{L-1}),
// with W̃_l the quantised copy of the float master weights W_l (shape (N_{l+1}, N_l)), see quantize.hpp.
// With a per-synapse calibration a code k of the synapse i → j is worth Δ·k·g⁺_ji (k > 0) or Δ·k·g⁻_ji
// (k < 0) instead of Δ·k or Δ·k·g_i; the masters stay in these effective-value units.
// Batches are matrices with one sample per column. Forward/backward are instantiated for float
// (training) and double (gradient checks).
#pragma once

#include <Eigen/Core>

#include <vector>

#include "nnspice/train/calibration.hpp"
#include "nnspice/train/quantize.hpp"

namespace nnspice::train {

template <typename T>
struct Network {
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

  Layers layers;
  std::vector<Mat> master;    ///< float master weights, [l] shape (N_{l+1}, N_l)
  std::vector<Vec> slopes;    ///< [l] size N_l, l = 0 … L-1
  std::vector<Vec> neg_gain;  ///< [l] size N_l (per pre-neuron)
  /// Per-synapse gains [l] (N_{l+1}, N_l) of positive and negative codes; both empty = the per-neuron
  /// model (positive gain 1, negative gain neg_gain of the pre-neuron).
  std::vector<Mat> gain_pos, gain_neg;
  /// Gains per code (calibration pos_codes/neg_codes): code_pos[l][k−1](j, i) = k·g⁺_k / g⁺_7 of synapse i → j,
  /// the grid of code k in units of Δ·gain_pos (a linear synapse: exactly k); empty = the grid k·Δ·g.
  /// Quantisation then picks the nearest grid value (ties to the larger code); the clip is active beyond
  /// c_K + (c_K − c_{K−1})/2, which for a linear synapse is the rounding rule's K + 1/2.
  std::vector<std::vector<Mat>> code_pos, code_neg;
  QuantGrid grid;
  bool quantize = true;       ///< false: the forward pass uses the masters (float model)

  std::size_t num_layers() const { return master.size(); }
  /// Sets layers, slopes and gains (per-synapse ones when the calibration has them) from a calibration
  /// (checked against `layers`) and zero weights.
  void configure(const Layers& layers, const Calibration& calibration, const QuantGrid& grid, bool quantize);
  /// Masters ~ U(−r, r) from `rng` (row-major draw order, layer by layer).
  template <typename RngT>
  void init_uniform(RngT& rng, double r) {
    for (auto& w : master)
      for (Eigen::Index i = 0; i < w.rows(); ++i)
        for (Eigen::Index j = 0; j < w.cols(); ++j) w(i, j) = static_cast<T>(rng.uniform(-r, r));
  }
  bool per_synapse() const { return !gain_pos.empty(); }
  bool per_code() const { return !code_pos.empty(); }
  /// The weights the forward pass uses (quantised or masters) and the straight-through mask.
  void effective(std::size_t l, Mat& w_eff, Mat& pass) const;
  /// Integer codes of layer l (−K … K), shape (N_{l+1}, N_l).
  Eigen::MatrixXi codes(std::size_t l) const;
  /// Sets the masters to the grid values of integer codes (for inference from weight files).
  void set_codes(std::size_t l, const Eigen::MatrixXi& k);
};

/// Per-batch intermediate values kept for the backward pass.
template <typename T>
struct ForwardCache {
  using Mat = typename Network<T>::Mat;
  std::vector<Mat> w_eff, pass;  ///< per layer
  std::vector<Mat> a;            ///< inputs of each layer after the slopes, [l] (N_l, B)
  std::vector<Mat> z;            ///< pre-activations W̃_l a_l, [l] (N_{l+1}, B)
  Mat out;                       ///< relu(z_{L-1})
};

/// Forward pass of batch x (N_0, B). Fills `cache` and returns a reference to cache.out.
template <typename T>
const typename Network<T>::Mat& forward(const Network<T>& net, const Eigen::Ref<const typename Network<T>::Mat>& x,
                                        ForwardCache<T>& cache);

/// Backward pass: from d loss / d out (N_L, B) to d loss / d master weights (straight-through through
/// the quantiser, zero where the clip is active). `hidden_activity_grad` (≥ 0) is added to the gradient
/// of every hidden activation a_{l+1} (the activity-L1 term λ/B). `relu_leak` > 0 replaces the ReLU's zero
/// derivative below threshold by relu_leak (a surrogate gradient that lets dead units recover; the
/// forward model is unchanged; 0 = the exact gradient). `output_leak` (size N_L, or null) raises the leak of
/// single output units (the dead-output recovery of the trainer): output j uses max(relu_leak, output_leak[j]).
/// `grads` is resized as needed.
template <typename T>
void backward(const Network<T>& net, const ForwardCache<T>& cache, const typename Network<T>::Mat& d_out,
              T hidden_activity_grad, std::vector<typename Network<T>::Mat>& grads, T relu_leak = T(0),
              const typename Network<T>::Vec* output_leak = nullptr);

/// Inference only (no cache kept beyond one layer): outputs (N_L, B).
template <typename T>
typename Network<T>::Mat predict(const Network<T>& net, const Eigen::Ref<const typename Network<T>::Mat>& x);

}  // namespace nnspice::train

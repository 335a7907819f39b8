// 3-bit + sign weight quantisation by dual-copy rounding (circuits.md §5; Courbariaux et al. 2014):
// float master weights w, forward pass with their quantised copy. Grid: k·Δ for k = 0 … +K and
// g·k·Δ for k = −K … −1 (g = the pre-neuron's negative gain, K = 7). Rounding is half away from zero
// on w/Δ (w ≥ 0) or w/(g·Δ) (w < 0), then clipped to ±K. The straight-through gradient is 1 where the
// clip is inactive (|round(u)| ≤ K) and 0 where it is active. With a per-synapse calibration the
// positive grid is g⁺·k·Δ and the negative one g⁻·k·Δ with the synapse's own gains (g⁺ = 1 and
// g⁻ = the pre-neuron's negative gain without one).
#pragma once

#include <cmath>

namespace nnspice::train {

struct QuantGrid {
  double step = 0.25;  ///< Δ: value of code +1 (the authors' code: 1/4)
  int max_code = 7;    ///< K: 3 magnitude bits
};

/// The integer code of master weight `w` of a synapse whose code +1 is worth pos_gain·Δ and code −1
/// neg_gain·Δ.
inline int quantize_code(double w, double pos_gain, double neg_gain, const QuantGrid& grid) {
  const double u = w >= 0 ? w / (grid.step * pos_gain) : w / (grid.step * neg_gain);
  double r = std::round(u);  // half away from zero
  if (r > grid.max_code) r = grid.max_code;
  if (r < -grid.max_code) r = -grid.max_code;
  return static_cast<int>(r);
}
/// The per-neuron model: positive gain 1, negative gain `neg_gain` of the pre-neuron.
inline int quantize_code(double w, double neg_gain, const QuantGrid& grid) { return quantize_code(w, 1.0, neg_gain, grid); }

/// The effective (analog) value of code k: Δ·g⁺·k, or Δ·g⁻·k for k < 0.
inline double code_value(int k, double pos_gain, double neg_gain, const QuantGrid& grid) {
  return k >= 0 ? grid.step * pos_gain * k : grid.step * neg_gain * k;
}
inline double code_value(int k, double neg_gain, const QuantGrid& grid) { return code_value(k, 1.0, neg_gain, grid); }

/// True where the straight-through gradient passes (clip inactive).
inline bool quantize_passes(double w, double pos_gain, double neg_gain, const QuantGrid& grid) {
  const double u = w >= 0 ? w / (grid.step * pos_gain) : w / (grid.step * neg_gain);
  return std::fabs(std::round(u)) <= grid.max_code;
}
inline bool quantize_passes(double w, double neg_gain, const QuantGrid& grid) {
  return quantize_passes(w, 1.0, neg_gain, grid);
}

}  // namespace nnspice::train

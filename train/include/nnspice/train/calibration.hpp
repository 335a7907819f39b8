// The calibration of one chip as training and inference see it (docs/conventions.md "Calibration"):
// per-neuron transfer slopes s_l[i] of every layer with outgoing synapses (l = 0 … L-1, mean 1 per
// layer) and the per-pre-neuron gain g_l[i] of a negative synapse relative to a positive one of the
// same code. All ones = the homogeneous model. Optionally (docs/characterize.md §3) every synapse's
// own gain at a positive and at a negative code, relative to its pre-neuron's slope. Dimensionless.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nnspice/model/layer_spec.hpp"

namespace nnspice::train {

/// A network's layer sizes N0-N1-…-NL (layer 0 = inputs): the one grammar of nnspice/model/layer_spec.hpp.
using model::Layers;
using model::format_layers;
using model::parse_layers;

struct Calibration {
  Layers layers;
  std::vector<std::vector<double>> slopes;         ///< [l][i], l = 0 … L-1
  std::vector<std::vector<double>> negative_gain;  ///< [l][i], l = 0 … L-1
  /// Optional per-synapse gains of weight layer l, row-major (N_{l+1}, N_l) = (post, pre), index
  /// j·N_l + i: a positive code of the synapse i → j is worth synapse_gain_pos times as much as in the
  /// per-neuron model (there: 1), a negative one synapse_gain_neg times a positive one of the same code
  /// (replacing negative_gain[l][i]). Both empty = none; otherwise one matrix per weight layer.
  std::vector<std::vector<double>> synapse_gain_pos, synapse_gain_neg;
  /// Optional gains per code (characterize --synapse-codes bits|all), weight layer l row-major
  /// (K, N_{l+1}, N_l) with K = max_code() (7), index (k−1)·N_{l+1}·N_l + j·N_l + i: code ±k of the synapse i → j is
  /// worth Δ·k·gain (instead of Δ·k·synapse_gain_pos/neg). Both empty = none; needs the ±K gains.
  std::vector<std::vector<double>> synapse_gain_code_pos, synapse_gain_code_neg;
  /// Magnitude bits of the chip's synapses (JSON "weight_bits", default 3): codes -(2^B - 1) … 2^B - 1; the gains
  /// per code then have 2^B - 1 codes.
  int weight_bits = 3;
  int max_code() const { return (1 << weight_bits) - 1; }
  std::string chip;                                ///< informational
  std::int64_t seed = -1;                          ///< informational; -1 = none
  std::string source;                              ///< file it was read from ("" = built in)

  /// Throws InputError naming `source`, layer and the expected vs found size when the calibration
  /// does not describe a network with `network_layers`.
  void check_matches(const Layers& network_layers) const;
  bool homogeneous() const;
  bool has_synapse_gains() const { return !synapse_gain_pos.empty(); }
  bool has_code_gains() const { return !synapse_gain_code_pos.empty(); }
  /// The per-neuron model of the same chip (the per-synapse gains dropped).
  void drop_synapse_gains() {
    synapse_gain_pos.clear();
    synapse_gain_neg.clear();
    drop_code_gains();
  }
  /// The ±7 per-synapse model (the gains per code dropped).
  void drop_code_gains() {
    synapse_gain_code_pos.clear();
    synapse_gain_code_neg.clear();
  }
};

/// All slopes 1, negative gain `negative_gain` everywhere.
Calibration homogeneous_calibration(const Layers& layers, double negative_gain = 1.0);

/// Slopes s ~ N(1, sigma) per neuron (redrawn below 0.05), normalised to mean 1 per layer, as the
/// characterisation of a mismatched chip gives (the paper's measured spread is ~0.1–0.2); negative
/// gains g ~ negative_gain · N(1, gain_sigma) per neuron (gain_sigma = 0: one global gain).
Calibration random_calibration(const Layers& layers, double sigma, double negative_gain, double gain_sigma,
                               std::uint64_t seed);

/// Adds random per-synapse gains, a stand-in for `nnspice characterize --synapses`: g⁺_ji ~ N(1, sigma)
/// and g⁻_ji ~ negative_gain[l][i] · N(1, sigma) (redrawn below 0.05), each rescaled to the measured
/// convention: mean 1 (g⁺) and mean negative_gain[l][i] (g⁻) over the post-neurons j of pre-neuron i.
void add_random_synapse_gains(Calibration& calibration, double sigma, std::uint64_t seed);

/// Reads calibration.json ("nnspice-calibration/1"); negative_gain may be a scalar, a per-layer list of
/// scalars or per-neuron lists. The optional field "synapse_gains" lists per weight layer
/// {"pos": NPY, "neg": NPY} (paths relative to the JSON's folder; float64 (N_{l+1}, N_l), finite, > 0).
/// An entry may also name gains per code, {"pos_codes": NPY, "neg_codes": NPY} (float64 (7, N_{l+1}, N_l),
/// finite, > 0, and k·gain increasing in k per synapse so that the codes stay ordered); all entries or none.
/// Errors name the file and the field (for an NPY: its path, the expected vs found shape, or the index
/// and value of a bad entry). `synapse_gains` false: the field is not read (the per-neuron model, even
/// when the gain files are bad).
Calibration read_calibration(const std::string& path, bool synapse_gains = true);
/// Writes calibration.json; with per-synapse gains also synapse_gain_{pos,neg}_<l>.npy next to it
/// (referenced by "synapse_gains").
void write_calibration(const std::string& path, const Calibration& calibration);

}  // namespace nnspice::train

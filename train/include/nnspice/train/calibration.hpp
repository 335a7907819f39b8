// The calibration of one chip as training and inference see it (docs/conventions.md "Calibration"):
// per-neuron transfer slopes s_l[i] of every layer with outgoing synapses (l = 0 … L-1, mean 1 per
// layer) and the per-pre-neuron gain g_l[i] of a negative synapse relative to a positive one of the
// same code. All ones = the homogeneous model. Dimensionless.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nnspice::train {

/// A network's layer sizes N0-N1-…-NL (layer 0 = inputs).
using Layers = std::vector<int>;

/// Parses "196-100-50-10" (also "196,100,50,10"); `what` names the option/field in messages.
Layers parse_layers(const std::string& text, const std::string& what);
std::string format_layers(const Layers& layers);

struct Calibration {
  Layers layers;
  std::vector<std::vector<double>> slopes;         ///< [l][i], l = 0 … L-1
  std::vector<std::vector<double>> negative_gain;  ///< [l][i], l = 0 … L-1
  std::string chip;                                ///< informational
  std::int64_t seed = -1;                          ///< informational; -1 = none
  std::string source;                              ///< file it was read from ("" = built in)

  /// Throws InputError naming `source`, layer and the expected vs found size when the calibration
  /// does not describe a network with `network_layers`.
  void check_matches(const Layers& network_layers) const;
  bool homogeneous() const;
};

/// All slopes 1, negative gain `negative_gain` everywhere.
Calibration homogeneous_calibration(const Layers& layers, double negative_gain = 1.0);

/// Slopes s ~ N(1, sigma) per neuron (redrawn below 0.05), normalised to mean 1 per layer, as the
/// characterisation of a mismatched chip gives (the paper's measured spread is ~0.1–0.2); negative
/// gains g ~ negative_gain · N(1, gain_sigma) per neuron (gain_sigma = 0: one global gain).
Calibration random_calibration(const Layers& layers, double sigma, double negative_gain, double gain_sigma,
                               std::uint64_t seed);

/// Reads calibration.json ("nnspice-calibration/1"); negative_gain may be a scalar, a per-layer list of
/// scalars or per-neuron lists. Errors name the file and the field.
Calibration read_calibration(const std::string& path);
void write_calibration(const std::string& path, const Calibration& calibration);

}  // namespace nnspice::train

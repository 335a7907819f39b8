// Files of a characterisation (docs/characterize.md "Outputs"): calibration.json in the
// "nnspice-calibration/1" format of docs/conventions.md, slopes/gains as NPY, the raw operating points,
// summary.json and the slopes figure (gnuplot PNG, like the paper's Fig. 5c).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "nnspice/measure/characterize.hpp"

namespace nnspice::measure {

/// The calibration object (format, layers, slopes, negative_gain, chip, seed + informational keys).
nlohmann::json calibration_json(const Characterization& c, const std::string& chip_name, std::uint64_t chip_seed);

/// summary.json content: per-layer slope and negative-gain statistics, counts, Newton iterations, wall time.
nlohmann::json summary_json(const Characterization& c);

/// Writes calibration.json, slopes_<l>.npy, slopes_raw_<l>.npy, negative_gain_<l>.npy, the raw measurements
/// and (with synapses) synapse_gain_pos/neg_<l>.npy into `dir` (which must exist). Not summary.json/run.json.
void write_characterization(const std::string& dir, const Characterization& c, const std::string& chip_name, std::uint64_t chip_seed);

/// slopes.dat + slopes.gp + slopes.png (every neuron's normalised slope per layer, mean ± sd). Returns false
/// (after a warning on stderr) when gnuplot is missing or fails; the data and script are kept.
bool plot_slopes(const std::string& dir, const Characterization& c);

}  // namespace nnspice::measure

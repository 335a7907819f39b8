// Files of a characterisation (docs/characterize.md "Outputs"): calibration.json in the
// "nnspice-calibration/1" format of docs/conventions.md, slopes/gains as NPY, the raw operating points,
// summary.json and the slopes figure (PNG + SVG, like the paper's Fig. 5c).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "nnspice/measure/characterize.hpp"

namespace nnspice::measure {

/// The calibration object (format, layers, slopes, negative_gain, chip, seed + informational keys). With a
/// usable per-synapse measurement also "synapse_gains": [{"pos": "synapse_gain_pos_<l>.npy", "neg": …}, …],
/// which `nnspice train` / `infer` read; with usable gains per code each entry also names "pos_codes" / "neg_codes".
nlohmann::json calibration_json(const Characterization& c, const std::string& chip_name, std::uint64_t chip_seed);

/// Why the per-synapse gains cannot go into the calibration ("" = they can): none measured; the calibration's
/// slopes come from the routings (--ground-truth) while the gains are relative to the per-synapse slopes;
/// a gain that is not finite and > 0 (a synapse without a usable operating point).
std::string synapse_gains_unusable(const Characterization& c);

/// Why the gains per code cannot go into the calibration ("" = they can): none measured; a gain not finite and > 0;
/// a code not stronger than the one below it (k·gain must increase with k, as nnspice train requires).
std::string code_gains_unusable(const Characterization& c);

/// summary.json content: per-layer slope and negative-gain statistics, counts, Newton iterations, wall time.
nlohmann::json summary_json(const Characterization& c);
/// [{"reason": simulator text, "operating_points": count}, ...] of the failed operating points (summary.json, failures.json).
nlohmann::json failure_reasons_json(const Characterization& c);

/// Writes slopes_<l>.npy, slopes_raw_<l>.npy, negative_gain_<l>.npy, the raw measurements, (with synapses)
/// synapse_gain_pos/neg_<l>.npy and, last, calibration.json into `dir` (which must exist). Not summary.json/run.json.
void write_characterization(const std::string& dir, const Characterization& c, const std::string& chip_name, std::uint64_t chip_seed);

/// slopes.png + slopes.svg, with figures/slopes.gp and figures/slopes.dat (every neuron's normalised slope per
/// layer, mean ± sd). Returns false (after a warning on stderr) when gnuplot is missing or fails; the data and
/// script are kept.
bool plot_slopes(const std::string& dir, const Characterization& c);

}  // namespace nnspice::measure

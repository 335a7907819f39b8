// The characterisation of a chip (circuits.md §4, docs/characterize.md): the paper's random one-to-one
// routings -> one through-origin slope per neuron of every layer with outgoing synapses, normalised to
// mean 1 per layer; the negative-weight gain per neuron from positive+negative pairs; optionally every
// synapse's own gain at ±7 from exhaustive routings (also the ground truth the routing estimate is
// judged against). Operating points go through OpRunner (any sim::NetworkDcSolver). Currents in A.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nnspice/measure/fit.hpp"
#include "nnspice/measure/op_log.hpp"
#include "nnspice/measure/routing.hpp"

namespace nnspice::measure {

/// How the routing points of a neuron become its slope.
enum class SlopeFitKind {
  pooled,        ///< the paper: one through-origin fit over all the neuron's points
  synapse_mean,  ///< one fit per routed synapse, then their plain mean (each sampled synapse counts once)
};
/// "pooled" / "synapse-mean"; parse throws InputError naming the option.
const char* fit_kind_name(SlopeFitKind k);
SlopeFitKind parse_fit_kind(const std::string& text);

/// Which codes the per-synapse measurement covers (docs/characterize.md §3, "Gains per code").
enum class SynapseCodes {
  max_only,  ///< "7": +7 and −7 only (synapse_gain_pos/neg)
  bits,      ///< "bits": also ±1, ±2, ±4 measured; ±3, ±5, ±6 as sums of their bit branches
  all,       ///< "all": every code ±1 … ±7 measured
};
/// "7" / "bits" / "all"; parse throws InputError naming --synapse-codes and the value.
const char* synapse_codes_name(SynapseCodes c);
SynapseCodes parse_synapse_codes(const std::string& text);
/// Code magnitudes measured besides 7: {} / {1, 2, 4} / {1, …, 6}.
std::vector<int> measured_codes(SynapseCodes c, int max_code = 7);

struct CharacterizeOptions {
  std::size_t routings = 10;                          ///< R random routings (the calibration uses these)
  std::vector<double> levels_A{2e-9, 20.5e-9, 39e-9, 57.5e-9, 76e-9};  ///< equal input currents swept per routing
  std::size_t negative_routings = 4;                  ///< per weight layer (rounded up to even)
  std::vector<double> negative_levels_A{10e-9, 20e-9, 40e-9};  ///< input level of the low (negative) sources
  NegativeDesign negative;
  /// Fraction of I_post(positive only) the post-neuron must keep with the negative on for the point to be
  /// used (below it the post may be rectified and the subtraction no longer linear).
  double negative_min_fraction = 0.05;
  bool synapses = false;       ///< per-synapse gains (exhaustive routings); calibration slopes from all synapses
  bool ground_truth = false;   ///< also measure every synapse and compare the routing estimates with it
  /// Codes of the per-synapse measurement (needs synapses or ground_truth for anything but max_only).
  SynapseCodes synapse_codes = SynapseCodes::max_only;
  std::vector<std::size_t> ground_truth_routings{5, 10, 20, 40};  ///< prefixes R compared in ground-truth mode
  std::uint64_t seed = 1;      ///< seed of the routing draws (not the chip)
  double y_min_A = 0;          ///< slope fit uses points with y > y_min_A
  SlopeFitKind fit = SlopeFitKind::pooled;

  /// Throws InputError naming the field, value and violated constraint.
  void validate(const netlist::NetworkSpec& spec) const;
};

/// Per-neuron slope estimates of the layers with outgoing synapses (l = 0 … L-1).
struct SlopeEstimate {
  std::vector<std::vector<double>> raw;             ///< [l][i]: output / input current of a +7 synapse
  std::vector<std::vector<std::size_t>> n_points;   ///< [l][i]
  std::vector<double> rel_rms;                      ///< [l]: pooled rms(y − a x)/rms(y) of the fits
};

/// The fit of the paper's procedure over routings[0..n_routings) and their operating points ops[r][k].
SlopeEstimate estimate_slopes(const netlist::NetworkSpec& spec, const std::vector<Routing>& routings,
                              const std::vector<std::vector<OpRecord>>& ops, std::size_t n_routings, double y_min_A = 0,
                              SlopeFitKind fit = SlopeFitKind::pooled);

/// Per-synapse slopes from exhaustive routings: [l] row-major (N_{l+1}, N_l), NaN where unmeasured.
std::vector<std::vector<double>> synapse_slopes(const netlist::NetworkSpec& spec, const std::vector<Routing>& routings,
                                                const std::vector<std::vector<OpRecord>>& ops, double y_min_A = 0);

/// One negative measurement: u = slope_raw[q]·x_q (what q delivers through a +7 synapse), d = I_post(pos
/// only) − I_post(pos + neg); the gain is d/u.
struct NegativePoint {
  std::size_t layer = 0, post = 0, pre = 0;
  double u_A = 0, d_A = 0;
};
/// Collects the usable points of negative routings (ops_pos/ops_both[g][k] = operating points of routings[g]
/// without / with the negative synapses); `rejected` counts points whose post fell below the floor.
std::vector<NegativePoint> negative_points(const netlist::NetworkSpec& spec, const std::vector<NegativeRouting>& routings,
                                           const std::vector<std::vector<OpRecord>>& ops_pos,
                                           const std::vector<std::vector<OpRecord>>& ops_both,
                                           const std::vector<std::vector<double>>& slopes_raw, double min_fraction,
                                           std::size_t& rejected);
/// Per-neuron gain g = Σ u d / Σ u² over the points of pre-neuron i of `layer` (NaN without points).
std::vector<double> negative_gain_per_neuron(const std::vector<NegativePoint>& points, std::size_t layer, std::size_t n_pre,
                                             std::vector<std::size_t>* n_points = nullptr);

struct Characterization {
  netlist::NetworkSpec spec;
  CharacterizeOptions options;
  std::string slopes_source;                      ///< "routings" (the paper) or "synapses" (--synapses)

  // The paper's procedure (empty with --synapses alone).
  std::vector<Routing> routings;                  ///< all routings simulated (ground truth: max R of the prefixes)
  std::vector<std::vector<OpRecord>> routing_ops; ///< [r][k] at levels_A[k]
  SlopeEstimate routing_estimate;                 ///< from the first options.routings routings

  // The calibration.
  std::vector<std::vector<double>> slopes_raw, slopes;  ///< [l][i], slopes normalised to mean 1 per layer
  std::vector<std::vector<double>> negative_gain;        ///< [l][i]
  std::vector<std::vector<std::size_t>> negative_n_points;
  std::vector<double> negative_gain_layer;               ///< [l]: one least-squares gain over the layer's points
  std::vector<std::size_t> negative_fallbacks;           ///< [l]: neurons without a point, given the layer's gain
  std::size_t negative_rejected = 0;

  // Random negative routings (the default estimate).
  std::vector<std::vector<NegativeRouting>> negative_routings;                 ///< [l][g]
  std::vector<std::vector<std::vector<OpRecord>>> negative_pos, negative_both; ///< [l][g][k]

  // Exhaustive measurements (--synapses, --ground-truth).
  bool have_synapses = false;
  std::vector<Routing> cyclic;
  std::vector<std::vector<OpRecord>> cyclic_ops;                 ///< [m][k] at levels_A[k]
  std::vector<std::vector<double>> synapse_slope;                ///< [l] (N_{l+1}, N_l) raw
  std::vector<std::vector<double>> true_slopes;                  ///< [l][i] mean over the neuron's synapses
  std::vector<std::vector<double>> synapse_gain_pos, synapse_gain_neg;  ///< [l] (N_{l+1}, N_l), relative to true_slopes
  std::vector<std::vector<double>> true_negative_gain;           ///< [l][i] mean of synapse_gain_neg over posts
  std::vector<std::vector<NegativeRouting>> negative_all;        ///< [l][m]
  std::vector<std::vector<std::vector<OpRecord>>> negative_all_pos, negative_all_both;

  // Gains per code (synapse_codes bits / all): [l] row-major (7, N_{l+1}, N_l), index (k−1)·P·N + j·N + i, the
  // gain of code k per unit of code relative to true_slopes (a linear synapse: the ±7 gain for every k).
  bool have_codes = false;
  std::vector<int> codes_measured;                               ///< magnitudes measured besides 7
  std::vector<std::string> code_source;                          ///< [k−1]: "measured" or "bits" (sum of its bit branches)
  std::vector<std::vector<double>> synapse_gain_code_pos, synapse_gain_code_neg;
  /// [c][l][m][k]: positive cyclic routings of codes_measured[c] (layers < l at +7, layer l at +code, later 0)
  std::vector<std::vector<std::vector<std::vector<OpRecord>>>> code_pos_ops;
  /// [c][l][g][k]: the exhaustive negative routings with the negative synapses at −codes_measured[c]
  std::vector<std::vector<std::vector<std::vector<OpRecord>>>> code_neg_ops;
  nlohmann::json additivity;  ///< composite codes measured directly vs the sum of their bits (null if none)

  nlohmann::json ground_truth;  ///< comparisons (ground-truth mode), else null
  RunnerStats runner;
  std::string method;
  std::size_t failed_ops = 0;
  /// The simulator's own error text of the failed operating points (Session's classified lines, e.g.
  /// "Fatal: Tox = -1e-09 is not positive.") with how many points failed with it, most frequent first.
  std::vector<std::pair<std::string, std::size_t>> failure_reasons;
};

/// "N operating point(s) failed; the simulator said (K×): REASON ..." for the first `max_reasons` reasons,
/// "" when none failed. Used in the error message, on stderr and in failures.json.
std::string describe_failures(const Characterization& c, std::size_t max_reasons = 3);

/// Runs the whole characterisation. Throws NumericalError when a neuron's slope cannot be fitted (no
/// usable point: more routings or fewer failures needed); failed operating points are counted, not thrown.
Characterization characterize(const netlist::NetworkSpec& spec, OpRunner& runner, const CharacterizeOptions& options);

/// Compares a routing estimate with the exhaustive truth, per layer: r, max and rms relative error, the
/// statistically expected relative error of each neuron (sampling of its synapses), the fraction of
/// neurons within 2 expected errors and the largest |error| / expected error. The expected error is that of
/// the pooled fit (a weighted mean of the sampled synapses); for synapse_mean it is the plain-mean one.
nlohmann::json compare_with_truth(const netlist::NetworkSpec& spec, const std::vector<Routing>& routings,
                                  const std::vector<std::vector<OpRecord>>& ops, std::size_t n_routings,
                                  const std::vector<std::vector<double>>& synapse_slope,
                                  const std::vector<std::vector<double>>& true_slopes, double y_min_A,
                                  SlopeFitKind fit = SlopeFitKind::pooled);

/// What the calibrations buy (needs the per-synapse measurement): `n_weights` random weight sets (codes
/// ±7 or 0, about 4 active inputs per post-neuron, 2/3 positive) × `n_inputs` random input vectors (5–60 nA) are simulated
/// on the chip; every post-neuron's input current is predicted from the measured currents of the layer
/// before it with (a) one slope and one negative gain per layer, (b) the per-neuron calibration,
/// (c) per-synapse gains: y_j = max(0, Σ_i a_i x_i (gp_ji [k > 0] − gn_ji [k < 0])), a_i = raw slopes.
/// Reports per layer rms and max |prediction − measurement| / rms(measurement) over post-neurons carrying > 1 nA.
nlohmann::json evaluate_models(const netlist::NetworkSpec& spec, OpRunner& runner, const Characterization& c, std::size_t n_weights,
                               std::size_t n_inputs, std::uint64_t seed);

}  // namespace nnspice::measure

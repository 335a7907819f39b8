// Circuit-level evaluation: a chip (network + process + mismatch) programmed with integer weight codes,
// driven by a data set's samples as input currents; the output class of each sample is the argmax of
// the output neurons' probe currents. Uses the decomposed DC engine (default) or full-netlist ngspice
// operating points; checkpoints finished samples and resumes; can split work across MPI ranks
// through the Exchange callbacks. Currents in A.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nnspice/common/exchange.hpp"
#include "nnspice/engine/decomposed_dc.hpp"
#include "nnspice/sim/network_dc.hpp"
#include "nnspice/train/dataset.hpp"

namespace nnspice::evaluate {

using nnspice::Exchange;

struct EvalOptions {
  std::string method = "decomposed";  ///< decomposed | decomposed-ngspice | full
  std::size_t audit_synapses = 20;    ///< native engine: synapses per layer checked against ngspice during the run (0 = off)
  double input_mean_A = 15e-9;        ///< each sample is scaled to this mean input current per input neuron
  std::size_t block = 500;            ///< samples per checkpoint block
  std::string out_dir;                ///< where results and the checkpoint go ("" = no checkpoint)
  bool resume = false;                ///< continue from out_dir's checkpoint
  sim::ParallelOptions parallel;      ///< worker processes (tabulation / full ops)
  engine::DecomposedOptions decomposed;  ///< grid options; cache_dir defaults to out_dir/tables
  bool progress = true;
  Exchange exchange;
};

/// Where the decomposed engine's own error estimate (sim::DcOutcome::error_estimate) of an output current exceeds the
/// fidelity bound rel·|I| + floor: outputs that are small differences of large synaptic currents (docs/dc_engine.md
/// "Ill-conditioned outputs"), and the samples whose class could change within the estimate.
struct Conditioning {
  std::size_t samples = 0;               ///< samples with an estimate
  std::size_t outputs_over_bound = 0, samples_over_bound = 0, class_uncertain = 0;
  std::vector<std::size_t> uncertain_examples;  ///< the first (up to 10) class-uncertain samples
  double worst_ratio = 0;                ///< max estimate / bound
  std::size_t worst_sample = 0, worst_output = 0;
  double rel = 5e-3, floor_A = 20e-12;
  nlohmann::json to_json() const;
};

struct EvalResult {
  std::size_t samples = 0, evaluated = 0, correct = 0, failed = 0, resumed = 0;
  std::size_t outputs = 0;            ///< output neurons
  std::vector<double> output_A;       ///< samples x outputs, NaN where failed
  std::vector<double> output_error_A; ///< samples x outputs: the engine's error estimate (NaN: none, the full netlist)
  std::vector<int> predicted;         ///< -1 where failed
  std::vector<int> labels;
  std::vector<std::string> errors;    ///< "sample k: message" for failures
  double accuracy() const { return evaluated ? static_cast<double>(correct) / static_cast<double>(evaluated) : 0.0; }
  nlohmann::json stats;               ///< method, tabulation counts, timings (engine_error_estimate: conditioning(*this))
};

/// The input currents of sample `k` of `data`: features scaled to mean `input_mean_A`, negatives clipped to 0.
std::vector<double> sample_currents(const train::Dataset& data, std::size_t k, double input_mean_A);

/// Evaluates every sample of `data`. Failures of single samples are recorded, never thrown.
/// Throws InputError on shape mismatches (data features vs input layer, classes vs output layer).
EvalResult evaluate_chip(const sim::NetworkChip& chip, const netlist::WeightCodes& weights, const train::Dataset& data,
                         const EvalOptions& options);

/// The conditioning of an evaluation's outputs from its error estimates (empty when it has none).
Conditioning conditioning(const EvalResult& r, double rel = 5e-3, double floor_A = 20e-12);
/// One line on stderr when some output's estimate exceeds the bound ("WARNING" when a class could change).
void report_conditioning(const Conditioning& c, const std::string& what);

/// Writes outputs.npy (samples x outputs), predicted.npy, labels.npy, confusion.csv into `dir`.
void write_eval_outputs(const EvalResult& r, int n_classes, const std::string& dir);

/// Agreement of two evaluations of the same chip, weights and samples (e.g. decomposed vs full netlist), output
/// current by output current: tolerance rel·|I_ref| + floor (docs/dc_engine.md: 0.5 % + 20 pA).
struct Fidelity {
  std::size_t samples = 0, compared = 0;   ///< samples in both / with finite currents in both
  std::size_t same_class = 0;
  double worst_ratio = 0;                  ///< max |I - I_ref| / tolerance (<= 1: every current within the bound)
  double max_rel_error = 0;                ///< max |I - I_ref| / |I_ref| over currents with |I_ref| > floor
  double max_abs_error_A = 0;
  std::size_t worst_sample = 0, worst_output = 0;
  double rel = 0, floor_A = 0;
  std::size_t outside = 0;          ///< output currents outside the tolerance
  std::size_t outside_flagged = 0;  ///< of those, how many the engine's own error estimate covers (estimate >= error)
  bool within() const { return samples > 0 && compared == samples && worst_ratio <= 1 && same_class == compared; }
  nlohmann::json to_json() const;
};
/// Compares `r` with the outputs.npy / predicted.npy / labels.npy of the evaluation in `reference_dir`.
/// Throws InputError naming the file when the reference is missing, unreadable, of another shape or of other samples.
Fidelity compare_with_reference(const EvalResult& r, const std::string& reference_dir, double rel = 5e-3, double floor_A = 20e-12);

}  // namespace nnspice::evaluate

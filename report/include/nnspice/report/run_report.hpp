// The report of `nnspice run` (report.md + report.html): the stages' results read into typed values, one
// reader per stage kind, then laid out as a Document (document.hpp). docs/report.md lists what it shows.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "nnspice/report/document.hpp"

namespace nnspice::report {

/// What the run planned for one experiment (from its config).
struct ExperimentPlan {
  std::string name, dataset, layers;
  std::string chip_model;  ///< "per-neuron" or "per-synapse, codes …"
  std::uint64_t chip_seed = 0;
  long long chips = 1;
  std::string dir;  ///< OUT/name
  /// Folder of chip k: `dir` itself for a single chip, else dir/chip_k.
  std::string chip_dir(long long k) const;
};

/// mean ± sd and quantiles of a per-pattern quantity (NaN where a stage did not record it).
struct Stat {
  double mean = std::numeric_limits<double>::quiet_NaN(), sd = mean, p05 = mean, p50 = mean, p95 = mean, min = mean, max = mean;
  long n = 0;
};

struct ChipAccuracy {
  std::uint64_t seed = 0;
  /// ideal model · chip model with ideal weights · chip model with chip-aware weights · circuit with ideal
  /// weights · circuit with chip-aware weights (fractions; NaN when that stage did not run)
  std::array<double, 5> accuracy{};
  long circuit_samples = 0;
};

/// characterize's per-layer spread: slopes normalised to mean 1, negative-weight gains.
struct LayerCalibration {
  int layer = 0;
  long neurons = 0;
  Stat slope, negative_gain;
  double slope_fit_rel_rms = std::numeric_limits<double>::quiet_NaN();
};

/// dynamics per input level.
struct DynamicsLevel {
  double mean_input_A = 0;
  long patterns = 0, failed = 0;
  double accuracy_asymptotic = std::numeric_limits<double>::quiet_NaN(), reached_fraction = accuracy_asymptotic;
  Stat time_to_output_s, energy_per_op_pJ, efficiency_TOp_per_J, power_W;
  double efficiency_window_TOp_per_J = std::numeric_limits<double>::quiet_NaN();
};

/// A native-engine self-audit (docs/dc_engine.md).
struct Audit {
  std::string stage;
  long synapses = 0;
  double worst_over_bound = std::numeric_limits<double>::quiet_NaN();
  bool within_bound = false;
  std::string worst_at;
};

struct StageTime {
  std::string stage;  ///< relative to the run folder
  double wall_s = 0;
};

struct ExperimentResults {
  ExperimentPlan plan;
  std::vector<ChipAccuracy> chips;
  std::vector<LayerCalibration> calibration;  ///< chip 0
  std::string dynamics_method;
  long operations_per_pattern = 0;
  std::vector<DynamicsLevel> dynamics;  ///< chip 0
  std::vector<Audit> audits;            ///< chip 0's stages
  std::vector<StageTime> times;
  /// mean, sd, n over chips of each accuracy column (NaN-free chips only)
  std::array<Stat, 5> accuracy_over_chips{};
};

/// Reads every stage folder of an experiment (missing stages leave NaN / empty entries; a stage's summary
/// that is not JSON counts as missing).
ExperimentResults read_experiment(const ExperimentPlan& plan, const std::string& run_dir);

struct RunInfo {
  std::string config_source;  ///< where the config came from (a file or "embedded default")
  std::string config_text;    ///< config.yaml as run
  std::string run_dir;
  double wall_s = 0;
  std::string nnspice_version, ngspice_version, host, time_utc, command_line;
};

/// The report: per experiment accuracy, calibration spread, time to output and energy, audits and stage
/// times; then the comparison with Binas et al. and the config, seeds and versions. Figure paths are
/// relative to `info.run_dir`.
Document run_report(const RunInfo& info, const std::vector<ExperimentResults>& experiments);

/// Writes run_dir/report.md and run_dir/report.html (self-contained).
void write_run_report(const RunInfo& info, const std::vector<ExperimentResults>& experiments);

}  // namespace nnspice::report

// The paper's pattern-switch experiment over many patterns (circuits.md §6): for each pattern under
// test, settle on another pattern, switch, simulate (switch_sim.hpp), measure time to output and
// energy (metrics.hpp), checkpoint the pattern's result, and summarise the distributions. One call =
// one input level (e.g. 15 nA mean input); the figures that compare levels are in figures.hpp.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "nnspice/common/exchange.hpp"
#include "nnspice/dynamics/switch_sim.hpp"
#include "nnspice/sim/parallel.hpp"

namespace nnspice::dynamics {

struct ExperimentConfig {
  sim::NetworkChip chip;
  netlist::WeightCodes weights;
  std::vector<std::vector<double>> patterns_A;  ///< patterns under test, N0 input currents each (A)
  std::vector<int> labels;                      ///< empty, or the class of each pattern (for accuracy)
  std::vector<std::size_t> from;                ///< index of the pattern settled on before each switch
  SwitchOptions sw;
  double window_s = 15e-6;                      ///< evaluation window ("correct within window_s")
  sim::ParallelOptions parallel;                ///< workers and per-pattern timeout
  std::string out_dir;                          ///< where per-pattern checkpoints and tables go
  bool resume = false;                          ///< reuse finished patterns' checkpoints in out_dir/patterns
  std::size_t figure_pattern = 0;               ///< pattern whose unit traces are kept (Fig. 3); SIZE_MAX = none
  std::size_t energy_curve_points = 60;         ///< run-time grid of the energy-per-op curve (Fig. 4)
  bool progress = true;
  std::string name;                             ///< e.g. "15nA" (labels and messages)
  /// MPI ranks: the patterns to simulate are dealt out round robin and the records exchanged, so every rank
  /// returns the whole result; rank 0 decides what a --resume keeps and writes the tables.
  Exchange exchange;
};

/// What one pattern gave.
struct PatternRecord {
  std::size_t index = 0, from = 0;
  bool ok = false;
  std::string error;              ///< why the simulation failed (e.g. ngspice's "timestep too small")
  int label = -1;
  double mean_input_A = 0;
  SwitchMeasures m;
  long time_points = 0, newton_iterations = 0;
  double transients = 0, wall_s = 0;
  std::vector<double> energy_curve_J;  ///< supply energy at each run time of ExperimentResult::run_time_s
};

struct ExperimentResult {
  std::vector<PatternRecord> records;
  std::vector<double> run_time_s;       ///< grid of the energy curves
  nlohmann::json summary;               ///< means, sds, percentiles, fractions (also in summary.json)
  std::vector<double> fig_time_s;       ///< Fig. 3 traces of figure_pattern (empty when not kept)
  std::vector<std::vector<std::vector<double>>> fig_units_A;
  std::vector<std::vector<double>> fig_output_A;
};

/// Runs every pattern (in parallel workers), writes out_dir/patterns/<k>.json per pattern as it
/// finishes, then out_dir/patterns.csv + patterns.npy (one row per pattern), energy_curves.npy,
/// fig3_traces.csv. Failed patterns are recorded with their error; the run goes on.
ExperimentResult run_experiment(const ExperimentConfig& config);

/// Summary of records (exposed for tests): statistics of time to output, energies, power, TOp/J.
nlohmann::json summarise(const std::vector<PatternRecord>& records, std::size_t ops, double window_s, double vdd_V);

/// The column names of patterns.csv / patterns.npy.
std::vector<std::string> pattern_columns();

}  // namespace nnspice::dynamics

// Figures of the pattern-switch experiment (paper Fig. 3 and 4), each DIR/NAME.png + DIR/NAME.svg with its
// script and data (.gp, .dat) in DIR/figures/ (nnspice::write_figure); when gnuplot is missing or fails it
// warns on stderr and keeps the data. Times in s and currents in A on input (plotted in us / nA / uW / pJ).
#pragma once

#include <string>
#include <vector>

namespace nnspice::dynamics {

/// Fig. 3: soma input currents of every hidden and output unit after a switch, one panel per layer.
/// units[l][i][t] for layers 1..L-1 (the last one = outputs). Returns false when no image was made.
bool plot_unit_traces(const std::string& dir, const std::string& name, const std::vector<double>& time_s,
                      const std::vector<std::vector<std::vector<double>>>& units_A, const std::string& title);

/// One input level's per-pattern results.
struct LevelSeries {
  std::string name;                       ///< e.g. "15 nA"
  std::vector<double> tto_s;              ///< time to output per pattern (reached ones)
  std::vector<double> power_W;            ///< average power to output, same patterns
  std::vector<double> energy_tto_J;       ///< energy to output, same patterns
  std::vector<double> run_time_s;         ///< run-time grid of the energy curves
  std::vector<double> curve_mean_J, curve_sd_J;  ///< energy at each run time: mean and sd over patterns
};

/// Fig. 4 (left): time to output vs average power, histograms on both axes, one colour per level.
bool plot_tto_vs_power(const std::string& dir, const std::string& name, const std::vector<LevelSeries>& levels, const std::string& title);
/// Fig. 4 (right): energy per operation vs run time per pattern (mean +- sd over patterns) and each
/// pattern's (time to output, energy to output / ops) point.
bool plot_energy_vs_runtime(const std::string& dir, const std::string& name, const std::vector<LevelSeries>& levels, double ops,
                            const std::string& title);

}  // namespace nnspice::dynamics

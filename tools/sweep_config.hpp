// The config of `nnspice sweep` (YAML; docs/sweep.md): the base run settings, one experiment of `nnspice run`, and
// the axes of the grid. parse_sweep() validates everything before any work (split from cmd_sweep.cpp so the fuzz
// target tests/fuzz/fuzz_sweep_config.cpp exercises exactly the parser the command uses).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "run_config.hpp"

namespace nnspice::tools {

inline constexpr std::size_t kMaxSweepPoints = 1000;
inline constexpr std::size_t kMaxValuesPerAxis = 100;
inline constexpr std::size_t kMaxSweepChips = 100000;  ///< points x experiment.chips

/// An axis a sweep may vary: its name, what a point changes, and its numeric bounds (inclusive; text axes: none).
struct AxisRule {
  const char* name;
  const char* meaning;
  double lo, hi;
  bool text;
};
/// Every axis, in the order `--help` lists them.
const std::vector<AxisRule>& sweep_axes();

struct Axis {
  std::string name;
  std::vector<std::string> text;  ///< every value as written (numbers too: the CSV column)
  std::vector<double> number;     ///< numeric axes
};

struct Sweep {
  RunConfig run;         ///< base: out, process, jobs, corner (no experiments)
  Experiment base;       ///< `experiment`: a point before its axis values
  double target = 0.96;  ///< yield target (fraction)
  std::vector<Axis> axes;
  std::string source, text;
};

/// Parses and validates a sweep config (`file` = its name, for messages). Throws InputError naming file:line.
Sweep parse_sweep(const std::string& text, const std::string& file);

}  // namespace nnspice::tools

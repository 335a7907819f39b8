// Running a `nnspice run` config in this process (cmd_run.cpp): the stages, the report, and the typed results of
// an experiment. `nnspice run` and `nnspice sweep` (which builds a run config of one experiment per grid point) use it.
#pragma once

#include <string>

#include "nnspice/report/run_report.hpp"
#include "run_config.hpp"

namespace nnspice::tools {

/// What a run did: stages that failed (their groups' later stages skipped) and its wall time.
struct RunOutcome {
  int failed = 0;
  double wall_s = 0;
};
/// Runs every stage of `cfg` into cfg.out (--resume: finished stages are kept, see cmd_run.cpp), then writes
/// summary.json, report.md and report.html there. Throws InputError before any work for a bad config or data.
RunOutcome execute_run(const RunConfig& cfg, bool resume);
/// Prints every stage of `cfg` and its command (run --dry-run).
void print_plan(const RunConfig& cfg);

/// The stages' results of experiment `x` of a run in `out` (missing stages: NaN / empty), as the report reads them.
report::ExperimentResults read_experiment_results(const Experiment& x, const std::string& out);

}  // namespace nnspice::tools

// Checkpointed DC operating points of a chip: batches (one weight configuration, several input vectors)
// go to a sim::NetworkDcSolver; each finished operating point is appended to an op log (JSON lines) as
// soon as it is known, keyed by a hash of (chip, process, solver method, weights, inputs), so a rerun
// with --resume takes finished points from the log instead of simulating them again. Currents in A.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "nnspice/common/exchange.hpp"
#include "nnspice/netlist/network.hpp"
#include "nnspice/sim/network_dc.hpp"

namespace nnspice {
class Progress;
}

namespace nnspice::measure {

/// The result of one operating point (fresh or from the log).
struct OpRecord {
  bool ok = false;
  bool from_log = false;      ///< taken from the checkpoint instead of simulated
  std::string error;
  sim::LayerCurrents currents;  ///< currents[l][i]: input current of neuron i of layer l (probe VX<l>_<i>)
  long newton_iterations = 0;
};

/// One weight configuration and the input vectors to solve it for (one operating point each).
struct OpBatch {
  netlist::WeightCodes weights;
  std::vector<std::vector<double>> inputs;
};

/// Append-only log of finished operating points ("ops.jsonl": one JSON object per line). A line cut short
/// by a killed process is ignored on reading; doubles are written in shortest round-trip form, so a
/// resumed run sees bit-identical currents.
class OpLog {
 public:
  /// Opens `path`. resume = false: the file is truncated; true: its finished points are loaded.
  OpLog(std::string path, bool resume);
  ~OpLog();
  OpLog(const OpLog&) = delete;
  OpLog& operator=(const OpLog&) = delete;

  const OpRecord* find(std::uint64_t key) const;
  void append(std::uint64_t key, const OpRecord& record);
  std::size_t size() const { return records_.size(); }
  std::size_t ignored_lines() const { return ignored_lines_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::unordered_map<std::uint64_t, OpRecord> records_;
  std::size_t ignored_lines_ = 0;
};

/// "full" -> sim::make_full_netlist_solver (one ngspice `op` of the whole netlist per point); "decomposed" ->
/// engine::make_decomposed_solver (ngspice tables per soma/synapse + Kirchhoff per neuron; `cache_dir` keeps its
/// tables for a resumed run, "" = none). Anything else -> InputError naming the option.
std::unique_ptr<sim::NetworkDcSolver> make_solver(const std::string& method, const sim::NetworkChip& chip,
                                                  const sim::ParallelOptions& options, const std::string& cache_dir = {},
                                                  bool progress = true);

struct RunnerOptions {
  std::string method = "full";  ///< "full" | "decomposed"
  int workers = 2;              ///< worker processes of the solver
  std::string log_path;         ///< checkpoint file; empty = no checkpoint
  bool resume = false;          ///< take finished points from an existing log
  bool progress = true;         ///< progress line with ETA on stderr
  std::string table_cache_dir;  ///< decomposed solver: where its tables are kept for a resumed run ("" = nowhere)
  /// MPI ranks (mpirun -np K): every rank makes the same run() calls; the batches still to solve are dealt out
  /// round robin, their results exchanged, so every rank returns the same records as one process. Rank 0 alone
  /// reads and writes the log.
  Exchange exchange;
};

/// Counters over all run() calls.
struct RunnerStats {
  std::size_t ops_total = 0, ops_simulated = 0, ops_from_log = 0, ops_failed = 0;
  long newton_iterations = 0;  ///< of the simulated operating points
  double wall_s = 0;           ///< inside run()
};

class OpRunner {
 public:
  /// Makes the solver of options.method for `chip`.
  OpRunner(const sim::NetworkChip& chip, const RunnerOptions& options);
  /// Uses a given solver (tests, other engines); options.method is ignored except for the op keys.
  OpRunner(std::unique_ptr<sim::NetworkDcSolver> solver, const sim::NetworkChip& chip, const RunnerOptions& options);
  ~OpRunner();
  /// Solves every batch; result[b][k] belongs to batches[b].inputs[k]. Failures are per point, never thrown.
  std::vector<std::vector<OpRecord>> run(const std::vector<OpBatch>& batches, const std::string& label);
  const RunnerStats& stats() const { return stats_; }
  std::string method() const;
  /// Solver-specific counters (decomposed: table sweep jobs, sweep points, their Newton iterations); {} for full.
  nlohmann::json solver_details() const;
  /// Native engine: the self-audit (engine::DecomposedSolver::audit) on `weights`, reported on stderr and
  /// returned as JSON; null for the other solvers.
  nlohmann::json engine_audit(const netlist::WeightCodes& weights, std::size_t per_layer);
  /// Key of one operating point (exposed for tests).
  std::uint64_t key(const netlist::WeightCodes& weights, const std::vector<double>& inputs) const;

 private:
  struct Hook;
  void init(const sim::NetworkChip& chip);
  /// Solves the points `missing` of batch b into out (logs them on rank 0); returns how many were counted for progress.
  void solve_batch(const OpBatch& batch, const std::vector<std::uint64_t>& keys, const std::vector<std::size_t>& missing,
                   std::vector<OpRecord>& out, Progress& progress);
  std::vector<std::vector<OpRecord>> run_distributed(const std::vector<OpBatch>& batches, const std::string& label);
  std::string context_;
  std::size_t n_layers_;
  std::shared_ptr<Hook> hook_;
  std::unique_ptr<OpLog> log_;
  std::unique_ptr<sim::NetworkDcSolver> solver_;
  RunnerOptions options_;
  RunnerStats stats_;
};

}  // namespace nnspice::measure

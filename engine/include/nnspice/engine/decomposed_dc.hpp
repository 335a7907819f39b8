// The decomposed DC engine (docs/dc_engine.md): the full-netlist ngspice operating point of a network
// chip, computed from the circuits' structure. MOS gates draw no DC current, so a soma's node voltages
// depend only on its own input current, and a synapse's output current only on its pre-neuron's input
// node voltage V_pre and its post-neuron's input node voltage V_post. ngspice (model card, this chip's
// threshold shifts) tabulates, once per chip and weight code:
//   - every soma: I_in(V) on a fine grid (M0's I-V, the soma input current at input node voltage V);
//   - every synapse: I_syn(V_pre, V_post) on a 2-D grid, by nested DC sweeps of chunks of synapses whose
//     pre-somas are driven by voltage sources and whose outputs are held at V_post by 0 V probes.
// An operating point is then Kirchhoff's current law per neuron, layer by layer: find V with
// I_in,j(V) = sum_i I_syn,ji(V_i, V) (monotone, bracketed root), I_j = I_in,j(V). Units: V, A.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "nnspice/engine/device_tables.hpp"
#include "nnspice/sim/network_dc.hpp"

namespace nnspice::engine {

using sim::DcOutcome;
using sim::NetworkChip;
using sim::NetworkDcSolver;
using sim::ParallelOptions;

/// How the synapse port tables I_syn(V_pre, V_post) are computed.
enum class SynapseTables {
  native,  ///< device tables + a damped Newton per synapse block (docs/dc_engine.md "The native engine"; default)
  ngspice  ///< nested ngspice DC sweeps of chunks of synapses (the reference method)
};
const char* synapse_tables_name(SynapseTables m);

/// Relative error of one synapse's current in the native engine against ngspice, as the error estimate
/// (DcOutcome::error_estimate) assumes it, independently per synapse: with it the estimate covered every output
/// error above 0.2 of the bound on 4-7-3 and 20-10-5, both cards, 1 nA..3 uA, A_VT and 3 x A_VT (docs/dc_engine.md
/// "Ill-conditioned outputs").
inline constexpr double kSynapseRelativeError = 1e-3;

struct DecomposedOptions {
  SynapseTables synapse_tables = SynapseTables::native;
  /// The native method's device tables: grid, cache folder (default_cache_dir() unless set), progress.
  DeviceTableOptions device_tables{TableGrid{}, default_cache_dir(), {}, true};
  double v_min_V = -0.10;        ///< lowest node voltage tabulated
  double v_max_V = 0.74;         ///< highest (input currents up to ~10 uA with the default card)
  double soma_step_V = 0.005;    ///< soma I(V) grid step
  double pre_step_V = 0.03;      ///< synapse table step in V_pre
  double post_step_V = 0.025;    ///< synapse table step in V_post (the nFET sinks collapse below ~0.1 V)
  /// Code-0 synapses (all switches off: only leakage, ~0.1 % of a unit synapse) are swept on a V_pre grid
  /// this many times coarser and resampled (Catmull-Rom) onto the common grid: half the ngspice points
  /// for the tables that dominate characterisation, with no measurable loss (docs/dc_engine.md). 1 = off.
  std::size_t zero_code_pre_coarsening = 2;
  std::size_t synapses_per_job = 1500;  ///< synapses per ngspice sweep job (memory and parallelism)
  ParallelOptions parallel;      ///< worker processes for the table sweeps
  std::string cache_dir;         ///< if set: finished table jobs are stored here and reused (resume)
  bool progress = true;          ///< progress with ETA on stderr while tabulating
  /// Distributed tabulation (MPI): when set, only chunks with chunk_owner(chunk) == true are computed
  /// here; the others must arrive through import_tables() before solve().
  std::function<bool(std::size_t chunk)> chunk_owner;
};

/// Statistics of the tables built so far.
struct DecomposedStats {
  std::size_t sweep_jobs = 0;          ///< ngspice DC sweep jobs run (not counting cache hits)
  std::size_t cached_jobs = 0;         ///< jobs loaded from the cache
  std::size_t sweep_points = 0;        ///< operating points solved by ngspice inside the sweeps
  long newton_iterations = 0;          ///< Newton iterations of those sweeps
  std::size_t synapse_tables = 0;      ///< (synapse, code) tables held
  double tabulate_s = 0;               ///< wall time spent tabulating
  double solve_s = 0;                  ///< wall time spent in Kirchhoff solves
  std::size_t solves = 0;              ///< operating points solved from tables
  // The native method:
  std::size_t native_points = 0;       ///< synapse operating points solved natively
  long native_newton_iterations = 0;   ///< their Newton iterations
  long device_evals = 0;               ///< table-device evaluations
  DeviceTableStats device_tables;      ///< build (or cache load) of the device tables
};

/// The statistics as written to summary.json (one place for every command), with the process's peak memory.
nlohmann::json to_json(const DecomposedStats& stats, SynapseTables method);
/// Peak resident memory of this process so far (MB; getrusage).
double peak_memory_MB();

class DecomposedSolver final : public NetworkDcSolver {
 public:
  DecomposedSolver(const NetworkChip& chip, DecomposedOptions options);
  ~DecomposedSolver() override;
  std::string method() const override { return "decomposed"; }
  std::vector<DcOutcome> solve(const netlist::WeightCodes& weights, const std::vector<std::vector<double>>& inputs) override;

  /// Makes sure tables exist for every synapse at the codes in `weights` (solve() calls this).
  void tabulate(const netlist::WeightCodes& weights);
  /// One synapse at one code.
  struct SynapseRef {
    std::size_t layer, post, pre;
    int code;
  };
  /// Makes sure tables exist for the listed synapses (tabulate() lists a whole weight set).
  void tabulate_synapses(const std::vector<SynapseRef>& list);
  /// Self-audit of the native tables: a seeded sample of `per_layer` synapses per weight layer, at their
  /// codes in `weights`, tabulated again by ngspice sweeps (the reference method) and compared at every
  /// grid point. Nothing to audit (done = false) with the reference method itself.
  struct Audit {
    bool done = false;
    std::size_t synapses = 0, points = 0;
    double worst_ratio = 0;  ///< max |native - ngspice| / (0.5 % |ngspice| + 20 pA)
    double worst_relative = 0;  ///< max relative error where |I| > 1 nA
    std::string worst_where;
    double seconds = 0;
    bool within_bound() const { return worst_ratio <= 1.0; }
  };
  Audit audit(const netlist::WeightCodes& weights, std::size_t per_layer = 20, std::uint64_t seed = 1);
  /// Tabulates every synapse of every layer at each of `codes` (e.g. {0, 7, -7} for characterisation).
  void tabulate_codes(const std::vector<int>& codes);
  /// Output current of synapse (layer, post, pre) at `code` for pre/post input-node voltages (A); tables must exist.
  double synapse_current(std::size_t layer, std::size_t post, std::size_t pre, int code, double v_pre_V, double v_post_V) const;
  /// Soma input current of neuron (layer, i) at input-node voltage v (A).
  double soma_current(std::size_t layer, std::size_t i, double v_V) const;
  /// Input-node voltage at which neuron (layer, i) draws current i_A.
  double soma_voltage(std::size_t layer, std::size_t i, double i_A) const;

  // Quasi-static soma curves for the tabulated transients (dynamics/), all at DC with the soma's input
  // node at v (tables exist after the first tabulate()). Axon somas (not the output layer):
  double soma_vp(std::size_t layer, std::size_t i, double v_V) const;     ///< Vp node voltage (V)
  double soma_vn(std::size_t layer, std::size_t i, double v_V) const;     ///< Vn node voltage (V)
  double soma_i_m2(std::size_t layer, std::size_t i, double v_V) const;   ///< M1/M2 branch current from VDD (A)
  double soma_i_m3(std::size_t layer, std::size_t i, double v_V) const;   ///< M3/M4 branch current from VDD (A)
  /// Output layer: the readout sink's current from VDD (A).
  double sink_current(std::size_t j, double v_V) const;

  /// Synapse table pointers of one weight set (after tabulate()); valid while the solver lives.
  struct Bound {
    std::vector<std::vector<const float*>> table;  ///< [layer][post * n_pre + pre]
    std::vector<std::vector<signed char>> negative;  ///< [layer][post * n_pre + pre]: code < 0
  };
  Bound bind(const netlist::WeightCodes& weights) const;
  /// The V_post grid of the synapse tables.
  std::size_t post_points() const;
  double post_voltage(std::size_t k) const;
  /// Total synaptic current into every post-neuron of weight layer `layer` on the V_post grid,
  /// S[post * post_points() + k], with the pre-neurons at input-node voltages v_pos (seen by synapses of
  /// code >= 0, which mirror Vp) and v_neg (code < 0, which mirror Vn). At DC v_pos = v_neg = V_pre; in a
  /// transient they are the DC-equivalent voltages of the pre-neuron's lagging Vp and Vn.
  /// With `rows` (2 per post-neuron: first and last grid index, inclusive), only those grid points are computed
  /// (the others are set to NaN): a transient whose node moves little per step needs a few points only.
  void layer_input_curves(const Bound& bound, std::size_t layer, const double* v_pos, const double* v_neg, double* S,
                          const std::size_t* rows = nullptr) const;
  /// Grid interval of V_post (the index k with v_k <= v < v_{k+1}, clamped to the grid).
  std::size_t post_interval(double v_V) const;
  /// Current drawn from VDD by the synapses of weight layer `layer` with code > 0 (they source their
  /// current from VDD; negative ones sink into ground), pre-neurons at v_pos, post input nodes at v_post.
  double layer_supply_current(const Bound& bound, std::size_t layer, const double* v_pos, const double* v_post) const;
  /// Estimated error of the summed synaptic input of each post-neuron of weight layer `layer` (A), pre-neurons at
  /// input-node voltages v_pre (relative errors rel_pre of their currents), posts at v_post: the root sum of squares of
  /// |I_syn| * sqrt(kSynapseRelativeError^2 + rel_pre^2) over the synapses (independent errors).
  void layer_input_error(const Bound& bound, std::size_t layer, const double* v_pre, const double* v_post, const double* rel_pre,
                         double* out) const;
  /// Catmull-Rom interpolation of one post-neuron's curve (post_points() values) at v.
  double post_interpolate(const double* curve, double v_V) const;
  const DecomposedStats& stats() const { return stats_; }
  /// Tables computed or imported so far, serialised (for exchanging between MPI ranks); import merges.
  std::string export_tables() const;
  void import_tables(const std::string& bytes);
  const DecomposedOptions& options() const { return options_; }
  const NetworkChip& chip() const { return chip_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  NetworkChip chip_;
  DecomposedOptions options_;
  DecomposedStats stats_;
};

std::unique_ptr<NetworkDcSolver> make_decomposed_solver(const NetworkChip& chip, const DecomposedOptions& options);

/// The audit as written to summary.json ("engine_audit").
nlohmann::json to_json(const DecomposedSolver::Audit& audit);
/// Prints the audit's one-line verdict on stderr: a loud warning when it exceeds the bound.
void report_audit(const DecomposedSolver::Audit& audit, const std::string& what);

}  // namespace nnspice::engine

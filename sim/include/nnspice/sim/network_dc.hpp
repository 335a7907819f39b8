// DC operating points of a whole network chip (network + process + mismatch draw) for given weight
// codes and input currents: the interface that measurement (characterize) and evaluation use.
// Two implementations: the reference full-netlist ngspice operating point, and the decomposed
// engine (decomposed_dc.hpp) that exploits the circuits' structure. Currents in A.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nnspice/mismatch/chip.hpp"
#include "nnspice/netlist/network.hpp"
#include "nnspice/netlist/process.hpp"
#include "nnspice/sim/parallel.hpp"

namespace nnspice::sim {

struct NetworkChip {
  netlist::NetworkSpec spec;
  netlist::Process process;
  mismatch::Chip chip;
};

/// Soma input currents (the 0 V probe VX<l>_<i>) of every neuron: currents[l][i], in A.
using LayerCurrents = std::vector<std::vector<double>>;

struct DcOutcome {
  bool ok = false;
  std::string error;          ///< why the operating point failed (non-convergence, ...)
  LayerCurrents currents;
  long newton_iterations = 0;
  /// The decomposed engine's own error estimate per neuron (same shape as `currents`, A; empty from the
  /// full netlist, which is the reference): a neuron whose input is a small difference of large synaptic
  /// currents inherits the tables' relative error of those currents (docs/dc_engine.md "Ill-conditioned outputs").
  LayerCurrents error_estimate;
};

class NetworkDcSolver {
 public:
  virtual ~NetworkDcSolver() = default;
  /// One operating point per input vector (N0 currents each, >= 0). Failures are per input, never thrown.
  virtual std::vector<DcOutcome> solve(const netlist::WeightCodes& weights, const std::vector<std::vector<double>>& inputs) = 0;
  /// "full-netlist" or "decomposed".
  virtual std::string method() const = 0;
};

/// Reference: the whole netlist through ngspice's `op`, one job per input, over worker processes.
std::unique_ptr<NetworkDcSolver> make_full_netlist_solver(const NetworkChip& chip, const ParallelOptions& options);

}  // namespace nnspice::sim

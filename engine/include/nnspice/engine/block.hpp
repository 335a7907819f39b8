// Blocks (docs/dc_engine.md "The native engine"): a typed circuit's MOSFETs partitioned into
// channel-connected blocks — nodes joined through drains and sources, never through gates — with the
// nodes held by the caller ("fixed": supplies, swept or driven nodes) as the cut. A block's unknowns are
// its internal node voltages; its ports are the fixed nodes it touches and the other blocks' nodes its gates
// sit on. Gate-only dependencies give the evaluation order. A block is solved at DC by a damped Newton
// on its device tables (KCL at every unknown node), warm-started by the caller along sweeps.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "nnspice/engine/device_tables.hpp"
#include "nnspice/netlist/circuit.hpp"

namespace nnspice::engine {

struct BlockDevice {
  std::string name;     ///< the element's name in the circuit
  std::size_t cls = 0;  ///< device-table class
  int node[4] = {0, 0, 0, 0};  ///< d g s b: index < n_unknowns = unknown, else n_unknowns + port index
  double delvto_V = 0;
};

struct Block {
  std::vector<std::string> unknowns;  ///< internal node names
  std::vector<std::string> ports;     ///< port node names (fixed nodes and gate inputs from other blocks)
  std::vector<BlockDevice> devices;
  /// Index of a port by node name; throws std::logic_error when absent.
  std::size_t port(const std::string& node) const;
};

struct Partition {
  std::vector<Block> blocks;
  std::vector<std::size_t> order;  ///< evaluation order: every block after the blocks driving its gates
};

/// Partitions the MOSFETs of `circuit` (other elements are ignored: at DC the caller's fixed nodes stand
/// for the sources; the process maps model names to polarities). Throws InputError naming the element and
/// node for a floating gate (a gate on a node no channel and no fixed node drives), a model or size the
/// tables do not hold, or a loop of gate dependencies between blocks.
Partition partition(const netlist::Circuit& circuit, const std::vector<std::string>& fixed, const DeviceTables& tables,
                    const netlist::Process& process);

struct NewtonOptions {
  /// Converged when every update is below this. The solution's own error is second order in the last update
  /// (quadratic convergence) and the port currents are corrected to it along their partials: on a 196-50-10
  /// chip's 12.0 M synapse-table points, 1e-6 V gave tables within 1.5e-5 of (0.5 % + 20 pA) of 1e-10 V's with
  /// 22 % fewer iterations (1e-4 V: 0.02 of the bound).
  double tol_V = 1e-6;
  double max_step_V = 0.1;  ///< damping: no node moves more than this per iteration
  int max_iterations = 200;
  /// Homotopy aid (gmin stepping): a conductance from every unknown node to `shunt_to_V[k]` (S; 0 = none).
  double shunt_S = 0;
  const double* shunt_to_V = nullptr;
};

struct NewtonResult {
  bool converged = false;
  bool in_range = true;  ///< every device of the solution inside its table
  int iterations = 0;
  long device_evals = 0;
};

/// Solves KCL at the block's unknown nodes for port voltages `ports` (V), starting from and writing `x`
/// (the unknowns' voltages, V). Never throws for non-convergence: see the result. With `port_out`, the
/// currents into the block at each port (A) from the last Newton evaluation, which lies within `tol_V` of the
/// solution (and `in_range` likewise).
NewtonResult solve_block(const Block& block, const DeviceTables& tables, const double* ports, double* x, const NewtonOptions& options = {},
                         double* port_out = nullptr);
/// solve_block from a state where it fails (e.g. heavy mismatch with every mirror off): gmin stepping, a shunt from
/// every unknown to its start value from 1e-3 S down to below 1e-16 S (10x per step; after a failed step back to the
/// last solved state with a smaller step), each solve warm-started by the last, then the plain solve. The counts add
/// up over all steps.
NewtonResult solve_block_homotopy(const Block& block, const DeviceTables& tables, const double* ports, double* x, const NewtonOptions& options = {},
                                  double* port_out = nullptr);

/// The first device outside its table at (ports, x), as "M17_0_1_2: V_GS = ..., V_DS = ..., V_SB = ... V (table: ...)";
/// "" when all are inside.
std::string out_of_range_device(const Block& block, const DeviceTables& tables, const double* ports, const double* x);

}  // namespace nnspice::engine

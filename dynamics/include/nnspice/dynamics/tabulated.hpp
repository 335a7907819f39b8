// The tabulated transient engine (docs/dynamics.md, "tabulated"): the pattern-switch transient of a chip
// computed from the decomposed DC engine's ngspice tables (sim/decomposed_dc.hpp) plus node capacitances
// calibrated from ngspice, instead of integrating every BSIM3 device.
//
// State per neuron: the soma input node voltage V_g and, for somas with an axon, the Vp and Vn nodes.
// MOS gates draw no DC current and the network is feed-forward, so each node is a scalar ODE driven by
// nodes upstream of it:
//   C_g dV_g/dt = sum_i I_syn,i(V_pre,i, V_g) - I_M0(V_g)          (input layer: I_in(t) - I_M0(V_g))
//   C_p dV_p/dt = I_M2(V_p) - I_M1(V_g)                             (M2: diode to VDD; M1 mirrors M0)
//   C_n dV_n/dt = I_M3(V_p) - I_M4(V_n)
// Every current is the quasi-static DC current from this chip's ngspice tables (its ΔVT included):
// I_M2(V_p) is the M1/M2 branch current at the input-node voltage whose DC Vp equals V_p (the
// "equivalent" voltage g_p), I_M1(V_g) the same branch at V_g; likewise for M3/M4 with g_n. A synapse
// sees its pre-neuron through Vp (code >= 0) or Vn (code < 0) only, so its current is its DC table at
// the equivalent voltage g_p or g_n. Capacitances: the routing parasitics (11 fF per synapse) plus device
// charge per synapse and code (gate loads on Vn/Vp, junctions on the output) and per soma node, from
// ngspice ramps of mismatch-free devices (calibrate_node_caps). Integration: BDF2 on a fixed step,
// each node's implicit equation solved in topological order (a monotone scalar root per node).
// Units: s, A, V, F.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "nnspice/dynamics/switch_sim.hpp"
#include "nnspice/engine/decomposed_dc.hpp"

namespace nnspice::dynamics {

/// Device capacitances of the circuits (mismatch-free), from ngspice; the routing parasitics of
/// Process (c_vn_F, c_vp_F, c_out_F) are added on top by the model.
struct NodeCaps {
  GateLoad gate;                   ///< per synapse and code, on its pre-neuron's Vn and Vp (gate charge)
  std::vector<double> out_F = std::vector<double>(15, 0.0);  ///< per synapse and code (index code + K), on its output node: junctions + b_k caps
  double soma_g_F = 0;             ///< soma with axon: input node (M0, M1 gates, M0 drain)
  double soma_p_F = 0;             ///< soma: Vp node (M1 drain, M2, M3 gates)
  double soma_n_F = 0;             ///< soma: Vn node (M3 drain, M4)
  double output_g_F = 0;           ///< output soma (M0) with its readout sink's gate
  /// Coupling (Miller) capacitances between nodes that move together: per synapse and code between its
  /// pre-neuron's Vn (resp. Vp) and its output node (mirror gate-drain overlaps through the on switches);
  /// in a soma between the input node and Vp (M1) and between Vp and Vn (M3). They are also part of the
  /// grounded values above (measured with the other node held); the model adds C_m dV_other/dt.
  std::vector<double> couple_n_F = std::vector<double>(15, 0.0), couple_p_F = std::vector<double>(15, 0.0);
  double soma_gp_F = 0, soma_pn_F = 0;
  int max_code() const { return static_cast<int>(out_F.size() / 2); }
  double out(int code) const { return out_F[static_cast<std::size_t>(code + max_code())]; }
  double cm_n(int code) const { return couple_n_F[static_cast<std::size_t>(code + max_code())]; }
  double cm_p(int code) const { return couple_p_F[static_cast<std::size_t>(code + max_code())]; }
};

/// Calibrates NodeCaps in `session`: gate loads (calibrate_gate_load) and, for the other nodes, a
/// triangular voltage ramp (up, then down) on the node with its neighbours held at mid-range DC values;
/// C = (Q_up - Q_down) / (2 ΔV) cancels the conduction current; a coupling capacitance is the charge a
/// held neighbour's source delivers during the same triangle. Ranges: a nominal soma between
/// options.i_lo_A and options.i_hi_A input current.
NodeCaps calibrate_node_caps(sim::Session& session, const netlist::Process& process, const GateLoadOptions& options = {});

/// A chip's tabulated transient model: its decomposed DC tables (tabulated for the weights in use) and
/// the node capacitances. Immutable once built; forked workers share it.
class TabulatedModel {
 public:
  TabulatedModel(std::shared_ptr<engine::DecomposedSolver> solver, NodeCaps caps);
  /// The switch from pattern A (`from_A`) to B (`to_A`): fixed step `options.t_max_s`, to `options.t_stop_s`.
  /// Initial state = pattern A's operating point from the same tables. Throws NumericalError when a
  /// neuron leaves the tabulated range.
  SwitchTrace simulate(const netlist::WeightCodes& weights, const std::vector<double>& from_A, const std::vector<double>& to_A,
                       const SwitchOptions& options) const;
  const NodeCaps& caps() const { return caps_; }
  engine::DecomposedSolver& solver() const { return *solver_; }

 private:
  std::shared_ptr<engine::DecomposedSolver> solver_;
  NodeCaps caps_;
};

}  // namespace nnspice::dynamics

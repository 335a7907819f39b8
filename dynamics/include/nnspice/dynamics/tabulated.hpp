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
// the equivalent voltage g_p or g_n. Charges: the routing parasitics (11 fF per synapse) plus device
// charge Q(V) per synapse and code (gate loads on Vn/Vp, junctions on the output) and per soma node, from
// ngspice ramps of mismatch-free devices (calibrate_node_caps). Integration: BDF2 on the node charges
// (C dV/dt read as dQ(V)/dt) on a fixed step, each node's implicit equation solved in topological order
// (a monotone scalar root per node).
// Units: s, A, V, F.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "nnspice/dynamics/switch_sim.hpp"
#include "nnspice/engine/decomposed_dc.hpp"

namespace nnspice::dynamics {

/// Charge of a node kind against its voltage, Q(V) = ∫ C(V) dV from v0: one capacitance per grid segment
/// (piecewise-linear charge), extended beyond the grid by the end segments' capacitances. Curves of one node
/// kind share a grid, so a node's total charge (its soma plus every synapse on it) is one curve.
struct ChargeCurve {
  double v0_V = 0, dv_V = 1;
  std::vector<double> c_F;  ///< capacitance per segment [v0 + k dv, v0 + (k+1) dv]
  std::vector<double> q_C;  ///< charge at the grid points (q_C[0] = 0); set by finish()
  void finish();            ///< recomputes q_C from c_F
  double charge(double v) const;
  double capacitance(double v) const;             ///< the segment's capacitance at v
  double mean(double a, double b) const;          ///< ΔQ/ΔV between a and b
  void add(const ChargeCurve& other, double times = 1.0);  ///< same grid required
  void add_constant(double c_F);
  std::vector<double> pack() const;               ///< {v0, dv, c...}
  static ChargeCurve unpack(const double* data, std::size_t n);
};

/// Drain-voltage (Early) slopes of the soma's mirror outputs, d ln I / d V_drain, off the DC trajectory: M1
/// (gate = input node, drain = Vp) against its gate voltage and M3 (gate = Vp, drain = Vn, a pFET: its current
/// falls as Vn rises) against Vp. Mismatch-free, from ngspice operating points of a lone device; linear
/// interpolation between the points, constant beyond them.
struct EarlySlopes {
  std::vector<double> g_V, m1_per_V;  ///< ascending g
  std::vector<double> p_V, m3_per_V;  ///< ascending Vp
  double m1(double g) const;
  double m3(double p) const;
};

/// Device charges of the circuits (mismatch-free), from ngspice; the routing parasitics of Process
/// (c_vn_F, c_vp_F, c_out_F) are added on top by the model. Grounded charges are curves Q(V) over a wide span
/// (0.1× the calibration's lowest to 10× its highest soma current); the coupling capacitances are constants.
struct NodeCaps {
  std::vector<ChargeCurve> out;       ///< per code (index code + K): a synapse's charge on its output node (junctions, b_k caps)
  std::vector<ChargeCurve> gate_n;    ///< per code: a synapse's gate charge on its pre-neuron's Vn
  std::vector<ChargeCurve> gate_p;    ///< per code: on its pre-neuron's Vp
  ChargeCurve soma_g;                 ///< soma with axon: input node (M0, M1 gates, M0 drain)
  ChargeCurve soma_p;                 ///< soma: Vp node (M1 drain, M2, M3 gates)
  ChargeCurve soma_n;                 ///< soma: Vn node (M3 drain, M4)
  ChargeCurve output_g;               ///< output soma (M0) with its readout sink's gate
  /// The calibration span (soma currents options.i_lo_A .. i_hi_A) of each node kind, for reporting means.
  std::array<double, 2> span_g_V{}, span_p_V{}, span_n_V{};
  /// Coupling (Miller) capacitances between nodes that move together: per synapse and code between its
  /// pre-neuron's Vn (resp. Vp) and its output node (mirror gate-drain overlaps through the on switches);
  /// in a soma between the input node and Vp (M1) and between Vp and Vn (M3). They are also part of the
  /// grounded charges above (measured with the other node held); the model adds C_m dV_other/dt with C_m
  /// the curve's ΔQ/ΔV over the calibration span (span_*_V of the gate-side node: Vn, Vp; the soma input node
  /// for input-Vp; Vp for Vp-Vn).
  std::vector<ChargeCurve> couple_n, couple_p;  ///< per code, over the Vn (Vp) grid
  ChargeCurve soma_gp, soma_pn;                 ///< over the input-node (Vp) grid
  EarlySlopes early;                            ///< M1's and M3's drain-voltage dependence (not a charge)
  int max_code() const { return static_cast<int>(out.size() / 2); }
  const ChargeCurve& out_curve(int code) const { return out[static_cast<std::size_t>(code + max_code())]; }
  std::vector<double> pack() const;   ///< flat form for worker results (sim::JobData)
  static NodeCaps unpack(const std::vector<double>& data);
};

/// Calibrates NodeCaps in `session`: for each grounded node kind a triangular voltage ramp (up, then down) on
/// the node with its neighbours held at mid-range DC values (a nominal soma between options.i_lo_A and
/// i_hi_A); per voltage segment C = (Q_up − Q_down) / (2 ΔV) cancels the conduction current. A coupling
/// capacitance is, per segment, the charge a held neighbour's source delivers during the same triangle.
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

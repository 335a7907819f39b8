// SPICE side of the memristor library: (1) the crossbar netlist — row drivers, one conductance per crossing,
// column bottoms held at 0 V by ammeter sources, optional wire resistance per cell segment of every row and
// column wire — built as a typed netlist::Circuit and solved by ngspice through sim::Session (the only code
// that touches libngspice); (2) a VTEAM memristor (Kvatinsky et al. 2015) with softplus-smoothed thresholds as
// a B-source subcircuit with a state capacitor (ngspice 39 has no Verilog-A), and its C++ reference ODE.
// Units: S, V, A, ohm, s. G is (rows = inputs) x (columns = outputs): I_col = G^T V.
#pragma once

#include <Eigen/Dense>

#include <string>
#include <vector>

#include "nnspice/netlist/circuit.hpp"

namespace nnspice::sim {
class Session;
}

namespace nnspice::memristor {

/// The crossbar circuit: V sources "VR<i>" drive row i (left end), column j ends in "VC<j>" (0 V) at the
/// bottom; devices "RG<i>_<j>"; with r_wire_ohm > 0 every row and column wire has one segment of r_wire_ohm
/// per cell (the driver-side segment included), nodes r<i>_<j> / c<i>_<j>. Conductances must be > 0.
netlist::Circuit crossbar_circuit(const Eigen::MatrixXd& g_S, const Eigen::VectorXd& v_V, double r_wire_ohm = 0);
/// Ideal column currents G^T V.
Eigen::VectorXd ideal_column_currents(const Eigen::MatrixXd& g_S, const Eigen::VectorXd& v_V);

struct CrossbarSimResult {
  Eigen::VectorXd i_col_A;     ///< current into each column's ammeter (positive = flowing out of the array to ground)
  long newton_iterations = 0;
  double wall_s = 0;
  std::size_t elements = 0;
};
/// Loads the crossbar circuit into `session`, solves the operating point, returns the column currents.
/// Throws sim::SimError when ngspice fails.
CrossbarSimResult simulate_crossbar(sim::Session& session, const Eigen::MatrixXd& g_S, const Eigen::VectorXd& v_V, double r_wire_ohm = 0);

/// VTEAM with smoothed thresholds, state x in [0, 1] (1 = ON, g_on):
///   dx/dt = k_on  * sp(v / v_on  - 1)^alpha_on  * (1 - x)   (v > 0 side, SET)
///         - k_off * sp(v / v_off - 1)^alpha_off * x         (v < 0 side, RESET; v_off < 0)
///   i = v * (g_off + (g_on - g_off) * x),   sp(u) = s * ln(1 + exp(u / s)) (softplus, s = smoothing)
/// The (1 - x) and x factors keep x in [0, 1] without hard windows.
struct VteamParams {
  double g_on_S = 1e-4, g_off_S = 1e-5;
  double v_on_V = 1.0, v_off_V = -1.0;
  double k_on_per_s = 1e8, k_off_per_s = 1e8;
  double alpha_on = 3, alpha_off = 3;
  double smoothing = 0.02;
  void validate() const;
};
/// ".subckt vteam p n params: x0=0" ... ".ends" (lines). The state is V(x) of the internal node x.
std::vector<std::string> vteam_subcircuit(const VteamParams& p, const std::string& name = "vteam");
/// dx/dt of the model above (the C++ reference of the subcircuit).
double vteam_dxdt(const VteamParams& p, double v_V, double x);
double vteam_current(const VteamParams& p, double v_V, double x);

}  // namespace nnspice::memristor

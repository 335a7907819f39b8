// The pattern-switch transient of one chip (circuits.md §6): the circuit settles on pattern A (the
// transient's initial operating point), the input current sources ramp to pattern B at t = 0
// (PWL, `ramp_s`), and ngspice integrates with the synapse parasitics (11 fF per synapse) to t_stop.
// The asymptotic class comes from a DC operating point of pattern B. Two methods:
//  - full: the whole netlist in one transient (exact; ~2 s for 4-7-3, hours for 196-100-50-10);
//  - layerwise: one transient per weight layer (optionally per chunk of post-neurons). Pre-synaptic
//    Vn/Vp nodes are driven by the upstream stage's simulated waveforms (PWL voltage sources), which is
//    exact for the forward coupling (MOS gates draw no DC current). What the cut loses is the synapse
//    gate charge on the upstream Vn/Vp nodes: it is put back as linear capacitors per synapse and code,
//    calibrated once per process from ngspice (GateLoad). See docs/dynamics.md for the validation.
// Units: s, A, V, F.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "nnspice/netlist/network.hpp"
#include "nnspice/sim/network_dc.hpp"
#include "nnspice/sim/session.hpp"

namespace nnspice::dynamics {

class TabulatedModel;

/// Gate charge of one synapse on its pre-neuron's Vn (to ground) and Vp (to VDD) nodes, as a linear
/// capacitance per weight code (index code + K, K = the process's maximum code: 15 entries with 3 bits), from
/// ngspice: dQ/dV over the Vn/Vp range of input currents `i_lo_A`..`i_hi_A` (a soma's DC sweep) with the
/// synapse output held at `v_out_V`.
struct GateLoad {
  std::vector<double> c_n_F = std::vector<double>(15, 0.0);
  std::vector<double> c_p_F = std::vector<double>(15, 0.0);
  double v_n_lo_V = 0, v_n_hi_V = 0, v_p_lo_V = 0, v_p_hi_V = 0;
  int max_code() const { return static_cast<int>(c_n_F.size() / 2); }
  double c_n(int code) const { return c_n_F[static_cast<std::size_t>(code + max_code())]; }
  double c_p(int code) const { return c_p_F[static_cast<std::size_t>(code + max_code())]; }
};

struct GateLoadOptions {
  double i_lo_A = 1e-9, i_hi_A = 1e-7;  ///< input-current range whose Vn/Vp span is ramped
  double v_out_V = 0.3;                 ///< synapse output node held here (a typical soma input voltage)
  double ramp_s = 1e-6;                 ///< ramp duration (quasi-static)
};

/// Measures the gate load of each code in `session` (no mismatch; one small DC sweep + one transient).
GateLoad calibrate_gate_load(sim::Session& session, const netlist::Process& process, const GateLoadOptions& options = {});

enum class Method { full, layerwise, tabulated };
Method parse_method(const std::string& name);  ///< "full" | "layerwise" | "tabulated"; InputError otherwise
const char* method_name(Method m);

struct SwitchOptions {
  Method method = Method::full;
  double t_stop_s = 15e-6;    ///< transient length after the switch
  double t_max_s = 20e-9;     ///< maximum internal time step
  double t_step_s = 20e-9;    ///< ngspice output step (tran TSTEP); also the driver grid of the layer-wise stages
  double ramp_s = 1e-9;       ///< input ramp from pattern A to B
  std::size_t chunk = 0;      ///< layerwise: post-neurons per stage netlist (0 = the whole layer)
  bool keep_hidden = false;   ///< return the traces of every hidden and output unit (Fig. 3)
  bool asymptotic_op = true;  ///< asymptotic class from a DC op of pattern B (false: the last transient sample)
  GateLoad gate_load;         ///< layerwise only (calibrate_gate_load)
  /// tabulated only: the chip's tables and node capacitances (tabulated.hpp); integration step = t_max_s.
  std::shared_ptr<const TabulatedModel> tabulated;
  bool log_stages = false;    ///< print one line per ngspice transient to stderr (stage, size, time points, iterations, s)
  /// Validates ranges (InputError naming the field, value and constraint).
  void validate() const;
};

/// The simulated switch of one pattern. All traces share `time_s` (0 = the switch).
struct SwitchTrace {
  std::vector<double> time_s;
  std::vector<std::vector<double>> output_A;               ///< output-layer soma input currents [k][t]
  std::vector<double> supply_A;                            ///< current delivered by the VDD supply
  std::vector<double> input_A;                             ///< sum of the input-source currents
  std::vector<std::vector<std::vector<double>>> units_A;   ///< keep_hidden: [layer-1][i][t] for layers 1..L-1
  std::vector<double> asymptotic_A;                        ///< output currents of pattern B's operating point
  int asymptotic_class = -1;
  long time_points = 0;        ///< accepted time points, summed over the transients run
  long newton_iterations = 0;  ///< Newton iterations of the transients and operating points
  std::size_t transients = 0;  ///< ngspice transients run (1 for full, >= L-1 for layerwise)
  double wall_s = 0;
};

/// Runs the switch from input currents `from_A` (pattern A) to `to_A` (pattern B), both N0 values in A.
/// Throws sim::SimError when ngspice fails (e.g. "timestep too small"), InputError on bad shapes.
SwitchTrace simulate_switch(sim::Session& session, const sim::NetworkChip& chip, const netlist::WeightCodes& weights,
                            const std::vector<double>& from_A, const std::vector<double>& to_A, const SwitchOptions& options);

/// Measures of one switch (see metrics.hpp). Energies integrate the VDD current times VDD; the
/// `_inputs` variants add VDD x the input-source currents (as if the inputs were drawn from VDD, as in
/// the authors' code; our sources hang from ground and draw nothing from VDD).
struct SwitchMeasures {
  int asymptotic_class = -1;
  int final_class = -1;            ///< argmax at the last sample
  double time_to_output_s = -1;    ///< < 0: the asymptotic class was not held at the end of the window
  double energy_tto_J = 0, energy_tto_inputs_J = 0;        ///< from the switch to the time to output
  double energy_window_J = 0, energy_window_inputs_J = 0;  ///< over the whole window [0, window_s]
  double power_tto_W = 0;          ///< energy_tto_J / time_to_output (supply only); the window's mean power when tto = 0
  double power_window_W = 0;       ///< energy_window_J / window_s
};
SwitchMeasures measure_switch(const SwitchTrace& trace, double vdd_V, double window_s);

}  // namespace nnspice::dynamics

// The weight-code linearity of the synapse circuit (beyond the paper): how much each code k of the
// 3-bit + sign synapse is worth per unit of code, relative to code 7, on a mismatch-free synapse of the
// process. The binary-weighted mirrors (0.27 / 0.54 / 1.08 µm wide) are not exactly in the ratio 1:2:4
// (narrow-channel effects), so code 1 is not worth 1/7 of code 7; training that assumes the linear
// grid 0.25·k programs the small codes wrong by the same factor on every synapse of the chip.
// Measured through ngspice at a given operating point (pre-neuron input current, post node voltage).
#pragma once

#include <array>

#include "nnspice/netlist/process.hpp"
#include "nnspice/sim/session.hpp"

namespace nnspice::measure {

struct CodeGains {
  /// pos[k-1]: (I(+k) / k) / (I(+7) / 7); neg[k-1]: (I(-k) / k) / (I(-7) / 7). Index 6 (code 7) = 1.
  std::array<double, 7> pos{}, neg{};
  double i_pre_A = 0;       ///< the pre-neuron's input current of the measurement
  double v_post_V = 0;      ///< the output node's voltage (a nominal soma's input node at i_pre_A)
  double i_pos7_A = 0, i_neg7_A = 0;  ///< output currents at +7 and -7 (sign: into the output node)
};

/// One operating point of a nominal soma driven by `i_pre_A` and 14 synapses (codes ±1…±7) from it,
/// each into its own 0 V probe at the voltage of a nominal soma's input node at the same current.
/// Throws InputError for i_pre_A outside (0, 1e-5] A, SimError when ngspice fails.
CodeGains measure_code_gains(sim::Session& session, const netlist::Process& process, double i_pre_A);

}  // namespace nnspice::measure

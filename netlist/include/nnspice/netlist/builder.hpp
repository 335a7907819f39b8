// Builds the flat circuit of a network (circuits.md §2): per input/hidden neuron a 5-FET soma
// (M0-M4), per output neuron M0 (+ an nFET readout sink), per synapse the 11-FET signed 3-bit synapse
// (M10-M20) with its bits and sign tied to VDD or ground, a 0 V probe in series with every soma input,
// the supply, input current sources and optional parasitic capacitors.
#pragma once

#include <string>
#include <vector>

#include "nnspice/netlist/circuit.hpp"
#include "nnspice/netlist/network.hpp"
#include "nnspice/netlist/process.hpp"

namespace nnspice::netlist {

struct BuildOptions {
  bool parasitics = false;          ///< add the per-synapse capacitors (transients)
  bool readout = true;              ///< add the output readout sinks (nFET 0.45/0.45 + 0 V probe VO<j> from VDD)
  std::vector<double> input_A;      ///< input currents (N0 values, >= 0); empty = all 0
  std::vector<std::string> control{".op"};  ///< analysis cards written before .end (so `ngspice -b` runs it)
  std::string title;                ///< first line; empty = "nnspice <layers>"
  std::vector<std::string> comments;
};

/// Builds the circuit. `delvto_V`, when non-null, holds one threshold shift per transistor in the
/// canonical order of enumerate_transistors(spec) (a chip); null = no mismatch.
/// Throws InputError on shape/range problems (weights, inputs, delvto count).
Circuit build_network(const NetworkSpec& spec, const WeightCodes& weights, const Process& process,
                      const std::vector<double>* delvto_V, const BuildOptions& options);

}  // namespace nnspice::netlist

// Builds the flat circuit of a network (circuits.md §2): per input/hidden neuron a 5-FET soma
// (M0-M4), per output neuron M0 (+ an nFET readout sink), per synapse the signed B-bit synapse (3B + 2 FETs
// from M10; 11 with the default 3 bits, M10-M20) with its bits and sign tied to VDD or ground, a 0 V probe in series with every soma input,
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

/// An empty circuit set up for `process`: title, model card include, temperature, simulator options.
/// Partial circuits (tables, layer-wise transients) start from this.
Circuit circuit_for_process(const Process& process, const std::string& title);

/// Adds the soma of neuron (layer, i): M0 (and M1-M4 when `axon`) between nodes in/vp/vn.
/// `delvto_V` points at the neuron's first threshold shift in chip order (null = none).
void add_soma(Circuit& c, const Process& process, std::size_t layer, std::size_t i, bool axon, const std::string& in,
              const std::string& vp, const std::string& vn, const double* delvto_V);
/// Adds synapse (layer, post, pre) with weight `code` (process.weight_bits bits): M10.. from the pre-neuron's Vn/Vp onto node `out`.
/// Internal nodes are prefixed `node_prefix`; `bit_caps` adds the b_k parasitics. `delvto_V` points at M10's shift.
void add_synapse(Circuit& c, const Process& process, std::size_t layer, std::size_t post, std::size_t pre, int code,
                 const std::string& pre_vn, const std::string& pre_vp, const std::string& out, const std::string& node_prefix,
                 bool bit_caps, const double* delvto_V);

/// Builds the circuit. `delvto_V`, when non-null, holds one threshold shift per transistor in the
/// canonical order of enumerate_transistors(spec) (a chip); null = no mismatch.
/// Throws InputError on shape/range problems (weights, inputs, delvto count).
Circuit build_network(const NetworkSpec& spec, const WeightCodes& weights, const Process& process,
                      const std::vector<double>* delvto_V, const BuildOptions& options);

}  // namespace nnspice::netlist

// Networks (layer lists), integer weight codes (-7..+7, sign + 3 bits) and their files, and the
// stable names of every node and element of a network's circuit (circuits.md §2).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nnspice/model/layer_spec.hpp"
#include "nnspice/model/weight_codes.hpp"
#include "nnspice/netlist/process.hpp"

namespace nnspice::netlist {

/// A feed-forward network N0-N1-...-NL. Layer 0 is the input layer.
struct NetworkSpec {
  std::vector<int> layers;
  /// Magnitude bits of every synapse (codes -max_code() .. max_code()); a network meets its process's
  /// weight_bits (for_process), so chip files, netlists and codes agree.
  int weight_bits = model::kDefaultWeightBits;

  /// Parses "196-100-50-10" with model::parse_layers (the one grammar: 2..16 layers, each 1..100000);
  /// `what` names the option or field in the InputError.
  static NetworkSpec parse(const std::string& spec, const std::string& what = "--layers");
  std::string str() const;
  std::size_t n_layers() const { return layers.size(); }
  std::size_t n_weight_layers() const { return layers.size() - 1; }
  std::size_t n_synapses() const;
  /// Multiply-accumulates per inference: sum_l N_l * N_{l+1}.
  std::size_t n_ops() const { return n_synapses(); }
  int max_code() const { return model::max_code_of_bits(weight_bits); }
  /// Transistors per synapse: a mirror pair per bit, two sign switches, a switch per bit (11 with 3 bits).
  int synapse_fets() const { return 3 * weight_bits + 2; }
  /// This network with the process's weight_bits.
  NetworkSpec for_process(const Process& p) const {
    NetworkSpec s = *this;
    s.weight_bits = p.weight_bits;
    return s;
  }
  bool operator==(const NetworkSpec& o) const { return layers == o.layers && weight_bits == o.weight_bits; }
};

/// Weight codes: the types of the model library (nnspice/model/weight_codes.hpp).
using model::CodeMatrix;
using model::kMaxCode;
using model::WeightCodes;

/// Uniformly random codes in -max_code..max_code, from `seed` (one independent stream per layer).
WeightCodes random_weights(const NetworkSpec& spec, std::uint64_t seed);
/// All synapses at `code` (e.g. +7 for characterisation routings use their own builder).
WeightCodes constant_weights(const NetworkSpec& spec, int code);
/// Loads one file per layer (.npy or .csv), or a directory holding weights_0.npy ... (or .csv), with
/// model::read_weight_codes: shapes of `spec`, integers in -7..7 (errors name file, row, column and value).
inline WeightCodes load_weights(const std::vector<std::string>& paths, const NetworkSpec& spec) {
  return model::read_weight_codes(paths, spec.layers, spec.max_code());
}
/// Validates shapes and ranges (name = where the codes came from, for messages).
inline void validate_weights(const WeightCodes& w, const NetworkSpec& spec, const std::string& name) {
  model::check_weight_codes(w, spec.layers, name, spec.max_code());
}
/// Writes weights_<l>.npy (int32) into `dir` (model::write_weight_codes).
inline void save_weights(const WeightCodes& w, const std::string& dir) { model::write_weight_codes(dir, w); }

/// Stable names used in every netlist, chip file and result (ngspice lower-cases them).
namespace names {
std::string neuron_sum_node(std::size_t layer, std::size_t i);   ///< x<l>_<i>: synapse outputs / input source
std::string neuron_in_node(std::size_t layer, std::size_t i);    ///< g<l>_<i>: soma input (M0 drain/gate)
std::string neuron_vp_node(std::size_t layer, std::size_t i);    ///< p<l>_<i>
std::string neuron_vn_node(std::size_t layer, std::size_t i);    ///< n<l>_<i>
std::string probe(std::size_t layer, std::size_t i);             ///< VX<l>_<i>: 0 V probe, current into the soma
std::string input_source(std::size_t i);                         ///< IIN<i>
std::string readout_probe(std::size_t j);                        ///< VO<j>
std::string soma_fet(std::size_t layer, std::size_t i, int k);   ///< MN<l>_<i>_<k>, k = 0..4
std::string synapse_fet(std::size_t layer, std::size_t post, std::size_t pre, int k);  ///< MW<l>_<post>_<pre>_<k>, k = 10 .. 10 + synapse_fets() - 1
std::string sink_fet(std::size_t j);                             ///< MO<j>
inline const char* kVdd = "vdd";
inline const char* kSupply = "VDD";
}  // namespace names

/// One transistor site of a network's circuit, in the canonical order used by chip files.
struct TransistorSite {
  std::string name;
  Polarity polarity;
  DeviceRole role;
  int bit = -1;  ///< a synapse mirror: its magnitude bit (size and sigma from Process::mirror_size / sigma_mirror_vt_V)
};
/// All transistors of the network's chip (somas, synapses of every layer, output readout sinks),
/// in canonical order. The chip's mismatch is independent of weights and inputs.
std::vector<TransistorSite> enumerate_transistors(const NetworkSpec& spec);
std::size_t count_transistors(const NetworkSpec& spec);
/// The largest network a chip or netlist is built for: 5e7 transistors (784-1000-1000-10 has 1.97e7;
/// a chip file line is ~25 bytes, so 5e7 is a 1.3 GB chip and a netlist of several GB).
inline constexpr std::size_t kMaxTransistors = 50'000'000;
/// Throws InputError naming the network, its transistor count and kMaxTransistors when it is larger;
/// called before anything of the network's size is allocated (chips, weights, circuits).
void check_network_size(const NetworkSpec& spec);
/// Index in canonical (chip) order of soma transistor M<k> of neuron (layer, i), k = 0..4 (0 only on the output layer).
std::size_t soma_fet_index(const NetworkSpec& spec, std::size_t layer, std::size_t i, int k);
/// Index in canonical order of synapse transistor M<k> (k = 10..20) of synapse (layer, post, pre).
std::size_t synapse_fet_index(const NetworkSpec& spec, std::size_t layer, std::size_t post, std::size_t pre, int k);
/// Index of readout sink j.
std::size_t sink_fet_index(const NetworkSpec& spec, std::size_t j);

}  // namespace nnspice::netlist

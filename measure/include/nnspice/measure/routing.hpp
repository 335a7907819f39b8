// Weight configurations for measuring a chip (circuits.md §4; docs/characterize.md): random balanced
// one-to-one routings at the maximum code (the paper's procedure), the exhaustive cyclic routings that
// measure every synapse on its own, and the positive+negative pairs that measure the negative-weight gain.
// Indices are neuron indices; weight layer l connects neuron layer l (pre) to l+1 (post).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nnspice/netlist/network.hpp"

namespace nnspice::measure {

/// One one-to-one routing: pre[l][j] = the pre-neuron (layer l) that is the only input of post-neuron j
/// (layer l+1), through one synapse at the maximum code; every other synapse is off (code 0).
struct Routing {
  std::vector<std::vector<int>> pre;
};

/// `count` random routings, balanced per weight layer: the pre-neurons are drawn from a stream of
/// successive random permutations of 0..N_l-1, so over all routings (and over every prefix of them)
/// each pre-neuron is used equally often up to one. Stream per layer: Rng::stream(seed, "routing/<l>").
std::vector<Routing> balanced_routings(const netlist::NetworkSpec& spec, std::size_t count, std::uint64_t seed);

/// The exhaustive schedule: routing m (0 <= m < max_l N_l) sends pre (j + m) mod N_l to post j, so every
/// synapse is the only input of its post-neuron in at least one routing ("measured in isolation": in DC a
/// post-neuron's input current depends only on its own input synapses).
std::vector<Routing> cyclic_routings(const netlist::NetworkSpec& spec);

/// Codes of a routing: `code` on each routed synapse, 0 elsewhere.
netlist::WeightCodes routing_weights(const netlist::NetworkSpec& spec, const Routing& routing, int code = 0);  ///< code 0: the spec's maximum code (+7 with 3 bits)

/// Measurement of the negative gain of weight layer `layer`: every post-neuron j gets a positive
/// synapse (+code) from pos[j] and a negative one (−code) from neg[j] != pos[j]. The pre-neurons are split
/// into a "high" set (positive sources, driven with a larger input current so that the post-neuron stays
/// above zero and subtraction is linear) and a "low" set (negative sources).
struct NegativeRouting {
  std::size_t layer = 0;
  std::vector<char> high;          ///< per pre-neuron of `layer`: 1 = positive source (driven high)
  std::vector<int> pos, neg;       ///< per post-neuron of layer+1
  /// fanin[m][j] for the weight layers m < layer: the pre-neurons feeding neuron j of layer m+1 with +code.
  /// For m = layer-1 a high neuron gets `high_fanin` inputs and a low one 1, so it is driven higher.
  std::vector<std::vector<std::vector<int>>> fanin;
};

struct NegativeDesign {
  int high_fanin = 4;        ///< inputs of a high pre-neuron of a hidden layer (a low one gets 1)
  double high_ratio = 4.0;   ///< input current of a high input-layer neuron / that of a low one
};

/// `count` random negative routings of weight layer `layer` (count rounded up to even: routings come in
/// pairs sharing one random split with the roles swapped, so each pre-neuron is a negative source in half
/// of them). Positive and negative sources per post are drawn from balanced permutation streams.
/// Throws InputError when layer `layer` has fewer than 2 neurons (positive and negative source must differ).
std::vector<NegativeRouting> random_negative_routings(const netlist::NetworkSpec& spec, std::size_t layer,
                                                      std::size_t count, std::uint64_t seed, const NegativeDesign& design);
/// Exhaustive: a random split A|B, then |B| cyclic routings with B negative and |A| with A negative, so
/// every synapse of the layer is measured as a negative one exactly once (N_layer routings).
std::vector<NegativeRouting> exhaustive_negative_routings(const netlist::NetworkSpec& spec, std::size_t layer,
                                                          std::uint64_t seed, const NegativeDesign& design);

/// Codes of a negative routing: drive layers (fanin), then +code pos and (with_negative) −neg_code neg (neg_code 0:
/// the same magnitude as code); later layers 0.
netlist::WeightCodes negative_weights(const netlist::NetworkSpec& spec, const NegativeRouting& r, bool with_negative,
                                      int code = 0, int neg_code = 0);  ///< code 0: the maximum code
/// Input currents for level `level_A`: layer 0 measured -> high neurons get high_ratio * level; otherwise all level.
std::vector<double> negative_inputs(const netlist::NetworkSpec& spec, const NegativeRouting& r, double level_A,
                                    const NegativeDesign& design);

/// How often each pre-neuron of weight layer l is routed, over `routings` (for balance checks and reports).
std::vector<std::size_t> routing_counts(const netlist::NetworkSpec& spec, const std::vector<Routing>& routings, std::size_t l);

}  // namespace nnspice::measure

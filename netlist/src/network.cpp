#include "nnspice/netlist/network.hpp"

#include <fmt/format.h>

#include "nnspice/common/error.hpp"

namespace nnspice::netlist {

NetworkSpec NetworkSpec::parse(const std::string& spec, const std::string& what) {
  NetworkSpec s;
  s.layers = model::parse_layers(spec, what);
  return s;
}

std::string NetworkSpec::str() const { return model::format_layers(layers); }

std::size_t NetworkSpec::n_synapses() const {
  std::size_t n = 0;
  for (size_t l = 0; l + 1 < layers.size(); ++l) n += static_cast<size_t>(layers[l]) * layers[l + 1];
  return n;
}

namespace names {
std::string neuron_sum_node(size_t l, size_t i) { return fmt::format("x{}_{}", l, i); }
std::string neuron_in_node(size_t l, size_t i) { return fmt::format("g{}_{}", l, i); }
std::string neuron_vp_node(size_t l, size_t i) { return fmt::format("p{}_{}", l, i); }
std::string neuron_vn_node(size_t l, size_t i) { return fmt::format("n{}_{}", l, i); }
std::string probe(size_t l, size_t i) { return fmt::format("VX{}_{}", l, i); }
std::string input_source(size_t i) { return fmt::format("IIN{}", i); }
std::string readout_probe(size_t j) { return fmt::format("VO{}", j); }
std::string soma_fet(size_t l, size_t i, int k) { return fmt::format("MN{}_{}_{}", l, i, k); }
std::string synapse_fet(size_t l, size_t post, size_t pre, int k) { return fmt::format("MW{}_{}_{}_{}", l, post, pre, k); }
std::string sink_fet(size_t j) { return fmt::format("MO{}", j); }
}  // namespace names

namespace {
constexpr Polarity kSomaPol[5] = {Polarity::n, Polarity::n, Polarity::p, Polarity::p, Polarity::n};
// Synapse device k (0-based after M10) of a B-bit synapse (circuits.md §2): nFET mirrors of bits 0..B-1,
// pFET mirrors, the two sign switches (n, p), the bit switches (n). 3 bits: M10-M12, M13-M15, M16, M17, M18-M20.
TransistorSite synapse_site(const NetworkSpec& spec, std::size_t l, std::size_t j, std::size_t i, int k) {
  const int B = spec.weight_bits;
  const std::string name = names::synapse_fet(l, j, i, 10 + k);
  auto mirror_role = [&](int m) { return m == 0 ? DeviceRole::mirror_lsb : m == B - 1 ? DeviceRole::mirror_msb : DeviceRole::mirror_mid; };
  if (k < B) return {name, Polarity::n, mirror_role(k), k};
  if (k < 2 * B) return {name, Polarity::p, mirror_role(k - B), k - B};
  if (k == 2 * B) return {name, Polarity::n, DeviceRole::sw};
  if (k == 2 * B + 1) return {name, Polarity::p, DeviceRole::sw};
  return {name, Polarity::n, DeviceRole::sw};
}
}  // namespace

std::size_t count_transistors(const NetworkSpec& spec) {
  size_t n = 0;
  const size_t L = spec.layers.size();
  for (size_t l = 0; l + 1 < L; ++l) n += 5 * static_cast<size_t>(spec.layers[l]);
  n += 2 * static_cast<size_t>(spec.layers.back());  // M0 + readout sink
  return n + static_cast<size_t>(spec.synapse_fets()) * spec.n_synapses();
}

void check_network_size(const NetworkSpec& spec) {
  if (spec.weight_bits < model::kMinWeightBits || spec.weight_bits > model::kMaxWeightBits)
    throw InputError(fmt::format("network {}: {} weight bits; expected {}..{}", spec.str(), spec.weight_bits, model::kMinWeightBits, model::kMaxWeightBits));
  if (const std::size_t n = count_transistors(spec); n > kMaxTransistors)
    throw InputError(fmt::format("network {} has {} transistors ({} synapses x {} + somas), more than the bound of {} "
                                 "transistors a chip or netlist is built for",
                                 spec.str(), n, spec.n_synapses(), spec.synapse_fets(), kMaxTransistors));
}

std::size_t soma_fet_index(const NetworkSpec& spec, std::size_t layer, std::size_t i, int k) {
  const size_t L = spec.layers.size();
  size_t off = 0;
  for (size_t l = 0; l < layer; ++l) off += (l + 1 < L ? 5 : 1) * static_cast<size_t>(spec.layers[l]);
  return off + (layer + 1 < L ? 5 : 1) * i + static_cast<size_t>(k);
}

static std::size_t soma_fet_total(const NetworkSpec& spec) {
  size_t n = 0;
  for (size_t l = 0; l < spec.layers.size(); ++l) n += (l + 1 < spec.layers.size() ? 5 : 1) * static_cast<size_t>(spec.layers[l]);
  return n;
}

std::size_t synapse_fet_index(const NetworkSpec& spec, std::size_t layer, std::size_t post, std::size_t pre, int k) {
  const size_t S = static_cast<size_t>(spec.synapse_fets());
  size_t off = soma_fet_total(spec);
  for (size_t l = 0; l < layer; ++l) off += S * static_cast<size_t>(spec.layers[l]) * spec.layers[l + 1];
  return off + S * (post * spec.layers[layer] + pre) + static_cast<size_t>(k - 10);
}

std::size_t sink_fet_index(const NetworkSpec& spec, std::size_t j) {
  return soma_fet_total(spec) + static_cast<size_t>(spec.synapse_fets()) * spec.n_synapses() + j;
}

std::vector<TransistorSite> enumerate_transistors(const NetworkSpec& spec) {
  check_network_size(spec);
  std::vector<TransistorSite> out;
  out.reserve(count_transistors(spec));
  const size_t L = spec.layers.size();
  for (size_t l = 0; l < L; ++l) {
    const int k_max = l + 1 < L ? 5 : 1;
    for (int i = 0; i < spec.layers[l]; ++i)
      for (int k = 0; k < k_max; ++k) out.push_back({names::soma_fet(l, i, k), kSomaPol[k], DeviceRole::soma});
  }
  for (size_t l = 0; l + 1 < L; ++l)
    for (int j = 0; j < spec.layers[l + 1]; ++j)
      for (int i = 0; i < spec.layers[l]; ++i)
        for (int k = 0; k < spec.synapse_fets(); ++k) out.push_back(synapse_site(spec, l, static_cast<size_t>(j), static_cast<size_t>(i), k));
  for (int j = 0; j < spec.layers.back(); ++j) out.push_back({names::sink_fet(j), Polarity::n, DeviceRole::sink});
  return out;
}

}  // namespace nnspice::netlist

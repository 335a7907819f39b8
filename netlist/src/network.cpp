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
// Synapse devices M10..M20: polarity and role (circuits.md §2).
constexpr Polarity kSynPol[11] = {Polarity::n, Polarity::n, Polarity::n, Polarity::p, Polarity::p, Polarity::p,
                                  Polarity::n, Polarity::p, Polarity::n, Polarity::n, Polarity::n};
constexpr DeviceRole kSynRole[11] = {DeviceRole::mirror_lsb, DeviceRole::mirror_mid, DeviceRole::mirror_msb,
                                     DeviceRole::mirror_lsb, DeviceRole::mirror_mid, DeviceRole::mirror_msb,
                                     DeviceRole::sw,         DeviceRole::sw,         DeviceRole::sw,
                                     DeviceRole::sw,         DeviceRole::sw};
constexpr Polarity kSomaPol[5] = {Polarity::n, Polarity::n, Polarity::p, Polarity::p, Polarity::n};
}  // namespace

std::size_t count_transistors(const NetworkSpec& spec) {
  size_t n = 0;
  const size_t L = spec.layers.size();
  for (size_t l = 0; l + 1 < L; ++l) n += 5 * static_cast<size_t>(spec.layers[l]);
  n += 2 * static_cast<size_t>(spec.layers.back());  // M0 + readout sink
  return n + 11 * spec.n_synapses();
}

void check_network_size(const NetworkSpec& spec) {
  if (const std::size_t n = count_transistors(spec); n > kMaxTransistors)
    throw InputError(fmt::format("network {} has {} transistors ({} synapses x 11 + somas), more than the bound of {} "
                                 "transistors a chip or netlist is built for",
                                 spec.str(), n, spec.n_synapses(), kMaxTransistors));
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
  size_t off = soma_fet_total(spec);
  for (size_t l = 0; l < layer; ++l) off += 11 * static_cast<size_t>(spec.layers[l]) * spec.layers[l + 1];
  return off + 11 * (post * spec.layers[layer] + pre) + static_cast<size_t>(k - 10);
}

std::size_t sink_fet_index(const NetworkSpec& spec, std::size_t j) { return soma_fet_total(spec) + 11 * spec.n_synapses() + j; }

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
        for (int k = 0; k < 11; ++k) out.push_back({names::synapse_fet(l, j, i, 10 + k), kSynPol[k], kSynRole[k]});
  for (int j = 0; j < spec.layers.back(); ++j) out.push_back({names::sink_fet(j), Polarity::n, DeviceRole::sink});
  return out;
}

}  // namespace nnspice::netlist

#include <fmt/format.h>

#include "nnspice/common/error.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/netlist/network.hpp"

namespace nnspice::netlist {

WeightCodes random_weights(const NetworkSpec& spec, std::uint64_t seed) {
  check_network_size(spec);
  WeightCodes w;
  for (size_t l = 0; l + 1 < spec.layers.size(); ++l) {
    Rng rng = Rng::stream(seed, fmt::format("weights.layer{}", l));
    CodeMatrix m{static_cast<size_t>(spec.layers[l + 1]), static_cast<size_t>(spec.layers[l]), {}};
    m.codes.resize(m.rows * m.cols);
    const int K = spec.max_code();
    for (auto& c : m.codes) c = static_cast<std::int8_t>(static_cast<int>(rng.below(static_cast<std::uint64_t>(2 * K + 1))) - K);
    w.push_back(std::move(m));
  }
  return w;
}

WeightCodes constant_weights(const NetworkSpec& spec, int code) {
  check_network_size(spec);
  if (code < -spec.max_code() || code > spec.max_code())
    throw InputError(fmt::format("weight code {} is outside -{}..{} ({} bits)", code, spec.max_code(), spec.max_code(), spec.weight_bits));
  WeightCodes w;
  for (size_t l = 0; l + 1 < spec.layers.size(); ++l) {
    CodeMatrix m{static_cast<size_t>(spec.layers[l + 1]), static_cast<size_t>(spec.layers[l]), {}};
    m.codes.assign(m.rows * m.cols, static_cast<std::int8_t>(code));
    w.push_back(std::move(m));
  }
  return w;
}

}  // namespace nnspice::netlist

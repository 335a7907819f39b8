#include "nnspice/model/layer_spec.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "nnspice/common/error.hpp"

namespace nnspice::model {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& text, const std::string& why) {
  throw InputError(fmt::format("{} = '{}': invalid layer spec: {} (expected N-N-...-N, e.g. 4-7-3 or 196-100-50-10: {}..{} layers, each 1..{})", what,
                               text, why, kMinLayers, kMaxLayers, kMaxLayerSize));
}

}  // namespace

Layers parse_layers(const std::string& text, const std::string& what) {
  std::vector<long long> sizes;
  if (text.empty()) fail(what, text, "empty");
  std::size_t start = 0;
  while (true) {
    const std::size_t dash = text.find('-', start);
    const std::string part = text.substr(start, dash == std::string::npos ? std::string::npos : dash - start);
    if (part.empty()) fail(what, text, "empty layer size");
    long long v = 0;
    for (char c : part) {
      if (c < '0' || c > '9') fail(what, text, fmt::format("'{}' is not a layer size (decimal digits only)", part));
      if (v <= kMaxLayerSize) v = v * 10 + (c - '0');  // saturates above the bound: no overflow
    }
    if (v < 1 || v > kMaxLayerSize) fail(what, text, fmt::format("layer size {} is outside 1..{}", part, kMaxLayerSize));
    sizes.push_back(v);
    if (sizes.size() > kMaxLayers) fail(what, text, fmt::format("more than {} layers", kMaxLayers));
    if (dash == std::string::npos) break;
    start = dash + 1;
  }
  if (sizes.size() < kMinLayers) fail(what, text, "a network needs at least an input and an output layer");
  return Layers(sizes.begin(), sizes.end());
}

Layers check_layers(const std::vector<long long>& sizes, const std::string& what) {
  const std::string text = fmt::format("{}", fmt::join(sizes, "-"));
  if (sizes.size() < kMinLayers) fail(what, text, "a network needs at least an input and an output layer");
  if (sizes.size() > kMaxLayers) fail(what, text, fmt::format("more than {} layers", kMaxLayers));
  for (std::size_t i = 0; i < sizes.size(); ++i)
    if (sizes[i] < 1 || sizes[i] > kMaxLayerSize)
      throw InputError(fmt::format("{}[{}] = {}: invalid layer size: outside 1..{} (layers {})", what, i, sizes[i], kMaxLayerSize, text));
  return Layers(sizes.begin(), sizes.end());
}

std::string format_layers(const Layers& layers) { return fmt::format("{}", fmt::join(layers, "-")); }

}  // namespace nnspice::model

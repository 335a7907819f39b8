// Layer specs: the layer sizes N0-N1-...-NL of a feed-forward network (layer 0 = inputs). One grammar
// for every command, config key and file: decimal digits separated by single '-', 2..16 layers, each
// 1..100000 (no sign, no spaces, no other separator). Dimensionless counts.
#pragma once

#include <string>
#include <vector>

namespace nnspice::model {

using Layers = std::vector<int>;

constexpr std::size_t kMinLayers = 2;
constexpr std::size_t kMaxLayers = 16;
constexpr long long kMaxLayerSize = 100000;

/// Parses "196-100-50-10". `what` names the option or field ("--layers", "FILE:3:1: layers", ...).
/// Throws InputError "WHAT = 'TEXT': why (expected N-N-...-N, ...)".
Layers parse_layers(const std::string& text, const std::string& what);
/// Checks sizes that came as a list (JSON/YAML sequence): the same bounds as parse_layers.
Layers check_layers(const std::vector<long long>& sizes, const std::string& what);
/// "196-100-50-10".
std::string format_layers(const Layers& layers);

}  // namespace nnspice::model

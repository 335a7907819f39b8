// libFuzzer target: the one layer-spec grammar (model/layer_spec.cpp: --layers of every command, YAML and
// JSON `layers`, chip headers). An accepted spec must be within the bounds and format back to itself
// (modulo leading zeros) and parse again to the same layers; a rejected one only throws InputError.
#include "fuzz_util.hpp"
#include "nnspice/model/layer_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_input_errors([&] {
    const model::Layers l = model::parse_layers(text, "--layers");
    if (l.size() < model::kMinLayers || l.size() > model::kMaxLayers) std::abort();
    for (int v : l)
      if (v < 1 || v > model::kMaxLayerSize) std::abort();
    if (model::parse_layers(model::format_layers(l), "--layers") != l) std::abort();
    std::vector<long long> sizes(l.begin(), l.end());
    if (model::check_layers(sizes, "layers") != l) std::abort();
  });
  return 0;
}

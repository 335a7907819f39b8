// libFuzzer target: process YAML (netlist/process.cpp) and the model card it names. The input is the
// YAML text, optionally followed by a line "#--card--" and the text of a model card, which is written
// beside the YAML as card.lib (so `model_card: card.lib` reaches the model-card checker); without that
// line card.lib holds the shipped MOSIS card.
#include "fuzz_util.hpp"
#include "nnspice/netlist/process.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  static const std::string shipped_card = fuzz::source_file("data/models/mosis-tsmc018-t58f-bsim3v33.lib");
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string marker = "\n#--card--\n";
  const auto cut = input.find(marker);
  const std::string yaml = cut == std::string::npos ? input : input.substr(0, cut);
  const std::string card = cut == std::string::npos ? shipped_card : input.substr(cut + marker.size());
  fuzz::write_scratch("process/card.lib", card);
  const std::string path = fuzz::write_scratch("process/process.yaml", yaml);
  fuzz::expect_input_errors([&] { netlist::load_process(path); });
  return 0;
}

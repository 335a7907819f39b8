// libFuzzer target: `nnspice sweep` configs (tools/sweep_config.cpp, YAML; its experiment through run_config.cpp).
// What it accepts must be a grid within the bounds: every axis non-empty and known, at most 1000 points.
#include <cstdlib>

#include "fuzz_util.hpp"
#include "sweep_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_input_errors([&] {
    const tools::Sweep s = tools::parse_sweep(text, "fuzz.yaml");
    std::size_t points = 1;
    for (const auto& a : s.axes) {
      if (a.text.empty() || a.text.size() > tools::kMaxValuesPerAxis || (!a.number.empty() && a.number.size() != a.text.size())) std::abort();
      points *= a.text.size();
    }
    if (s.axes.empty() || points > tools::kMaxSweepPoints || !(s.target > 0 && s.target <= 1)) std::abort();
  });
  return 0;
}

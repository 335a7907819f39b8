// libFuzzer target: `nnspice run` configs (tools/run_config.cpp, YAML).
#include "fuzz_util.hpp"
#include "run_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_input_errors([&] { tools::parse_run_config(text, "fuzz.yaml"); });
  return 0;
}

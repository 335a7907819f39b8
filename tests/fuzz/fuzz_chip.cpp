// libFuzzer target: chip files (mismatch/chip.cpp, "name,delvto_V" CSV with '#' metadata lines).
#include "fuzz_util.hpp"
#include "nnspice/mismatch/chip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  const std::string path = fuzz::write_scratch("chip.csv", data, size);
  fuzz::expect_input_errors([&] { mismatch::load_chip(path); });
  static const netlist::NetworkSpec expect = netlist::NetworkSpec::parse("2-2-1");
  fuzz::expect_input_errors([&] { mismatch::load_chip(path, &expect); });
  return 0;
}

// libFuzzer target: calibration.json (train/calibration.cpp, "nnspice-calibration/1").
#include "fuzz_util.hpp"
#include "nnspice/train/calibration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  const std::string path = fuzz::write_scratch("calibration.json", data, size);
  fuzz::expect_input_errors([&] {
    const train::Calibration c = train::read_calibration(path);
    c.check_matches(c.layers);
    c.homogeneous();
  });
  return 0;
}

// libFuzzer target: NPY arrays (common/npy.cpp) and, for 2-D arrays, both weight-code loaders
// (model::read_weight_codes with the layers given, as `nnspice netlist` reads them, and through
// train::read_weight_codes, the folder form of infer).
#include "fuzz_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/model/weight_codes.hpp"
#include "nnspice/train/weights_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  NpyArray a;
  bool parsed = false;
  fuzz::expect_input_errors([&] {
    a = parse_npy(bytes, "fuzz.npy");
    parsed = true;
  });
  if (!parsed || a.shape.size() != 2 || a.shape[0] < 1 || a.shape[1] < 1 || a.shape[0] > 100000 || a.shape[1] > 100000) return 0;
  const std::string path = fuzz::write_scratch("npy/weights_0.npy", data, size);
  const model::Layers layers = {static_cast<int>(a.shape[1]), static_cast<int>(a.shape[0])};
  fuzz::expect_input_errors([&] { model::read_weight_codes({path}, layers); });
  fuzz::expect_input_errors([&] { train::read_weight_codes(fuzz::scratch_dir() + "/npy"); });
  return 0;
}

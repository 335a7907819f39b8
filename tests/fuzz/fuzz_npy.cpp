// libFuzzer target: NPY arrays (common/npy.cpp) and, for 2-D arrays, both weight-code loaders
// (netlist::load_weights for `nnspice netlist`, train::read_weight_codes for infer/evaluate).
#include "fuzz_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/netlist/network.hpp"
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
  netlist::NetworkSpec spec;
  spec.layers = {static_cast<int>(a.shape[1]), static_cast<int>(a.shape[0])};
  fuzz::expect_input_errors([&] { netlist::load_weights({path}, spec); });
  fuzz::expect_input_errors([&] { train::read_weight_codes(fuzz::scratch_dir() + "/npy"); });
  return 0;
}

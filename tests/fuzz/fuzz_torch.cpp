// libFuzzer target: PyTorch .pt files (dnpu/torch_file.cpp + pickle.cpp: zip and legacy layouts) and
// the surrogate built from them (dnpu/surrogate.cpp: brains-py layouts, tensor bounds).
#include "fuzz_util.hpp"
#include "nnspice/dnpu/surrogate.hpp"
#include "nnspice/dnpu/torch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  fuzz::expect_input_errors([&] {
    const dnpu::TorchFile f = dnpu::parse_torch_file(bytes, "fuzz.pt");
    dnpu::py_to_json(f.root, &f);
    dnpu::surrogate_from_torch(f);
  });
  return 0;
}

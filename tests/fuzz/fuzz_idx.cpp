// libFuzzer target: IDX files (train/idx.cpp; MNIST images with 3 dimensions, labels with 1).
#include "fuzz_util.hpp"
#include "nnspice/train/mnist.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  const std::string path = fuzz::write_scratch("data.idx", data, size);
  // What the reader accepts must hold exactly the bytes its dimensions announce (consumers index by them).
  auto check = [&](std::size_t dims) {
    const train::IdxArray a = train::read_idx(path, dims);
    unsigned __int128 count = 1;
    for (std::uint32_t d : a.dims) count *= d;
    if (a.dims.size() != dims || count != a.data.size()) {
      std::fprintf(stderr, "fuzz: IDX dimensions announce %llu bytes, the array holds %zu\n", static_cast<unsigned long long>(count),
                   a.data.size());
      std::abort();
    }
  };
  fuzz::expect_input_errors([&] { check(3); });
  fuzz::expect_input_errors([&] { check(1); });
  return 0;
}

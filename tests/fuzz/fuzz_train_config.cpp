// libFuzzer target: train.yaml (train/config.cpp, `nnspice train --config`).
#include "fuzz_util.hpp"
#include "nnspice/train/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  const std::string path = fuzz::write_scratch("train.yaml", data, size);
  fuzz::expect_input_errors([&] {
    train::TrainConfig c = train::TrainConfig::defaults_for("iris");
    train::apply_train_yaml(path, c);
    c.to_json();
  });
  return 0;
}

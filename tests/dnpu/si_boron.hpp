// The shipped si-boron-2020 surrogate (the seed paper's device), loaded once per test binary.
#pragma once

#include "nnspice/dnpu/surrogate.hpp"

namespace nnspice::dnpu::test {

inline const SurrogateModel& si_boron() {
  static const SurrogateModel m = load_surrogate(NNSPICE_SOURCE_DIR "/data/dnpu/si-boron-2020");
  return m;
}

}  // namespace nnspice::dnpu::test

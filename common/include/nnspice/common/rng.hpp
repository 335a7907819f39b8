// Seeded random numbers with a fixed algorithm, so that the same seed gives the same draws on
// every platform and library version: mt19937_64 (its sequence is fixed by the C++ standard)
// plus our own uniform / normal transforms (std:: distributions are implementation-defined).
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "nnspice/common/store.hpp"  // fnv1a64

namespace nnspice {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  /// A generator for an independent named stream derived from (seed, name): draws in one stream do
  /// not shift the others (e.g. adding a device class leaves the other classes' draws unchanged).
  static Rng stream(std::uint64_t seed, const std::string& name);

  std::uint64_t next_u64() { return engine_(); }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [0, n), unbiased (rejection).
  std::uint64_t below(std::uint64_t n);
  /// Standard normal by the Marsaglia polar method.
  double normal();
  double normal(double mean, double sd) { return mean + sd * normal(); }

  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace nnspice

// Circuit-level evaluation: the decomposed engine against full-netlist ngspice operating points on
// every Iris test sample (tolerance 0.5 % + 20 pA per output, identical classes), and input scaling.
#include <gtest/gtest.h>

#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/evaluate/evaluate.hpp"

using namespace nnspice;

static sim::NetworkChip iris_chip(std::uint64_t seed) {
  sim::NetworkChip c;
  c.spec = netlist::NetworkSpec::parse("4-7-3");
  c.process = netlist::load_process(std::string(NNSPICE_SOURCE_DIR) + "/data/process/tsmc180.yaml");
  c.chip = mismatch::draw_chip(c.spec, c.process, seed);
  return c;
}

static train::Dataset iris_test() {
  train::DatasetOptions o;
  o.name = "iris";
  o.iris_csv = std::string(NNSPICE_SOURCE_DIR) + "/data/datasets/iris.csv";
  return train::load_dataset(o).test;
}

TEST(Evaluate, SampleCurrentsHaveTheRequestedMean) {
  const auto d = iris_test();
  const auto in = evaluate::sample_currents(d, 3, 1e-7);
  double m = 0;
  for (double x : in) m += x;
  EXPECT_NEAR(m / in.size(), 1e-7, 1e-15);
}

TEST(Evaluate, DecomposedEqualsFullNetlistOnAllIrisTestSamples) {
  const auto chip = iris_chip(3);
  const auto w = netlist::random_weights(chip.spec, 11);
  const auto data = iris_test();
  evaluate::EvalOptions o;
  o.input_mean_A = 1e-7;
  o.parallel.workers = 2;
  o.progress = false;
  o.method = "full";
  const auto full = evaluate::evaluate_chip(chip, w, data, o);
  o.method = "decomposed";
  const auto dec = evaluate::evaluate_chip(chip, w, data, o);
  ASSERT_EQ(full.failed, 0u);
  ASSERT_EQ(dec.failed, 0u);
  ASSERT_EQ(full.samples, 30u);
  double worst = 0;
  for (std::size_t k = 0; k < full.output_A.size(); ++k) {
    const double a = full.output_A[k], b = dec.output_A[k], tol = 5e-3 * std::abs(a) + 20e-12;
    worst = std::max(worst, std::abs(a - b) / tol);
    EXPECT_LE(std::abs(a - b), tol) << "sample " << k / 3 << " output " << k % 3 << ": full " << a << " decomposed " << b;
  }
  EXPECT_EQ(full.predicted, dec.predicted);
  std::printf("Iris test set (30 samples, 90 outputs): worst |error| / (0.5 %% + 20 pA) = %.3f; accuracy %.1f %% both\n", worst, 100 * dec.accuracy());
}

TEST(Evaluate, ShapeMismatchesAreInputErrors) {
  auto chip = iris_chip(1);
  const auto data = iris_test();
  evaluate::EvalOptions o;
  o.progress = false;
  chip.spec = netlist::NetworkSpec::parse("5-7-3");
  chip.chip = mismatch::draw_chip(chip.spec, chip.process, 1);
  EXPECT_THROW(evaluate::evaluate_chip(chip, netlist::random_weights(chip.spec, 1), data, o), InputError);
  auto chip2 = iris_chip(1);
  o.input_mean_A = -1;
  EXPECT_THROW(evaluate::evaluate_chip(chip2, netlist::random_weights(chip2.spec, 1), data, o), InputError);
  o.input_mean_A = 1e-8;
  o.method = "magic";
  EXPECT_THROW(evaluate::evaluate_chip(chip2, netlist::random_weights(chip2.spec, 1), data, o), InputError);
}

// Time-to-output and energy logic of nnspice::dynamics on synthetic traces with known answers.
#include <gtest/gtest.h>

#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/dynamics/experiment.hpp"
#include "nnspice/dynamics/metrics.hpp"
#include "nnspice/dynamics/switch_sim.hpp"

using namespace nnspice;
using namespace nnspice::dynamics;

namespace {
std::vector<double> grid(std::size_t n, double dt) {
  std::vector<double> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = static_cast<double>(i) * dt;
  return t;
}
}  // namespace

TEST(TimeToOutput, LinearCrossingIsInterpolated) {
  // Output 0 falls from 10 to 0 over 10 us, output 1 rises from 0 to 10: they cross at 5 us.
  const auto t = grid(11, 1e-6);
  std::vector<std::vector<double>> out(2, std::vector<double>(t.size()));
  for (std::size_t i = 0; i < t.size(); ++i) out[0][i] = 10.0 - static_cast<double>(i), out[1][i] = static_cast<double>(i);
  EXPECT_NEAR(time_to_output(t, out, 1), 5e-6, 1e-15);
  // Shift the crossing off the grid: output 1 = i + 0.5 -> margin 2i - 9.5 crosses at 4.75 us.
  for (std::size_t i = 0; i < t.size(); ++i) out[1][i] = static_cast<double>(i) + 0.5;
  EXPECT_NEAR(time_to_output(t, out, 1), 4.75e-6, 1e-15);
  // Class 0 is not the class at the end: never reached.
  EXPECT_LT(time_to_output(t, out, 0), 0);
}

TEST(TimeToOutput, LastChangeCountsNotTheFirst) {
  // Right at samples 1-2, wrong at 3, right from 4 on: the time is in the last wrong -> right step (3 -> 4).
  const auto t = grid(8, 1.0);
  std::vector<std::vector<double>> out = {{0, 2, 2, 0, 2, 2, 2, 2}, {1, 1, 1, 1, 1, 1, 1, 1}};
  const double tto = time_to_output(t, out, 0);
  EXPECT_GT(tto, 3.0);
  EXPECT_LE(tto, 4.0);
  EXPECT_NEAR(tto, 3.5, 1e-12);  // margins -1 -> +1
}

TEST(TimeToOutput, RightFromTheStartIsZeroAndTiesAreWrong) {
  const auto t = grid(5, 1e-7);
  std::vector<std::vector<double>> out = {{3, 3, 3, 3, 3}, {1, 2, 1, 2, 1}, {0, 0, 0, 0, 0}};
  EXPECT_EQ(time_to_output(t, out, 0), 0.0);
  // A tie between the class and another unit is not yet the class (argmax takes the lower index).
  std::vector<std::vector<double>> tie = {{1, 1, 1, 1, 1}, {0, 1, 1, 2, 2}};
  // Margins 0 (tie, sample 2) -> 1 (sample 3): the zero crossing of the margin is at sample 2 itself.
  EXPECT_NEAR(time_to_output(t, tie, 1), 2e-7, 1e-18);
  EXPECT_EQ(class_trace(tie), (std::vector<int>{0, 0, 0, 1, 1}));
}

TEST(TimeToOutput, BadInputsAreInputErrors) {
  std::vector<std::vector<double>> out = {{1, 2}, {2, 1}};
  EXPECT_THROW(time_to_output({}, out, 0), InputError);
  EXPECT_THROW(time_to_output({0, 0}, out, 0), InputError);       // time does not increase
  EXPECT_THROW(time_to_output({0, 1, 2}, out, 0), InputError);    // lengths differ
  EXPECT_THROW(time_to_output({0, 1}, out, 2), InputError);       // class out of range
  EXPECT_THROW(time_to_output({0, 1}, out, -1), InputError);
  EXPECT_THROW(time_to_output({0, 1}, {}, 0), InputError);        // no outputs
  EXPECT_THROW(time_to_output({0, NAN}, out, 0), InputError);
}

TEST(Integrate, TrapezoidWithPartialLastStep) {
  const auto t = grid(11, 0.1);  // 0 .. 1
  std::vector<double> y(t.size(), 2.0);
  EXPECT_NEAR(integrate(t, y, 1.0), 2.0, 1e-12);
  EXPECT_NEAR(integrate(t, y, 0.35), 0.7, 1e-12);
  EXPECT_NEAR(integrate(t, y, 5.0), 2.0, 1e-12);  // beyond the end: up to the last sample
  EXPECT_EQ(integrate(t, y, -1.0), 0.0);
  std::vector<double> ramp(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) ramp[i] = 3.0 * t[i];
  EXPECT_NEAR(integrate(t, ramp, 1.0), 1.5, 1e-12);    // exact for linear data
  EXPECT_NEAR(integrate(t, ramp, 0.55), 1.5 * 0.55 * 0.55, 1e-12);
  EXPECT_THROW(integrate(t, std::vector<double>(3, 1.0), 1.0), InputError);
  EXPECT_THROW(integrate(t, y, NAN), InputError);
}

TEST(Statistics, PercentilesAndSkippedValues) {
  const Stats s = statistics({4, 1, 3, 2, NAN, 5});
  EXPECT_EQ(s.n, 5u);
  EXPECT_EQ(s.skipped, 1u);
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  EXPECT_DOUBLE_EQ(s.median, 3.0);
  EXPECT_DOUBLE_EQ(s.p25, 2.0);
  EXPECT_NEAR(s.sd, std::sqrt(2.5), 1e-12);
  EXPECT_DOUBLE_EQ(s.p95, 4.8);
  EXPECT_TRUE(std::isnan(statistics({}).mean));
}

TEST(MeasureSwitch, EnergyIsVddTimesChargeWithAndWithoutInputs) {
  // Supply 10 uA constant, inputs 3 x 15 nA, class flips to 1 at 2 us (linear crossing).
  SwitchTrace tr;
  tr.time_s = grid(101, 0.1e-6);  // 0 .. 10 us
  tr.supply_A.assign(tr.time_s.size(), 10e-6);
  tr.input_A.assign(tr.time_s.size(), 45e-9);
  tr.output_A.assign(2, std::vector<double>(tr.time_s.size()));
  for (std::size_t i = 0; i < tr.time_s.size(); ++i) {
    tr.output_A[0][i] = 20e-9;
    tr.output_A[1][i] = 10e-9 * tr.time_s[i] / 1e-6;  // 20 nA at 2 us
  }
  tr.asymptotic_class = 1;
  const SwitchMeasures m = measure_switch(tr, 1.8, 10e-6);
  EXPECT_NEAR(m.time_to_output_s, 2e-6, 1e-12);
  EXPECT_NEAR(m.energy_tto_J, 1.8 * 10e-6 * 2e-6, 1e-20);
  EXPECT_NEAR(m.energy_tto_inputs_J, 1.8 * (10e-6 + 45e-9) * 2e-6, 1e-20);
  EXPECT_NEAR(m.energy_window_J, 1.8 * 10e-6 * 10e-6, 1e-19);
  EXPECT_NEAR(m.power_tto_W, 18e-6, 1e-12);
  EXPECT_EQ(m.final_class, 1);
  // A shorter window cuts the trace: the class is never reached inside 1.5 us.
  const SwitchMeasures m2 = measure_switch(tr, 1.8, 1.5e-6);
  EXPECT_LT(m2.time_to_output_s, 0);
  EXPECT_TRUE(std::isnan(m2.energy_tto_J));
  EXPECT_THROW(measure_switch(tr, 1.8, 0), InputError);
}

TEST(Summarise, FractionsAndEfficiency) {
  std::vector<PatternRecord> recs(4);
  for (std::size_t k = 0; k < 4; ++k) {
    recs[k].index = k;
    recs[k].ok = true;
    recs[k].label = 1;
    recs[k].m.asymptotic_class = 1;
    recs[k].m.final_class = 1;
    recs[k].m.time_to_output_s = 1e-6 * static_cast<double>(k + 1);
    recs[k].m.energy_tto_J = 1e-12 * static_cast<double>(k + 1);  // 1 pJ per us
    recs[k].m.energy_tto_inputs_J = 2 * recs[k].m.energy_tto_J;
    recs[k].m.energy_window_J = 15e-12;
    recs[k].m.energy_window_inputs_J = 16e-12;
    recs[k].m.power_tto_W = 1e-6;
  }
  recs[3].m.asymptotic_class = 0;  // wrong class
  recs[2].ok = false;              // a failed transient
  recs[2].error = "timestep too small";
  const auto s = summarise(recs, 100, 15e-6, 1.8);
  EXPECT_EQ(s["failed"].get<int>(), 1);
  EXPECT_EQ(s["simulated"].get<int>(), 3);
  EXPECT_EQ(s["failures"][0]["error"].get<std::string>(), "timestep too small");
  EXPECT_DOUBLE_EQ(s["reached_fraction"].get<double>(), 1.0);
  EXPECT_NEAR(s["accuracy_asymptotic"].get<double>(), 2.0 / 3.0, 1e-12);
  // 100 ops / (k pJ) = 100/k TOp/J for the simulated patterns k = 1, 2, 4: mean (100 + 50 + 25) / 3.
  EXPECT_NEAR(s["efficiency_to_output_TOp_per_J"]["mean"].get<double>(), 175.0 / 3, 1e-9);
  EXPECT_NEAR(s["efficiency_to_output_with_inputs_TOp_per_J"]["mean"].get<double>(), 87.5 / 3, 1e-9);
  EXPECT_NEAR(s["energy_per_op_to_output_pJ"]["median"].get<double>(), 0.02, 1e-12);
  EXPECT_NEAR(s["energy_per_op_window_pJ"]["mean"].get<double>(), 0.15, 1e-12);
  EXPECT_NEAR(s["time_to_output_s"]["mean"].get<double>(), (1e-6 + 2e-6 + 4e-6) / 3, 1e-15);
}

TEST(SwitchOptions, ValidateNamesTheField) {
  SwitchOptions o;
  o.t_max_s = -1;
  try {
    o.validate();
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("t_max_s"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_method("fast"), InputError);
  EXPECT_EQ(parse_method("layerwise"), Method::layerwise);
}

// The characterisation of a 4-7-3 chip through libngspice (label `sim`): synapse isolation, determinism
// per chip seed, seed dependence, the ideal chip, full-netlist vs decomposed solver, checkpoint records.
// Small designs (few routings and levels) keep each test within ~30 s on 2 cores.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "nnspice/measure/characterize.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/netlist/process.hpp"

namespace nm = nnspice::measure;
namespace fs = std::filesystem;
using nnspice::netlist::NetworkSpec;

namespace {

const NetworkSpec& spec() {
  static const NetworkSpec s = NetworkSpec::parse("4-7-3");
  return s;
}

nnspice::sim::NetworkChip chip(std::uint64_t seed, bool ideal = false) {
  const auto process = nnspice::netlist::default_process();
  return {spec(), process, ideal ? nnspice::mismatch::ideal_chip(spec()) : nnspice::mismatch::draw_chip(spec(), process, seed)};
}

nm::CharacterizeOptions small_options() {
  nm::CharacterizeOptions o;
  o.routings = 4;
  o.levels_A = {2e-9, 20e-9, 40e-9};
  o.negative_routings = 2;
  o.negative_levels_A = {1e-8, 3e-8};
  return o;
}

nm::Characterization run(const nnspice::sim::NetworkChip& c, const std::string& method = "full", const std::string& log = {}) {
  nm::RunnerOptions ro;
  ro.method = method;
  ro.workers = 2;
  ro.progress = false;
  ro.log_path = log;
  nm::OpRunner runner(c, ro);
  return nm::characterize(c.spec, runner, small_options());
}

double max_rel_diff(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b) {
  double m = 0;
  for (std::size_t l = 0; l < a.size(); ++l)
    for (std::size_t i = 0; i < a[l].size(); ++i) m = std::max(m, std::abs(a[l][i] / b[l][i] - 1));
  return m;
}

}  // namespace

// A synapse alone on its post-neuron gives the same output whether the rest of the chip is off or routed:
// "measured in isolation" holds inside a routing (DC gates draw no current).
TEST(CharacterizeSim, SynapseIsolatedInsideARouting) {
  const auto c = chip(7);
  nm::RunnerOptions ro;
  ro.progress = false;
  nm::OpRunner runner(c, ro);
  auto alone = nnspice::netlist::constant_weights(spec(), 0);
  alone[0].codes[2 * 4 + 1] = 7;  // layer 0: post 2 <- pre 1 only
  const auto cyc = nm::cyclic_routings(spec());
  ASSERT_EQ(cyc[3].pre[0][2], 1);  // (2 + 3) mod 4
  const std::vector<double> in(4, 30e-9);
  const auto res = runner.run({{alone, {in}}, {nm::routing_weights(spec(), cyc[3]), {in}}}, "isolation");
  ASSERT_TRUE(res[0][0].ok) << res[0][0].error;
  ASSERT_TRUE(res[1][0].ok) << res[1][0].error;
  const double y_alone = res[0][0].currents[1][2], y_routed = res[1][0].currents[1][2];
  EXPECT_GT(y_alone, 5e-9);
  EXPECT_NEAR(y_routed / y_alone, 1.0, 1e-3) << "alone " << y_alone << " A, in routing " << y_routed << " A";
  // The other posts of the alone configuration get (almost) nothing: only leakage of code-0 synapses.
  EXPECT_LT(std::abs(res[0][0].currents[1][0]), 1e-3 * y_alone);
}

TEST(CharacterizeSim, SameSeedIdenticalOtherSeedDifferent) {
  const auto a = run(chip(7)), b = run(chip(7)), other = run(chip(8));
  EXPECT_EQ(a.failed_ops, 0u);
  EXPECT_EQ(a.slopes, b.slopes) << "same chip seed must give an identical calibration";
  EXPECT_EQ(a.negative_gain, b.negative_gain);
  EXPECT_GT(max_rel_diff(a.slopes_raw, other.slopes_raw), 1e-3) << "another chip seed must give other slopes";
  for (std::size_t l = 0; l < 2; ++l) {
    const auto s = nm::stats(a.slopes[l]);
    EXPECT_NEAR(s.mean, 1.0, 1e-12);
    EXPECT_GT(s.sd, 0.01) << "a mismatched chip has a slope spread (layer " << l << ")";
    for (double v : a.slopes_raw[l]) EXPECT_TRUE(v > 0.3 && v < 3) << v;
    for (double g : a.negative_gain[l]) EXPECT_TRUE(g > 0.7 && g < 3) << "negative gain " << g;
  }
}

TEST(CharacterizeSim, IdealChipHasUniformSlopes) {
  const auto c = run(chip(0, true));
  // Identical circuits and (layer 0) identical inputs: equal slopes; hidden neurons see different input
  // currents, so only the (small) current dependence of the gain separates them.
  EXPECT_LT(nm::stats(c.slopes[0]).sd, 1e-3);
  EXPECT_LT(nm::stats(c.slopes[1]).sd, 0.02);
  EXPECT_LT(nm::stats(c.negative_gain[0]).sd / nm::stats(c.negative_gain[0]).mean, 0.02);
}

TEST(CharacterizeSim, DecomposedSolverAgreesWithFullNetlist) {
  const auto full = run(chip(7), "full"), dec = run(chip(7), "decomposed");
  EXPECT_EQ(dec.method, "decomposed");
  EXPECT_LE(max_rel_diff(full.slopes_raw, dec.slopes_raw), 0.005);
  EXPECT_LE(max_rel_diff(full.negative_gain, dec.negative_gain), 0.005);
}

TEST(CharacterizeSim, CheckpointRecordsEveryPointAndResumes) {
  const auto dir = fs::temp_directory_path() / ("nnspice_test_measure_sim_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string log = (dir / "ops.jsonl").string();
  const auto first = run(chip(7), "full", log);
  {
    nm::OpLog reread(log, true);
    EXPECT_EQ(reread.size(), first.runner.ops_total) << "every operating point is in the checkpoint";
  }
  nm::RunnerOptions ro;
  ro.progress = false;
  ro.log_path = log;
  ro.resume = true;
  nm::OpRunner runner(chip(7), ro);
  const auto again = nm::characterize(spec(), runner, small_options());
  EXPECT_EQ(again.runner.ops_simulated, 0u);
  EXPECT_EQ(again.runner.ops_from_log, first.runner.ops_total);
  EXPECT_EQ(again.slopes, first.slopes);
  EXPECT_EQ(again.negative_gain, first.negative_gain);
  fs::remove_all(dir);
}

// Calibration writing: the conventions.md format (shapes, keys, mean-1 slopes, positive gains) and the
// NPY files, read back.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "fake_solver.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/measure/outputs.hpp"
#include "nnspice/mismatch/chip.hpp"

namespace nm = nnspice::measure;
namespace fs = std::filesystem;
using nnspice::netlist::NetworkSpec;

TEST(Outputs, CalibrationFormatAndFiles) {
  const auto spec = NetworkSpec::parse("4-7-3");
  nm::testing::FakeChipModel m;
  for (std::size_t l = 0; l < 2; ++l) {
    std::vector<double> a;
    for (int i = 0; i < spec.layers[l]; ++i) a.push_back(0.8 + 0.05 * i);
    m.a.push_back(a);
    m.g_pos.push_back(std::vector<double>(spec.layers[l] * spec.layers[l + 1], 1.0));
    m.g_neg.push_back(std::vector<double>(spec.layers[l] * spec.layers[l + 1], 1.4));
  }
  auto runner = nm::testing::fake_runner(spec, m);
  nm::CharacterizeOptions o;
  o.synapses = true;
  o.ground_truth = true;
  o.ground_truth_routings = {5, 10};
  const auto c = nm::characterize(spec, runner, o);

  const auto dir = (fs::temp_directory_path() / ("nnspice_test_measure_out_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  nm::write_characterization(dir, c, "chip.csv", 7);
  const auto j = nlohmann::json::parse(nnspice::read_file(dir + "/calibration.json"));
  EXPECT_EQ(j["format"], "nnspice-calibration/1");
  EXPECT_EQ(j["layers"], nlohmann::json({4, 7, 3}));
  EXPECT_EQ(j["chip"], "chip.csv");
  EXPECT_EQ(j["seed"], 7);
  ASSERT_EQ(j["slopes"].size(), 2u);
  ASSERT_EQ(j["negative_gain"].size(), 2u);
  for (std::size_t l = 0; l < 2; ++l) {
    ASSERT_EQ(j["slopes"][l].size(), static_cast<std::size_t>(spec.layers[l]));
    double sum = 0;
    for (double s : j["slopes"][l]) {
      sum += s;
      EXPECT_GT(s, 0);
    }
    EXPECT_NEAR(sum / spec.layers[l], 1.0, 1e-12);
    for (double g : j["negative_gain"][l]) EXPECT_NEAR(g, 1.4, 1e-9);
    const auto s = nnspice::read_npy(dir + "/slopes_" + std::to_string(l) + ".npy");
    EXPECT_EQ(s.shape, std::vector<std::size_t>{static_cast<std::size_t>(spec.layers[l])});
    for (std::size_t i = 0; i < s.size(); ++i) EXPECT_DOUBLE_EQ(s.data[i], j["slopes"][l][i].get<double>());
    const auto gp = nnspice::read_npy(dir + "/synapse_gain_pos_" + std::to_string(l) + ".npy");
    EXPECT_EQ(gp.shape, (std::vector<std::size_t>{static_cast<std::size_t>(spec.layers[l + 1]), static_cast<std::size_t>(spec.layers[l])}));
    for (double g : gp.data) EXPECT_NEAR(g, 1.0, 1e-12);
    const auto gn = nnspice::read_npy(dir + "/synapse_gain_neg_" + std::to_string(l) + ".npy");
    for (double g : gn.data) EXPECT_NEAR(g, 1.4, 1e-9);
    const auto rt = nnspice::read_npy(dir + "/routings_" + std::to_string(l) + ".npy");
    EXPECT_TRUE(rt.integer_dtype);
    EXPECT_EQ(rt.shape, (std::vector<std::size_t>{10, static_cast<std::size_t>(spec.layers[l + 1])}));
  }
  // --ground-truth: the calibration's slopes come from the routings, the gains are relative to the
  // per-synapse slopes, so the calibration does not reference them (and says why).
  EXPECT_FALSE(j.contains("synapse_gains"));
  EXPECT_NE(j["synapse_gains_note"].get<std::string>().find("--ground-truth"), std::string::npos) << j["synapse_gains_note"];
  const auto cur = nnspice::read_npy(dir + "/currents_1.npy");
  EXPECT_EQ(cur.shape, (std::vector<std::size_t>{10 * 5, 7}));
  const auto summary = nm::summary_json(c);
  EXPECT_EQ(summary["operating_points_failed"], 0);
  EXPECT_TRUE(summary.contains("ground_truth"));
  EXPECT_EQ(summary["per_layer"].size(), 2u);
  fs::remove_all(dir);
}

TEST(Outputs, CalibrationReferencesUsableSynapseGains) {
  // --synapses alone: the slopes are the per-synapse means, and calibration.json lists the gain files
  // (relative to its folder) that `nnspice train` reads; a gain without a usable point keeps them out.
  const auto spec = NetworkSpec::parse("3-4-2");
  nm::testing::FakeChipModel m;
  for (std::size_t l = 0; l < 2; ++l) {
    m.a.push_back(std::vector<double>(spec.layers[l], 0.9));
    std::vector<double> gp, gn;
    for (int s = 0; s < spec.layers[l] * spec.layers[l + 1]; ++s) {
      gp.push_back(0.9 + 0.02 * s);
      gn.push_back(1.2 + 0.01 * s);
    }
    m.g_pos.push_back(gp);
    m.g_neg.push_back(gn);
  }
  auto runner = nm::testing::fake_runner(spec, m);
  nm::CharacterizeOptions o;
  o.synapses = true;
  auto c = nm::characterize(spec, runner, o);
  EXPECT_EQ(nm::synapse_gains_unusable(c), "");
  const auto dir = (fs::temp_directory_path() / ("nnspice_test_measure_syn_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  nm::write_characterization(dir, c, "chip.csv", 3);
  const auto j = nlohmann::json::parse(nnspice::read_file(dir + "/calibration.json"));
  EXPECT_EQ(j["slopes_source"], "synapses");
  ASSERT_EQ(j["synapse_gains"].size(), 2u);
  for (std::size_t l = 0; l < 2; ++l) {
    EXPECT_EQ(j["synapse_gains"][l]["pos"], "synapse_gain_pos_" + std::to_string(l) + ".npy");
    EXPECT_EQ(j["synapse_gains"][l]["neg"], "synapse_gain_neg_" + std::to_string(l) + ".npy");
    EXPECT_TRUE(fs::exists(dir + "/" + j["synapse_gains"][l]["pos"].get<std::string>()));
    EXPECT_TRUE(fs::exists(dir + "/" + j["synapse_gains"][l]["neg"].get<std::string>()));
  }
  c.synapse_gain_neg[1][5] = std::nan("");
  EXPECT_NE(nm::synapse_gains_unusable(c).find("synapse_gain_neg_1.npy [1, 1] = nan"), std::string::npos) << nm::synapse_gains_unusable(c);
  const auto j2 = nm::calibration_json(c, "chip.csv", 3);
  EXPECT_FALSE(j2.contains("synapse_gains"));
  EXPECT_TRUE(j2.contains("synapse_gains_note"));
  fs::remove_all(dir);
}

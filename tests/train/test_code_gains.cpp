// Gains per code in training (docs/training.md, docs/characterize.md §3 "Gains per code"): gains per code
// equal to the ±7 gains give the ±7 model bit for bit (forward, gradients, codes, a training run); with
// unequal gains the quantiser picks the nearest of the synapse's grid values Δ·k·g_k; calibration files
// with pos_codes/neg_codes round-trip; bad files are input errors naming the file and index.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "test_util.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/train/config.hpp"
#include "nnspice/train/network.hpp"
#include "nnspice/train/trainer.hpp"

using namespace nnspice::train;
namespace fs = std::filesystem;

namespace {

std::string scratch_dir(const std::string& name) { return test::scratch_dir("code_gains", name); }
using test::error_of;

/// ±7 gains g⁺ ~ N(1, 0.1), g⁻ ~ negative gain · N(1, 0.12); gains per code: the ±7 gain times (1 + spread·N(0, 1)).
void add_gains(Calibration& c, std::uint64_t seed, double code_spread) {
  nnspice::Rng rng(seed);
  for (std::size_t l = 0; l + 1 < c.layers.size(); ++l) {
    const std::size_t N = c.layers[l], P = c.layers[l + 1], NP = N * P;
    std::vector<double> pos(NP), neg(NP), cp(7 * NP), cn(7 * NP);
    for (std::size_t s = 0; s < NP; ++s) {
      pos[s] = rng.normal(1.0, 0.1);
      neg[s] = c.negative_gain[l][s % N] * rng.normal(1.0, 0.12);
      for (std::size_t k = 0; k < 7; ++k) {
        cp[k * NP + s] = k == 6 || code_spread == 0 ? pos[s] : pos[s] * (1 + code_spread * rng.normal());
        cn[k * NP + s] = k == 6 || code_spread == 0 ? neg[s] : neg[s] * (1 + code_spread * rng.normal());
      }
    }
    c.synapse_gain_pos.push_back(pos);
    c.synapse_gain_neg.push_back(neg);
    c.synapse_gain_code_pos.push_back(cp);
    c.synapse_gain_code_neg.push_back(cn);
  }
}

}  // namespace

TEST(CodeGains, EqualToTheSevenGainsGiveTheSameBits) {
  const Layers layers = {5, 6, 4, 3};
  Calibration codes = random_calibration(layers, 0.2, 1.7, 0.1, 21);
  add_gains(codes, 21, 0.0);
  Calibration seven = codes;
  seven.drop_code_gains();
  {
    Network<float> a, b;
    a.configure(layers, seven, QuantGrid{}, true);
    b.configure(layers, codes, QuantGrid{}, true);
    ASSERT_FALSE(a.per_code());
    ASSERT_TRUE(b.per_code());
  }
  EXPECT_GT(test::expect_same_bits(seven, codes), 0) << "no clipped weight exercised";
  // A whole training run (Iris, 15 epochs): the same weights.
  Calibration iris_codes = random_calibration(TrainConfig::defaults_for("iris").train.layers, 0.15, 1.4, 0.1, 7);
  add_gains(iris_codes, 7, 0.0);
  Calibration iris_seven = iris_codes;
  iris_seven.drop_code_gains();
  test::expect_same_training(iris_seven, iris_codes);
}

TEST(CodeGains, QuantiserPicksTheNearestGridValue) {
  const Layers layers = {3, 2};
  Calibration cal = random_calibration(layers, 0.0, 1.3, 0.0, 1);
  add_gains(cal, 3, 0.15);
  Network<double> net;
  net.configure(layers, cal, QuantGrid{}, true);
  const std::size_t NP = 6;
  nnspice::Rng rng(4);
  for (int trial = 0; trial < 200; ++trial) {
    for (Eigen::Index q = 0; q < net.master[0].size(); ++q) net.master[0].data()[q] = rng.uniform(-3.5, 3.5);
    Eigen::MatrixXd w_eff, pass;
    net.effective(0, w_eff, pass);
    const Eigen::MatrixXi k = net.codes(0);
    for (Eigen::Index j = 0; j < 2; ++j)
      for (Eigen::Index i = 0; i < 3; ++i) {
        const double w = net.master[0](j, i);
        const std::size_t s = static_cast<std::size_t>(j) * 3 + i;
        const auto& g = w >= 0 ? cal.synapse_gain_code_pos[0] : cal.synapse_gain_code_neg[0];
        // Brute force over the grid Δ·k·g_k (same sign as w), ties to the larger code.
        int best = 0;
        double best_d = std::abs(w);
        for (int c = 1; c <= 7; ++c) {
          const double v = 0.25 * c * g[(c - 1) * NP + s];
          if (std::abs(std::abs(w) - v) <= best_d) best = c, best_d = std::abs(std::abs(w) - v);
        }
        EXPECT_EQ(std::abs(k(j, i)), best) << "w " << w;
        if (best) EXPECT_EQ(k(j, i) > 0, w >= 0);
        const double value = best == 0 ? 0.0 : 0.25 * best * g[(best - 1) * NP + s] * (w >= 0 ? 1 : -1);
        EXPECT_NEAR(w_eff(j, i), value, 1e-12);
        const double top = 0.25 * 7 * g[6 * NP + s];
        double below = 0;  // the strongest lower code
        for (int c = 1; c < 7; ++c) below = std::max(below, 0.25 * c * g[(c - 1) * NP + s]);
        EXPECT_EQ(pass(j, i), std::abs(w) >= top + (top - below) / 2 ? 0.0 : 1.0) << "w " << w;
      }
    // set_codes puts the masters on those grid values.
    Network<double> back = net;
    back.set_codes(0, k);
    for (Eigen::Index q = 0; q < w_eff.size(); ++q) EXPECT_NEAR(back.master[0].data()[q], w_eff.data()[q], 1e-12);
  }
}

TEST(CodeGains, CalibrationFileRoundTripAndOldFiles) {
  const std::string dir = scratch_dir("roundtrip");
  Calibration cal = random_calibration({4, 7, 3}, 0.15, 1.3, 0.1, 5);
  add_gains(cal, 5, 0.02);
  write_calibration(dir + "/calibration.json", cal);
  EXPECT_EQ(nnspice::read_npy(dir + "/synapse_gain_code_neg_0.npy").shape, (std::vector<std::size_t>{7, 7, 4}));
  const Calibration back = read_calibration(dir + "/calibration.json");
  ASSERT_TRUE(back.has_code_gains());
  EXPECT_EQ(back.synapse_gain_code_pos, cal.synapse_gain_code_pos);
  EXPECT_EQ(back.synapse_gain_code_neg, cal.synapse_gain_code_neg);
  // --synapse-gains false drops them with the ±7 gains.
  EXPECT_FALSE(read_calibration(dir + "/calibration.json", false).has_code_gains());
  // A calibration with ±7 gains only (the earlier format) still reads, without gains per code.
  Calibration seven = cal;
  seven.drop_code_gains();
  const std::string old = scratch_dir("old");
  write_calibration(old + "/calibration.json", seven);
  const Calibration o = read_calibration(old + "/calibration.json");
  EXPECT_TRUE(o.has_synapse_gains());
  EXPECT_FALSE(o.has_code_gains());
}

TEST(CodeGains, BadFilesAreInputErrorsNamingFileAndIndex) {
  const std::string dir = scratch_dir("bad");
  const std::string json = dir + "/calibration.json";
  Calibration cal = random_calibration({4, 7, 3}, 0.15, 1.3, 0.1, 5);
  add_gains(cal, 5, 0.0);
  write_calibration(json, cal);
  const std::string file = dir + "/synapse_gain_code_pos_1.npy";
  // Wrong shape.
  nnspice::write_npy(file, std::vector<double>(21, 1.0), {3, 7});
  std::string e = error_of([&] { read_calibration(json); });
  EXPECT_NE(e.find("synapse_gain_code_pos_1.npy"), std::string::npos) << e;
  EXPECT_NE(e.find("expected (7, 3, 7)"), std::string::npos) << e;
  // A non-positive value: file, [code, post, pre] index and value.
  std::vector<double> v(7 * 21, 1.0);
  v[2 * 21 + 1 * 7 + 5] = -0.5;
  nnspice::write_npy(file, v, {7, 3, 7});
  e = error_of([&] { read_calibration(json); });
  EXPECT_NE(e.find("synapse_gain_code_pos_1.npy: entry [2, 1, 5] (code 3) = -0.5"), std::string::npos) << e;
  // Lower codes out of order (code 4 weaker than code 3, a mismatched branch) are accepted …
  v.assign(7 * 21, 1.0);
  v[3 * 21 + 4] = 0.7;  // 4 · 0.7 = 2.8 < 3
  nnspice::write_npy(file, v, {7, 3, 7});
  EXPECT_EQ(error_of([&] { read_calibration(json); }), "(no error)");
  // … but code 7 must be the strongest (the clip rule needs it): 7 · 0.8 = 5.6 < 6.
  v[3 * 21 + 4] = 1.0;
  v[6 * 21 + 1 * 7 + 2] = 0.8;
  nnspice::write_npy(file, v, {7, 3, 7});
  e = error_of([&] { read_calibration(json); });
  EXPECT_NE(e.find("[6, 1, 2]"), std::string::npos) << e;
  EXPECT_NE(e.find("code 7 (gain 0.8) is not stronger than code 6"), std::string::npos) << e;
  // pos_codes without neg_codes.
  write_calibration(json, cal);
  std::ifstream in(json);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const auto at = text.find("\"neg_codes\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 11, "\"neg_codez\"");
  std::ofstream(json) << text;
  e = error_of([&] { read_calibration(json); });
  EXPECT_NE(e.find("names pos_codes but not neg_codes"), std::string::npos) << e;
  // max_code > 7 with gains per code.
  write_calibration(json, cal);
  Network<float> n;
  QuantGrid g;
  g.max_code = 9;
  e = error_of([&] { n.configure({4, 7, 3}, read_calibration(json), g, true); });
  EXPECT_NE(e.find("max_code = 9"), std::string::npos) << e;
}

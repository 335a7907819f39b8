// Per-synapse calibration in training (docs/training.md "Per-synapse gains"): unit gains reproduce the
// per-neuron model bit for bit; a forward pass by hand; the quantiser's grid per synapse; the
// straight-through gradient against finite differences of the effective weights (and, in code units,
// Δ·g times it); calibration files with synapse_gains (round trip, bad shapes / values named); resume
// refuses a run that used the gains differently.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "test_util.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/train/config.hpp"
#include "nnspice/train/network.hpp"
#include "nnspice/train/trainer.hpp"

using namespace nnspice::train;
using MatD = Eigen::MatrixXd;
namespace fs = std::filesystem;

namespace {

std::string scratch_dir(const std::string& name) { return test::scratch_dir("synapse_gains", name); }
using test::error_of;

/// g⁺ = 1 and g⁻ = the pre-neuron's negative gain: the per-neuron model written per synapse.
void add_unit_gains(Calibration& c) {
  for (std::size_t l = 0; l + 1 < c.layers.size(); ++l) {
    const std::size_t N = c.layers[l], P = c.layers[l + 1];
    c.synapse_gain_pos.emplace_back(N * P, 1.0);
    std::vector<double> neg(N * P);
    for (std::size_t s = 0; s < N * P; ++s) neg[s] = c.negative_gain[l][s % N];
    c.synapse_gain_neg.push_back(neg);
  }
}

/// Measured-like per-synapse spread: g⁺ ~ N(1, 0.1), g⁻ ~ negative gain · N(1, 0.12) (characterize.md §3).
void add_random_gains(Calibration& c, std::uint64_t seed) {
  nnspice::Rng rng(seed);
  for (std::size_t l = 0; l + 1 < c.layers.size(); ++l) {
    const std::size_t N = c.layers[l], P = c.layers[l + 1];
    std::vector<double> pos(N * P), neg(N * P);
    for (std::size_t s = 0; s < N * P; ++s) {
      pos[s] = rng.normal(1.0, 0.1);
      neg[s] = c.negative_gain[l][s % N] * rng.normal(1.0, 0.12);
    }
    c.synapse_gain_pos.push_back(pos);
    c.synapse_gain_neg.push_back(neg);
  }
}

}  // namespace

TEST(SynapseGains, UnitGainsGiveTheSameBitsAsThePerNeuronModel) {
  const Layers layers = {5, 6, 4, 3};
  const Calibration cal = random_calibration(layers, 0.2, 1.7, 0.1, 21);
  Calibration unit = cal;
  add_unit_gains(unit);
  {
    Network<float> a, b;
    a.configure(layers, cal, QuantGrid{}, true);
    b.configure(layers, unit, QuantGrid{}, true);
    ASSERT_FALSE(a.per_synapse());
    ASSERT_TRUE(b.per_synapse());
  }
  test::expect_same_bits(cal, unit);
  // And a whole training run (Iris, 15 epochs): the same weights.
  Calibration iris = random_calibration(TrainConfig::defaults_for("iris").train.layers, 0.15, 1.4, 0.1, 7);
  Calibration iris_unit = iris;
  add_unit_gains(iris_unit);
  test::expect_same_training(iris, iris_unit);
}

TEST(SynapseGains, ForwardByHand) {
  // 2-2-1: a0 = s0*x, a1 = s1*relu(W0 a0), out = relu(W1 a1), W[j,i] = Δ k g⁺_ji (k > 0) or Δ k g⁻_ji (k < 0);
  // the per-neuron negative gains (3, 1 / 1, 2) must not enter.
  const Layers layers = {2, 2, 1};
  Calibration cal = homogeneous_calibration(layers, 1.0);
  cal.slopes = {{2.0, 0.5}, {1.5, 1.0}};
  cal.negative_gain = {{3.0, 1.0}, {1.0, 2.0}};
  cal.synapse_gain_pos = {{1.2, 0.9, 1.1, 0.8}, {0.7, 1.4}};  // row-major (post, pre)
  cal.synapse_gain_neg = {{2.5, 1.3, 2.0, 1.5}, {1.6, 2.2}};
  Network<double> net;
  net.configure(layers, cal, QuantGrid{}, true);
  Eigen::MatrixXi k0(2, 2), k1(1, 2);
  k0 << 4, -2,  // post 0: +4 from pre 0 (g⁺ 1.2), -2 from pre 1 (g⁻ 1.3)
      -1, 3;    // post 1: -1 from pre 0 (g⁻ 2.0), +3 from pre 1 (g⁺ 0.8)
  k1 << 2, -1;  // output: +2 from hidden 0 (g⁺ 0.7), -1 from hidden 1 (g⁻ 2.2)
  net.set_codes(0, k0);
  net.set_codes(1, k1);
  EXPECT_EQ(net.codes(0), k0);
  EXPECT_EQ(net.codes(1), k1);
  MatD x(2, 1);
  x << 1.0, 4.0;
  // a0 = (2, 2); z0 = 0.25·4·1.2·2 − 0.25·2·1.3·2 = 2.4 − 1.3 = 1.1; z1 = −0.25·2.0·2 + 0.25·3·0.8·2 = −1 + 1.2 = 0.2
  // a1 = (1.5·1.1, 1.0·0.2) = (1.65, 0.2); out = 0.25·2·0.7·1.65 − 0.25·2.2·0.2 = 0.5775 − 0.11 = 0.4675
  ForwardCache<double> c;
  const MatD& out = forward(net, x, c);
  EXPECT_NEAR(c.z[0](0, 0), 1.1, 1e-12);
  EXPECT_NEAR(c.z[0](1, 0), 0.2, 1e-12);
  EXPECT_NEAR(out(0, 0), 0.4675, 1e-12);
  EXPECT_NEAR(predict(net, x)(0, 0), 0.4675, 1e-12);
  // The per-neuron model of the same chip gives another output (0.75).
  Calibration per_neuron = cal;
  per_neuron.drop_synapse_gains();
  Network<double> pn;
  pn.configure(layers, per_neuron, QuantGrid{}, true);
  pn.set_codes(0, k0);
  pn.set_codes(1, k1);
  EXPECT_GT(std::fabs(predict(pn, x)(0, 0) - 0.4675), 0.1);
}

TEST(SynapseGains, QuantiserUsesEachSynapsesGrid) {
  const Layers layers = {3, 2};
  Calibration cal = homogeneous_calibration(layers, 1.0);
  cal.synapse_gain_pos = {{0.8, 1.25, 1.0, 1.0, 1.0, 0.5}};
  cal.synapse_gain_neg = {{2.0, 1.0, 1.6, 1.2, 0.9, 1.0}};
  Network<double> net;
  net.configure(layers, cal, QuantGrid{}, true);
  net.master[0] << 0.33, -0.6, 1.9,
                   -1.9, 0.1, 1.9;
  MatD w, pass;
  net.effective(0, w, pass);
  // (0,0): 0.33/(0.25·0.8) = 1.65 -> 2 -> 0.4. (0,1): -0.6/(0.25·1.0) = -2.4 -> -2 -> -0.5.
  // (0,2): 1.9/0.25 = 7.6 -> clip 7 -> 1.75, no gradient. (1,0): -1.9/(0.25·1.2) = -6.33 -> -6 -> -1.8 (the
  // per-neuron grid with gain 1 would clip at -7). (1,1): 0.4 -> 0. (1,2): 1.9/(0.25·0.5) = 15.2 -> clip 7 -> 0.875.
  MatD want(2, 3), want_pass(2, 3);
  want << 0.4, -0.5, 1.75, -1.8, 0.0, 0.875;
  want_pass << 1, 1, 0, 1, 1, 0;
  EXPECT_TRUE(w.isApprox(want, 1e-14)) << w;
  EXPECT_EQ(pass, want_pass);
  Eigen::MatrixXi k(2, 3);
  k << 2, -2, 7, -6, 0, 7;
  EXPECT_EQ(net.codes(0), k);
  net.quantize = false;  // the float model's codes use the same grids
  EXPECT_EQ(net.codes(0), k);
  EXPECT_EQ(quantize_code(-1.9, 1.0, 1.2, QuantGrid{}), -6);
  EXPECT_DOUBLE_EQ(code_value(2, 0.8, 2.0, QuantGrid{}), 0.4);
  EXPECT_DOUBLE_EQ(code_value(-6, 0.8, 1.2, QuantGrid{}), -1.8);
  EXPECT_FALSE(quantize_passes(1.9, 0.5, 1.0, QuantGrid{}));
}

TEST(SynapseGains, StraightThroughGradientMatchesFiniteDifferences) {
  // Quantised network with per-synapse gains. The straight-through gradient is the exact gradient of the
  // loss with respect to the effective weights W̃ (where the clip is inactive, 0 where it is active):
  // checked by central differences on a float network whose masters are W̃. In code units q
  // (W̃ = Δ·g·q) the same gradient is Δ·g times it: checked by stepping W̃ by Δ·g·h.
  for (const Loss loss : {Loss::mse, Loss::cross_entropy}) {
    const std::uint64_t seed = loss == Loss::mse ? 31 : 32;
    SCOPED_TRACE(testing::Message() << "loss " << loss_name(loss) << " seed " << seed);
    const Layers layers = {5, 6, 4, 3};
    Calibration cal = random_calibration(layers, 0.2, 1.4, 0.1, seed);
    add_random_gains(cal, seed);
    Network<double> net;
    net.configure(layers, cal, QuantGrid{}, true);
    nnspice::Rng rng(seed);
    net.init_uniform(rng, 2.2);  // some codes clip
    MatD x(5, 7);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform(0.0, 1.0);
    const std::vector<int> y = {0, 1, 2, 0, 1, 2, 1};
    ForwardCache<double> c;
    const MatD out = forward(net, x, c);
    MatD d;
    loss_and_grad<double>(loss, -1, out, y.data(), d);
    std::vector<MatD> g;
    backward(net, c, d, 0.0, g);

    Network<double> f = net;  // float model at W̃
    f.quantize = false;
    for (std::size_t l = 0; l < f.num_layers(); ++l) f.master[l] = c.w_eff[l];
    ForwardCache<double> cf;
    ASSERT_TRUE(forward(f, x, cf).isApprox(out, 1e-14));
    auto loss_at = [&](const Network<double>& n) {
      ForwardCache<double> cc;
      const MatD& o = forward(n, x, cc);
      MatD dd;
      return loss_and_grad<double>(loss, -1, o, y.data(), dd);
    };
    const double h = 1e-6;
    int clipped = 0, checked = 0;
    for (std::size_t l = 0; l < net.num_layers(); ++l)
      for (Eigen::Index j = 0; j < net.master[l].cols(); ++j)
        for (Eigen::Index i = 0; i < net.master[l].rows(); ++i) {
          const double gain = net.master[l](i, j) >= 0 ? net.gain_pos[l](i, j) : net.gain_neg[l](i, j);
          for (const double unit : {1.0, 0.25 * gain}) {  // W̃ units, code units
            Network<double> p = f, m = f;
            p.master[l](i, j) += unit * h;
            m.master[l](i, j) -= unit * h;
            const double fd = (loss_at(p) - loss_at(m)) / (2 * h);
            const double want = c.pass[l](i, j) == 0 ? 0.0 : fd;
            EXPECT_NEAR(unit * g[l](i, j), want, 1e-6 + 1e-5 * std::fabs(want)) << "layer " << l << " (" << i << ", " << j << ")";
          }
          clipped += c.pass[l](i, j) == 0;
          ++checked;
        }
    EXPECT_EQ(checked, 5 * 6 + 6 * 4 + 4 * 3);
    EXPECT_GT(clipped, 0);
    EXPECT_LT(clipped, checked / 2);
  }
}

TEST(SynapseGains, FloatModelGradientWithGainsConfigured) {
  // quantize: false uses the masters as the weights; gains configured must not change its exact gradient.
  const Layers layers = {4, 5, 3};
  Calibration cal = random_calibration(layers, 0.2, 1.4, 0.1, 41);
  add_random_gains(cal, 41);
  Network<double> net;
  net.configure(layers, cal, QuantGrid{}, false);
  nnspice::Rng rng(41);
  net.init_uniform(rng, 0.8);
  MatD x(4, 6);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform(0.0, 1.0);
  const std::vector<int> y = {0, 1, 2, 0, 1, 2};
  ForwardCache<double> c;
  MatD d;
  loss_and_grad<double>(Loss::mse, -1, forward(net, x, c), y.data(), d);
  std::vector<MatD> g;
  backward(net, c, d, 0.0, g);
  const double h = 1e-6;
  for (std::size_t l = 0; l < net.num_layers(); ++l)
    for (Eigen::Index i = 0; i < net.master[l].size(); ++i) {
      Network<double> p = net, m = net;
      p.master[l].data()[i] += h;
      m.master[l].data()[i] -= h;
      ForwardCache<double> cp, cm;
      MatD dp, dm;
      const double lp = loss_and_grad<double>(Loss::mse, -1, forward(p, x, cp), y.data(), dp);
      const double lm = loss_and_grad<double>(Loss::mse, -1, forward(m, x, cm), y.data(), dm);
      const double fd = (lp - lm) / (2 * h);
      EXPECT_NEAR(g[l].data()[i], fd, 1e-6 + 1e-5 * std::fabs(fd)) << "layer " << l << " entry " << i;
    }
}

TEST(SynapseGains, RandomGainsFollowTheMeasuredConvention) {
  Calibration cal = random_calibration({6, 40, 3}, 0.15, 1.4, 0.1, 8);
  add_random_synapse_gains(cal, 0.08, 8);
  ASSERT_TRUE(cal.has_synapse_gains());
  cal.check_matches({6, 40, 3});
  for (std::size_t l = 0; l < 2; ++l) {
    const std::size_t N = cal.layers[l], P = cal.layers[l + 1];
    double ss = 0;
    for (std::size_t i = 0; i < N; ++i) {
      double mp = 0, mn = 0;
      for (std::size_t j = 0; j < P; ++j) {
        mp += cal.synapse_gain_pos[l][j * N + i] / static_cast<double>(P);
        mn += cal.synapse_gain_neg[l][j * N + i] / static_cast<double>(P);
        ss += std::pow(cal.synapse_gain_pos[l][j * N + i] - 1.0, 2);
      }
      EXPECT_NEAR(mp, 1.0, 1e-12);
      EXPECT_NEAR(mn, cal.negative_gain[l][i], 1e-12);
    }
    // 240 and 120 synapses; the normalisation removes 1/P of the variance.
    EXPECT_NEAR(std::sqrt(ss / static_cast<double>(N * P)), 0.08 * std::sqrt(1.0 - 1.0 / static_cast<double>(P)), 0.02) << l;
  }
  Calibration again = random_calibration({6, 40, 3}, 0.15, 1.4, 0.1, 8);
  add_random_synapse_gains(again, 0.08, 8);
  EXPECT_EQ(again.synapse_gain_neg, cal.synapse_gain_neg);
  EXPECT_THROW(add_random_synapse_gains(again, -0.1, 8), nnspice::InputError);
}

TEST(SynapseGains, CalibrationFileRoundTrip) {
  const std::string dir = scratch_dir("roundtrip");
  Calibration cal = random_calibration({4, 7, 3}, 0.15, 1.3, 0.1, 5);
  add_random_gains(cal, 5);
  write_calibration(dir + "/calibration.json", cal);
  EXPECT_TRUE(fs::exists(dir + "/synapse_gain_pos_0.npy"));
  EXPECT_TRUE(fs::exists(dir + "/synapse_gain_neg_1.npy"));
  EXPECT_EQ(nnspice::read_npy(dir + "/synapse_gain_neg_0.npy").shape, (std::vector<std::size_t>{7, 4}));
  const Calibration back = read_calibration(dir + "/calibration.json");
  ASSERT_TRUE(back.has_synapse_gains());
  EXPECT_EQ(back.synapse_gain_pos, cal.synapse_gain_pos);
  EXPECT_EQ(back.synapse_gain_neg, cal.synapse_gain_neg);
  EXPECT_FALSE(back.homogeneous());
  // Read from another working directory: the NPY paths are relative to the JSON's folder.
  const fs::path cwd = fs::current_path();
  fs::current_path(fs::temp_directory_path());
  EXPECT_TRUE(read_calibration(dir + "/calibration.json").has_synapse_gains());
  fs::current_path(cwd);
  // Without gains: no field, no files (old calibrations stay valid).
  const std::string plain = scratch_dir("plain");
  Calibration no = cal;
  no.drop_synapse_gains();
  write_calibration(plain + "/calibration.json", no);
  EXPECT_FALSE(fs::exists(plain + "/synapse_gain_pos_0.npy"));
  EXPECT_FALSE(read_calibration(plain + "/calibration.json").has_synapse_gains());
}

TEST(SynapseGains, BadGainFilesAreInputErrorsNamingTheFile) {
  const std::string dir = scratch_dir("bad");
  const std::string json = dir + "/calibration.json";
  auto write_json_with = [&](const std::string& gains) {
    std::ofstream(json) << R"({"format": "nnspice-calibration/1", "layers": [4, 7, 3], "slopes": [[1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]],
      "negative_gain": 1.3, "synapse_gains": )" << gains << "}";
  };
  const std::string both = R"([{"pos": "p0.npy", "neg": "n0.npy"}, {"pos": "p1.npy", "neg": "n1.npy"}])";
  auto good = [&] {
    nnspice::write_npy(dir + "/p0.npy", std::vector<double>(28, 1.0), {7, 4});
    nnspice::write_npy(dir + "/n0.npy", std::vector<double>(28, 1.3), {7, 4});
    nnspice::write_npy(dir + "/p1.npy", std::vector<double>(21, 1.0), {3, 7});
    nnspice::write_npy(dir + "/n1.npy", std::vector<double>(21, 1.3), {3, 7});
  };
  good();
  write_json_with(both);
  EXPECT_TRUE(read_calibration(json).has_synapse_gains());

  // Transposed (pre, post) instead of (post, pre).
  nnspice::write_npy(dir + "/p0.npy", std::vector<double>(28, 1.0), {4, 7});
  std::string m = error_of([&] { read_calibration(json); });
  EXPECT_NE(m.find(dir + "/p0.npy: shape (4, 7), expected (7, 4) = (post, pre)"), std::string::npos) << m;
  EXPECT_NE(m.find("synapse_gains[0].pos"), std::string::npos) << m;
  // One-dimensional.
  nnspice::write_npy(dir + "/p0.npy", std::vector<double>(28, 1.0), {28});
  m = error_of([&] { read_calibration(json); });
  EXPECT_NE(m.find("p0.npy: shape (28), expected (7, 4)"), std::string::npos) << m;
  good();
  // A negative gain, a NaN, a zero: file, index [post, pre] and value.
  std::vector<double> v(21, 1.3);
  v[2 * 7 + 5] = -0.4;
  nnspice::write_npy(dir + "/n1.npy", v, {3, 7});
  m = error_of([&] { read_calibration(json); });
  EXPECT_NE(m.find(dir + "/n1.npy: entry [2, 5] = -0.4: a synapse gain must be a finite number > 0"), std::string::npos) << m;
  v[2 * 7 + 5] = std::numeric_limits<double>::quiet_NaN();
  nnspice::write_npy(dir + "/n1.npy", v, {3, 7});
  m = error_of([&] { read_calibration(json); });
  EXPECT_NE(m.find("n1.npy: entry [2, 5] = nan"), std::string::npos) << m;
  v[2 * 7 + 5] = 1.3;
  v[0] = 0.0;
  nnspice::write_npy(dir + "/n1.npy", v, {3, 7});
  m = error_of([&] { read_calibration(json); });
  EXPECT_NE(m.find("n1.npy: entry [0, 0] = 0"), std::string::npos) << m;
  // Without the gains the files are not read: the per-neuron model of the same calibration.
  const Calibration per_neuron = read_calibration(json, /*synapse_gains=*/false);
  EXPECT_FALSE(per_neuron.has_synapse_gains());
  EXPECT_EQ(per_neuron.negative_gain[1][0], 1.3);
  good();
  // A missing file, a missing key, the wrong number of layers.
  write_json_with(R"([{"pos": "p0.npy", "neg": "missing.npy"}, {"pos": "p1.npy", "neg": "n1.npy"}])");
  m = error_of([&] { read_calibration(json); });
  EXPECT_NE(m.find("missing.npy"), std::string::npos) << m;
  EXPECT_NE(m.find("synapse_gains[0].neg"), std::string::npos) << m;
  write_json_with(R"([{"pos": "p0.npy"}, {"pos": "p1.npy", "neg": "n1.npy"}])");
  m = error_of([&] { read_calibration(json); });
  EXPECT_NE(m.find(json + ": synapse_gains[0].neg must name an NPY file"), std::string::npos) << m;
  write_json_with(R"([{"pos": "p0.npy", "neg": "n0.npy"}])");
  m = error_of([&] { read_calibration(json); });
  EXPECT_NE(m.find("synapse_gains must be a list with one"), std::string::npos) << m;
  // In memory: gains of the wrong size are caught by check_matches.
  Calibration c = homogeneous_calibration({4, 7, 3});
  add_unit_gains(c);
  c.synapse_gain_neg[1].pop_back();
  m = error_of([&] { c.check_matches({4, 7, 3}); });
  EXPECT_NE(m.find("synapse_gain_neg[1] has 20 values"), std::string::npos) << m;
}

TEST(SynapseGains, ResumeRefusesARunThatUsedTheGainsDifferently) {
  TrainConfig c = TrainConfig::defaults_for("iris");
  c.train.epochs = 3;
  const DataSplits data = load_dataset(c.data);
  Calibration with = random_calibration(c.train.layers, 0.15, 1.4, 0.1, 3);
  add_random_gains(with, 3);
  Calibration without = with;
  without.drop_synapse_gains();
  const std::string dir = scratch_dir("resume");
  TrainHooks h;
  h.progress = false;
  h.checkpoint_path = dir + "/checkpoint.bin";
  train_network(c.train, with, data, h);
  EXPECT_EQ(read_checkpoint(h.checkpoint_path).options["synapse_gains"], true);
  h.resume = true;
  c.train.epochs = 5;
  const std::string m = error_of([&] { train_network(c.train, without, data, h); });
  EXPECT_NE(m.find("cannot resume: synapse_gains was true in the checkpointed run, now false"), std::string::npos) << m;
  EXPECT_EQ(train_network(c.train, with, data, h).epochs_run, 5);
}

TEST(SynapseGains, ConfigKey) {
  const std::string dir = scratch_dir("yaml");
  std::ofstream(dir + "/t.yaml") << "dataset: iris\nsynapse_gains: false\n";
  TrainConfig c;
  EXPECT_TRUE(c.synapse_gains);
  apply_train_yaml(dir + "/t.yaml", c);
  EXPECT_FALSE(c.synapse_gains);
  EXPECT_EQ(c.to_json()["synapse_gains"], false);
}

// In-place training on a small synthetic task (the project's own data): the ideal rule learns it; plain SGD on
// a strongly asymmetric device loses accuracy; Tiki-Taka recovers most of it. Seeded; thresholds are the measured
// values with margins.
#include <gtest/gtest.h>

#include "nnspice/common/error.hpp"
#include "nnspice/memristor/training.hpp"

using namespace nnspice;
using namespace nnspice::memristor;

namespace {
/// 4 classes of 20-dimensional non-negative patterns (class prototype + noise), like pixels in [0, 1].
void blobs(std::size_t n, std::uint64_t seed, Eigen::MatrixXd& x, std::vector<int>& y, double noise = 0.35, int classes = 4) {
  Rng proto(99), rng(seed);
  Eigen::MatrixXd p(20, classes);
  for (Eigen::Index k = 0; k < p.size(); ++k) p.data()[k] = proto.uniform() < 0.3 ? 1.0 : 0.0;
  x.resize(20, static_cast<Eigen::Index>(n));
  y.resize(n);
  for (std::size_t s = 0; s < n; ++s) {
    y[s] = static_cast<int>(rng.below(static_cast<std::uint64_t>(classes)));
    for (Eigen::Index i = 0; i < 20; ++i) x(i, static_cast<Eigen::Index>(s)) = std::clamp(p(i, y[s]) + noise * rng.normal(), 0.0, 1.0);
  }
}
}  // namespace

TEST(InPlace, RulesOnSyntheticData) {
  // Noise 0.6 makes the task hard enough for the device to matter: with the old 0.35 every rule reached
  // 0.999-1.000 and "SGD loses accuracy" was not tested. Measured (seeds 1/2 of the data, seed 1 of the rules):
  // ideal 0.950, sgd 0.841, tiki-taka 0.929, shd 0.941 on 1,000 test samples (1 sample = 0.001).
  Eigen::MatrixXd xtr, xte;
  std::vector<int> ytr, yte;
  blobs(2000, 1, xtr, ytr, 0.6);
  blobs(1000, 2, xte, yte, 0.6);
  DeviceParams dev = device_preset("rram");
  InPlaceOptions o;
  o.classes = 4;
  o.epochs = 2;
  o.learning_rate = 0.02;
  o.rule = UpdateRule::ideal;
  const double ideal = train_in_place(dev, xtr, ytr, xte, yte, o).test_accuracy;
  EXPECT_GT(ideal, 0.92);
  o.rule = UpdateRule::sgd;
  const auto sgd = train_in_place(dev, xtr, ytr, xte, yte, o);
  EXPECT_GT(sgd.pulses, 0u);
  EXPECT_NEAR(sgd.update_energy_J, static_cast<double>(sgd.pulses) * dev.energy_per_pulse_J, 1e-30);
  // plain SGD on the asymmetric device loses accuracy (measured 10.9 points) …
  EXPECT_LT(sgd.test_accuracy, ideal - 0.05);
  o.rule = UpdateRule::tiki_taka;
  const auto tt = train_in_place(dev, xtr, ytr, xte, yte, o);
  // … and Tiki-Taka recovers most of it (measured 8.8 of the 10.9 points)
  EXPECT_GT(tt.test_accuracy, sgd.test_accuracy + 0.04);
  EXPECT_GT(tt.test_accuracy - sgd.test_accuracy, 0.5 * (ideal - sgd.test_accuracy));
  // deterministic for a seed
  const auto tt2 = train_in_place(dev, xtr, ytr, xte, yte, o);
  EXPECT_EQ(tt.test_accuracy, tt2.test_accuracy);
  EXPECT_EQ(tt.pulses, tt2.pulses);
  o.rule = UpdateRule::shd;
  const double shd = train_in_place(dev, xtr, ytr, xte, yte, o).test_accuracy;
  EXPECT_GT(shd, sgd.test_accuracy + 0.04);  // measured 0.941
  std::printf("synthetic: ideal %.3f sgd %.3f tiki-taka %.3f shd %.3f\n", ideal, sgd.test_accuracy, tt.test_accuracy, shd);
}

TEST(InPlace, BadInputs) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(3, 2);
  std::vector<int> y{0, 12};
  InPlaceOptions o;
  EXPECT_THROW(train_in_place(device_preset("rram"), x, y, x, y, o), InputError);  // label 12 with 10 classes
  o.learning_rate = -1;
  try {
    o.validate();
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("learning_rate = -1"), std::string::npos);
  }
  EXPECT_THROW(parse_update_rule("adam"), InputError);
}


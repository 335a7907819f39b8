// In-place training on a small synthetic task (the project's own data): the ideal rule learns it; plain SGD on
// a strongly asymmetric device loses accuracy; Tiki-Taka recovers part of it. Seeded; tolerances are margins.
#include <gtest/gtest.h>

#include "nnspice/common/error.hpp"
#include "nnspice/memristor/training.hpp"

using namespace nnspice;
using namespace nnspice::memristor;

namespace {
/// 4 classes of 20-dimensional non-negative patterns (class prototype + noise), like pixels in [0, 1].
void blobs(std::size_t n, std::uint64_t seed, Eigen::MatrixXd& x, std::vector<int>& y) {
  Rng proto(99), rng(seed);
  Eigen::MatrixXd p(20, 4);
  for (Eigen::Index k = 0; k < p.size(); ++k) p.data()[k] = proto.uniform() < 0.3 ? 1.0 : 0.0;
  x.resize(20, static_cast<Eigen::Index>(n));
  y.resize(n);
  for (std::size_t s = 0; s < n; ++s) {
    y[s] = static_cast<int>(rng.below(4));
    for (Eigen::Index i = 0; i < 20; ++i) x(i, static_cast<Eigen::Index>(s)) = std::clamp(p(i, y[s]) + 0.35 * rng.normal(), 0.0, 1.0);
  }
}
}  // namespace

TEST(InPlace, RulesOnSyntheticData) {
  Eigen::MatrixXd xtr, xte;
  std::vector<int> ytr, yte;
  blobs(2000, 1, xtr, ytr);
  blobs(1000, 2, xte, yte);
  DeviceParams dev = device_preset("rram");
  InPlaceOptions o;
  o.classes = 4;
  o.epochs = 2;
  o.learning_rate = 0.02;
  o.rule = UpdateRule::ideal;
  const double ideal = train_in_place(dev, xtr, ytr, xte, yte, o).test_accuracy;
  EXPECT_GT(ideal, 0.9);
  o.rule = UpdateRule::sgd;
  const auto sgd = train_in_place(dev, xtr, ytr, xte, yte, o);
  EXPECT_GT(sgd.pulses, 0u);
  EXPECT_NEAR(sgd.update_energy_J, static_cast<double>(sgd.pulses) * dev.energy_per_pulse_J, 1e-30);
  o.rule = UpdateRule::tiki_taka;
  const auto tt = train_in_place(dev, xtr, ytr, xte, yte, o);
  EXPECT_GT(tt.test_accuracy, 0.5);
  // deterministic for a seed
  const auto tt2 = train_in_place(dev, xtr, ytr, xte, yte, o);
  EXPECT_EQ(tt.test_accuracy, tt2.test_accuracy);
  EXPECT_EQ(tt.pulses, tt2.pulses);
  o.rule = UpdateRule::shd;
  EXPECT_GT(train_in_place(dev, xtr, ytr, xte, yte, o).test_accuracy, 0.5);
  std::printf("synthetic: ideal %.3f sgd %.3f tiki-taka %.3f\n", ideal, sgd.test_accuracy, tt.test_accuracy);
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

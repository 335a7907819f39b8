// The chip model's gradients: backward() against central finite differences of the loss (double,
// float master weights without quantisation), for every loss and with the activity-L1 term.
#include <gtest/gtest.h>

#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/train/network.hpp"
#include "nnspice/train/trainer.hpp"

using namespace nnspice::train;
using MatD = Eigen::MatrixXd;

namespace {

double total_loss(const Network<double>& net, const MatD& x, const std::vector<int>& y, Loss loss, double act) {
  ForwardCache<double> c;
  const MatD& out = forward(net, x, c);
  MatD d;
  double l = loss_and_grad<double>(loss, -1, out, y.data(), d);
  for (std::size_t k = 1; k < net.num_layers(); ++k) l += act * c.a[k].sum() / static_cast<double>(x.cols());
  return l;
}

void gradient_check(Loss loss, double act, std::uint64_t seed) {
  SCOPED_TRACE(testing::Message() << "loss " << loss_name(loss) << " activity " << act << " seed " << seed);
  const Layers layers = {5, 6, 4, 3};
  Calibration cal = random_calibration(layers, 0.2, 1.7, 0.1, seed);
  Network<double> net;
  net.configure(layers, cal, QuantGrid{}, /*quantize=*/false);
  nnspice::Rng rng(seed);
  net.init_uniform(rng, 0.8);
  MatD x(5, 7);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform(0.0, 1.0);
  std::vector<int> y = {0, 1, 2, 0, 1, 2, 1};
  ForwardCache<double> c;
  const MatD& out = forward(net, x, c);
  MatD d;
  loss_and_grad<double>(loss, -1, out, y.data(), d);
  std::vector<MatD> g;
  backward(net, c, d, act / static_cast<double>(x.cols()), g);
  const double h = 1e-6;
  int checked = 0;
  for (std::size_t l = 0; l < net.num_layers(); ++l)
    for (Eigen::Index i = 0; i < net.master[l].size(); ++i) {
      Network<double> p = net, m = net;
      p.master[l].data()[i] += h;
      m.master[l].data()[i] -= h;
      const double fd = (total_loss(p, x, y, loss, act) - total_loss(m, x, y, loss, act)) / (2 * h);
      EXPECT_NEAR(g[l].data()[i], fd, 1e-6 + 1e-5 * std::fabs(fd)) << "layer " << l << " entry " << i;
      ++checked;
    }
  EXPECT_EQ(checked, 5 * 6 + 6 * 4 + 4 * 3);
}

}  // namespace

TEST(Network, GradientMatchesFiniteDifferencesMse) { gradient_check(Loss::mse, 0.0, 3); }
TEST(Network, GradientMatchesFiniteDifferencesWeightedMse) { gradient_check(Loss::weighted_mse, 0.0, 4); }
TEST(Network, GradientMatchesFiniteDifferencesCrossEntropy) { gradient_check(Loss::cross_entropy, 0.0, 5); }
TEST(Network, GradientMatchesFiniteDifferencesActivityL1) { gradient_check(Loss::weighted_mse, 0.3, 6); }

TEST(Network, ForwardFollowsConventions) {
  // 2-2-1 by hand: a0 = s0*x, a1 = s1*relu(W0 a0), out = relu(W1 a1); negative weights scaled by g of the pre-neuron.
  const Layers layers = {2, 2, 1};
  Calibration cal = homogeneous_calibration(layers, 1.0);
  cal.slopes = {{2.0, 0.5}, {1.5, 1.0}};
  cal.negative_gain = {{3.0, 1.0}, {1.0, 2.0}};
  Network<double> net;
  net.configure(layers, cal, QuantGrid{}, true);
  Eigen::MatrixXi k0(2, 2), k1(1, 2);
  k0 << 4, -2,   // row = post-neuron 0: +4 from pre 0, -2 from pre 1
      -1, 3;     // post 1: -1 from pre 0 (gain 3), +3 from pre 1
  k1 << 2, -1;   // output: +2 from hidden 0, -1 from hidden 1 (gain 2)
  net.set_codes(0, k0);
  net.set_codes(1, k1);
  EXPECT_EQ(net.codes(0), k0);
  EXPECT_EQ(net.codes(1), k1);
  MatD x(2, 1);
  x << 1.0, 2.0;
  const double a00 = 2.0, a01 = 1.0;
  const double z0 = 0.25 * 4 * a00 + 0.25 * 1.0 * (-2) * a01;  // = 1.5
  const double z1 = 0.25 * 3.0 * (-1) * a00 + 0.25 * 3 * a01;  // = -0.75 -> relu 0
  const double a10 = 1.5 * std::max(z0, 0.0), a11 = 1.0 * std::max(z1, 0.0);
  const double out = std::max(0.25 * 2 * a10 + 0.25 * 2.0 * (-1) * a11, 0.0);
  ForwardCache<double> c;
  EXPECT_NEAR(forward(net, x, c)(0, 0), out, 1e-12);
  EXPECT_NEAR(predict(net, x)(0, 0), out, 1e-12);
  EXPECT_GT(out, 0.0);
}

TEST(Calibration, ShapeMismatchIsAnInputError) {
  Calibration cal = homogeneous_calibration({4, 7, 3});
  cal.source = "chip7/calibration.json";
  Network<float> net;
  try {
    net.configure({4, 8, 3}, cal, QuantGrid{}, true);
    FAIL() << "expected InputError";
  } catch (const nnspice::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("chip7/calibration.json"), std::string::npos) << m;
    EXPECT_NE(m.find("4-7-3"), std::string::npos) << m;
    EXPECT_NE(m.find("4-8-3"), std::string::npos) << m;
  }
  cal.slopes[1].pop_back();
  EXPECT_THROW(cal.check_matches({4, 7, 3}), nnspice::InputError);
}

TEST(Calibration, RandomSlopesHaveMeanOneAndTheRequestedSpread) {
  const Calibration c = random_calibration({400, 300, 10}, 0.15, 1.4, 0.0, 11);
  for (std::size_t l = 0; l < 2; ++l) {
    double m = 0, s = 0;
    for (double v : c.slopes[l]) m += v;
    m /= static_cast<double>(c.slopes[l].size());
    for (double v : c.slopes[l]) s += (v - m) * (v - m);
    s = std::sqrt(s / static_cast<double>(c.slopes[l].size() - 1));
    EXPECT_NEAR(m, 1.0, 1e-12);
    // sd of a sample sd ≈ sigma / sqrt(2n): 5 of those for n = 300
    EXPECT_NEAR(s, 0.15, 5 * 0.15 / std::sqrt(2.0 * static_cast<double>(c.slopes[l].size())));
    for (double g : c.negative_gain[l]) EXPECT_EQ(g, 1.4);
  }
  const Calibration again = random_calibration({400, 300, 10}, 0.15, 1.4, 0.0, 11);
  EXPECT_EQ(again.slopes, c.slopes);
}

// The 3-bit + sign grid and its straight-through gradient.
#include <gtest/gtest.h>

#include "nnspice/train/network.hpp"
#include "nnspice/train/quantize.hpp"

using namespace nnspice::train;

TEST(Quantize, PositiveGridRoundsHalfAwayFromZeroAndClips) {
  const QuantGrid g;  // step 0.25, K = 7
  EXPECT_EQ(quantize_code(0.0, 1.0, g), 0);
  EXPECT_EQ(quantize_code(0.12, 1.0, g), 0);
  EXPECT_EQ(quantize_code(0.125, 1.0, g), 1);  // exactly half: away from zero
  EXPECT_EQ(quantize_code(0.374, 1.0, g), 1);
  EXPECT_EQ(quantize_code(0.375, 1.0, g), 2);
  EXPECT_EQ(quantize_code(1.75, 1.0, g), 7);
  EXPECT_EQ(quantize_code(1.87, 1.0, g), 7);
  EXPECT_EQ(quantize_code(100.0, 1.0, g), 7);
  EXPECT_TRUE(quantize_passes(1.87, 1.0, g));
  EXPECT_FALSE(quantize_passes(1.875, 1.0, g));  // rounds to 8 -> clipped
  for (int k = 0; k <= 7; ++k) EXPECT_DOUBLE_EQ(code_value(k, 2.0, g), 0.25 * k);
}

TEST(Quantize, NegativeGridIsScaledByTheNegativeGain) {
  const QuantGrid g;
  const double gain = 2.3;
  for (int k = 1; k <= 7; ++k) {
    const double v = code_value(-k, gain, g);
    EXPECT_DOUBLE_EQ(v, -0.25 * gain * k);
    EXPECT_EQ(quantize_code(v, gain, g), -k);
    EXPECT_EQ(quantize_code(v * 1.0001, gain, g), -k);
  }
  EXPECT_EQ(quantize_code(-0.25 * gain * 0.5, gain, g), -1);  // half a negative step: away from zero
  EXPECT_EQ(quantize_code(-0.25 * gain * 0.49, gain, g), 0);
  EXPECT_EQ(quantize_code(-0.25 * gain * 7.49, gain, g), -7);
  EXPECT_TRUE(quantize_passes(-0.25 * gain * 7.49, gain, g));
  EXPECT_FALSE(quantize_passes(-0.25 * gain * 7.5, gain, g));
  EXPECT_EQ(quantize_code(-1e9, gain, g), -7);
  // A value that is out of range on the positive grid (> 7.5 steps) is inside the wider negative grid.
  EXPECT_FALSE(quantize_passes(2.0, gain, g));
  EXPECT_TRUE(quantize_passes(-2.0, gain, g));
}

TEST(Quantize, NetworkEffectiveWeightsAndStraightThroughMask) {
  const Layers layers = {3, 2};
  Calibration cal = homogeneous_calibration(layers, 1.0);
  cal.negative_gain = {{1.0, 2.0, 0.5}};
  Network<double> net;
  net.configure(layers, cal, QuantGrid{}, true);
  net.master[0] << 0.3, -0.3, 5.0,
                   -5.0, 0.05, -0.13;
  Eigen::MatrixXd w, pass;
  net.effective(0, w, pass);
  // (0,0): 0.3/0.25 = 1.2 -> 1 -> 0.25. (0,1): -0.3/(0.5) = -0.6 -> -1 -> -0.5. (0,2): 20 -> clip 7 -> 1.75, no gradient.
  // (1,0): -5/0.25 = -20 -> -7 -> -1.75, no gradient. (1,1): 0.2 -> 0. (1,2): -0.13/0.125 = -1.04 -> -1 -> -0.125.
  Eigen::MatrixXd want(2, 3), want_pass(2, 3);
  want << 0.25, -0.5, 1.75, -1.75, 0.0, -0.125;
  want_pass << 1, 1, 0, 0, 1, 1;
  EXPECT_TRUE(w.isApprox(want)) << w;
  EXPECT_EQ(pass, want_pass);
  Eigen::MatrixXi k(2, 3);
  k << 1, -1, 7, -7, 0, -1;
  EXPECT_EQ(net.codes(0), k);

  // The gradient passes straight through the rounding and is zero where the clip is active.
  Eigen::MatrixXd x(3, 1);
  x << 1.0, 2.0, 3.0;
  ForwardCache<double> c;
  forward(net, x, c);
  Eigen::MatrixXd d_out = Eigen::MatrixXd::Ones(2, 1);
  std::vector<Eigen::MatrixXd> g;
  backward(net, c, d_out, 0.0, g);
  // out = relu(W a): row 0 is active (0.25 - 1 + 5.25 > 0), row 1 is not (-1.75 - 0.375 < 0).
  Eigen::MatrixXd want_g(2, 3);
  want_g << 1.0, 2.0, 0.0,   // d/dW = a^T where active; clipped entry -> 0
      0.0, 0.0, 0.0;         // inactive ReLU
  EXPECT_TRUE(g[0].isApprox(want_g)) << g[0];
}

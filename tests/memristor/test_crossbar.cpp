// Crossbar layer: conductance pairs, tiling, DAC/ADC quantisation, read noise, energy.
#include <gtest/gtest.h>

#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/memristor/crossbar.hpp"

using namespace nnspice;
using namespace nnspice::memristor;

namespace {
Eigen::MatrixXd random_matrix(Eigen::Index r, Eigen::Index c, std::uint64_t seed, double lo = -1, double hi = 1) {
  Rng rng(seed);
  Eigen::MatrixXd m(r, c);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = rng.uniform(lo, hi);
  return m;
}
DeviceParams fine_device() {
  DeviceParams p = device_preset("symmetric");
  p.states = 100000;  // quasi-continuous
  return p;
}
}  // namespace

TEST(Crossbar, IdealDeviceAndConvertersReproduceWx) {
  CrossbarOptions o;
  o.dac_bits = 0;
  o.adc_bits = 0;
  o.tile_rows = 16;  // 40 inputs -> 3 row tiles, 12 outputs -> 2 column tiles
  o.tile_cols = 8;
  CrossbarLayer l(fine_device(), o, 12, 40, 1);
  const Eigen::MatrixXd w = random_matrix(12, 40, 2), x = random_matrix(40, 5, 3);
  l.program(w, 1);
  EXPECT_EQ(l.tiles_in(), 3u);
  EXPECT_EQ(l.tiles_out(), 2u);
  EXPECT_LT((l.effective_weights() - w).cwiseAbs().maxCoeff(), 1e-4);
  EXPECT_LT((l.forward(x, nullptr) - w * x).cwiseAbs().maxCoeff(), 1e-3);
  // pairs: one device of each pair at g_min
  EXPECT_NEAR(l.g_pos().cwiseMin(l.g_neg()).maxCoeff(), fine_device().g_min_S, 1e-12);
}

TEST(Crossbar, QuantisationErrorShrinksWithBits) {
  const Eigen::MatrixXd w = random_matrix(10, 64, 4), x = random_matrix(64, 50, 5);
  double prev = 1e9;
  for (int bits : {3, 5, 8, 12}) {
    CrossbarOptions o;
    o.dac_bits = bits;
    o.adc_bits = bits;
    CrossbarLayer l(fine_device(), o, 10, 64, 1);
    l.program(w, 1);
    l.calibrate_adc(x);
    const double err = (l.forward(x, nullptr) - w * x).norm() / (w * x).norm();
    EXPECT_LT(err, prev) << bits << " bits";
    prev = err;
  }
  EXPECT_LT(prev, 2e-3);
}

TEST(Crossbar, ReadNoiseHasTheStatedSpread) {
  DeviceParams p = fine_device();
  p.read_noise_sd = 0.01;
  CrossbarOptions o;
  o.dac_bits = 0;
  o.adc_bits = 0;
  o.x_max = 1;
  CrossbarLayer l(p, o, 1, 32, 1);
  const Eigen::MatrixXd w = random_matrix(1, 32, 6);
  l.program(w, 1);
  const Eigen::MatrixXd x = Eigen::MatrixXd::Ones(32, 4000);
  Rng rng(9);
  const Eigen::MatrixXd y = l.forward(x, &rng);
  const double mean = y.mean();
  const double sd = std::sqrt((y.array() - mean).square().sum() / static_cast<double>(y.size() - 1));
  // expected: sd_g sqrt(2 * 32) V / (V g_unit), g_unit = (g_max - g_min) / max|w|
  const double expected = 0.01 * p.g_max_S * std::sqrt(64.0) / l.g_unit_S();
  EXPECT_NEAR(sd, expected, 4 * expected / std::sqrt(2.0 * 4000));  // 4 sigma of the sd estimate
}

TEST(Crossbar, EnergyCountsDevicesAndConverters) {
  CrossbarOptions o;
  o.tile_rows = 8;
  CrossbarLayer l(fine_device(), o, 3, 16, 1);
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(3, 16);  // all devices at g_min
  l.program(w, 1);
  const Eigen::MatrixXd x = Eigen::MatrixXd::Constant(16, 2, 1.0);
  const ReadEnergy e = l.read_energy(x);
  const double v = o.v_read_V;
  EXPECT_NEAR(e.array_J, 16 * 3 * 2 * fine_device().g_min_S * v * v * o.t_read_s, 1e-9 * e.array_J);
  EXPECT_DOUBLE_EQ(e.dac_J, 16 * o.dac_energy_J);
  EXPECT_DOUBLE_EQ(e.adc_J, 2 * 3 * o.adc_energy_J);
}

TEST(Crossbar, BadOptionsNameTheField) {
  CrossbarOptions o;
  o.adc_bits = 1;
  try {
    o.validate();
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("adc_bits = 1"), std::string::npos) << e.what();
  }
  CrossbarLayer l(fine_device(), CrossbarOptions{}, 2, 3, 1);
  EXPECT_THROW(l.program(Eigen::MatrixXd::Zero(3, 2), 1), InputError);
}

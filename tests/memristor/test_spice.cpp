// The crossbar netlist through libngspice (sim::Session): the 64 x 32 acceptance (column currents = G^T V within
// 0.1 %, rel. to each column's current, abs floor 1e-3 of the largest), wire resistance lowers the currents and
// the error grows with size; the VTEAM subcircuit's state follows the C++ ODE.
#include <gtest/gtest.h>

#include <cmath>

#include "nnspice/common/rng.hpp"
#include "nnspice/memristor/device.hpp"
#include "nnspice/memristor/spice.hpp"
#include "nnspice/netlist/writer.hpp"
#include "nnspice/sim/session.hpp"

using namespace nnspice;
using namespace nnspice::memristor;

namespace {
void random_array(std::size_t rows, std::size_t cols, std::uint64_t seed, bool bipolar, Eigen::MatrixXd& g, Eigen::VectorXd& v) {
  const DeviceParams p = device_preset("rram");
  Rng rng(seed);
  g.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  v.resize(static_cast<Eigen::Index>(rows));
  for (Eigen::Index k = 0; k < g.size(); ++k) g.data()[k] = rng.uniform(p.g_min_S, p.g_max_S);
  for (Eigen::Index k = 0; k < v.size(); ++k) v(k) = bipolar ? rng.uniform(-0.2, 0.2) : rng.uniform(0, 0.2);
}
}  // namespace

TEST(CrossbarSpice, Acceptance64x32EqualsGV) {
  Eigen::MatrixXd g;
  Eigen::VectorXd v;
  random_array(64, 32, 1, true, g, v);
  sim::Session s;
  const auto r = simulate_crossbar(s, g, v, 0);
  const Eigen::VectorXd ideal = ideal_column_currents(g, v);
  const double floor = 1e-3 * ideal.cwiseAbs().maxCoeff();
  for (Eigen::Index j = 0; j < 32; ++j) EXPECT_NEAR(r.i_col_A(j), ideal(j), 1e-3 * std::abs(ideal(j)) + floor) << "column " << j;
  EXPECT_EQ(r.elements, 64u * 32u + 64u + 32u);
}

TEST(CrossbarSpice, WireResistanceErrorGrowsWithSize) {
  sim::Session s;
  double prev = 0;
  for (std::size_t n : {4, 8, 16}) {
    Eigen::MatrixXd g;
    Eigen::VectorXd v;
    random_array(n, n, 2, false, g, v);
    const auto r = simulate_crossbar(s, g, v, 2.0);
    const Eigen::VectorXd ideal = ideal_column_currents(g, v);
    EXPECT_TRUE((r.i_col_A.array() < ideal.array()).all()) << n;  // IR drop only loses current (unipolar reads)
    const double err = ((ideal - r.i_col_A).array() / ideal.array()).mean();
    EXPECT_GT(err, prev) << n;
    prev = err;
  }
}

TEST(CrossbarSpice, NetlistRoundTripsAndRejectsBadConductances) {
  Eigen::MatrixXd g;
  Eigen::VectorXd v;
  random_array(3, 2, 3, true, g, v);
  const auto c = crossbar_circuit(g, v, 1.0);
  EXPECT_EQ(netlist::write_ngspice(netlist::read_ngspice(netlist::write_ngspice(c), "x")), netlist::write_ngspice(c));
  g(1, 1) = 0;
  EXPECT_THROW(crossbar_circuit(g, v, 0), InputError);
  EXPECT_THROW(crossbar_circuit(Eigen::MatrixXd::Ones(2, 2), Eigen::VectorXd::Ones(3), 0), InputError);
}

TEST(Vteam, SubcircuitStateFollowsTheOde) {
  VteamParams p;
  std::vector<std::string> lines{"vteam test"};
  for (auto& l : vteam_subcircuit(p)) lines.push_back(l);
  // two SET pulses of 1.5 V, then a sub-threshold pulse (0.5 V), then a RESET pulse of -1.5 V; 100 ns each, 1 ns edges
  lines.push_back("V1 a 0 PWL(0 0 1e-9 1.5 100e-9 1.5 101e-9 0 200e-9 0 201e-9 1.5 300e-9 1.5 301e-9 0 400e-9 0 401e-9 0.5 500e-9 0.5 501e-9 0 "
                  "600e-9 0 601e-9 -1.5 700e-9 -1.5 701e-9 0)");
  lines.push_back("X1 a 0 vteam x0=0.05");
  sim::Session s;
  s.load(lines);
  const auto tr = s.tran(1e-9, 800e-9, 1e-9, true);
  const auto& t = tr.vectors.at("time");
  const auto& x = tr.vectors.at("v(x1.x)");
  // reference: RK4 on the same PWL drive
  auto vin = [](double tt) {
    const double pts[][2] = {{0, 0}, {1e-9, 1.5}, {100e-9, 1.5}, {101e-9, 0}, {200e-9, 0}, {201e-9, 1.5}, {300e-9, 1.5}, {301e-9, 0}, {400e-9, 0},
                             {401e-9, 0.5}, {500e-9, 0.5}, {501e-9, 0}, {600e-9, 0}, {601e-9, -1.5}, {700e-9, -1.5}, {701e-9, 0}, {1, 0}};
    for (int k = 0; k < 16; ++k)
      if (tt <= pts[k + 1][0]) return pts[k][1] + (pts[k + 1][1] - pts[k][1]) * (tt - pts[k][0]) / (pts[k + 1][0] - pts[k][0]);
    return 0.0;
  };
  double xr = 0.05, tc = 0;
  const double h = 5e-11;
  auto state_at = [&](double target) {
    while (tc + h <= target + 1e-18) {
      const double k1 = vteam_dxdt(p, vin(tc), xr), k2 = vteam_dxdt(p, vin(tc + h / 2), xr + h / 2 * k1);
      const double k3 = vteam_dxdt(p, vin(tc + h / 2), xr + h / 2 * k2), k4 = vteam_dxdt(p, vin(tc + h), xr + h * k3);
      xr += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
      tc += h;
    }
    return xr;
  };
  auto spice_at = [&](double target) {
    for (std::size_t k = 1; k < t.size(); ++k)
      if (t[k] >= target) return x[k - 1] + (x[k] - x[k - 1]) * (target - t[k - 1]) / (t[k] - t[k - 1]);
    return x.back();
  };
  double prev = 0.05;
  for (double tt : {150e-9, 350e-9, 550e-9, 750e-9}) {
    const double xs = spice_at(tt), xo = state_at(tt);
    EXPECT_NEAR(xs, xo, 0.01) << "t = " << tt;
    if (tt < 400e-9) EXPECT_GT(xs, prev + 0.02) << "SET pulse raises the state";
    if (tt > 400e-9 && tt < 600e-9) EXPECT_NEAR(xs, prev, 0.01) << "sub-threshold pulse leaves it";
    if (tt > 600e-9) EXPECT_LT(xs, prev - 0.02) << "RESET pulse lowers it";
    prev = xs;
  }
}

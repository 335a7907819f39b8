// The pattern-switch figures (Fig. 3 and 4) on synthetic data: PNG and SVG in the folder, script and data
// under figures/ (docs/conventions.md, "Figures").
#include <gtest/gtest.h>

#include <cstdlib>

#include "nnspice/common/fs_util.hpp"
#include "nnspice/dynamics/figures.hpp"
#include "../test_support.hpp"

using namespace nnspice;
using namespace nnspice::dynamics;

namespace {

void expect_figure(const std::string& dir, const std::string& name, const std::vector<std::string>& data) {
  EXPECT_TRUE(file_exists(dir + "/" + name + ".png")) << name;
  EXPECT_TRUE(file_exists(dir + "/" + name + ".svg")) << name;
  EXPECT_TRUE(file_exists(dir + "/figures/" + name + ".gp")) << name;
  EXPECT_FALSE(file_exists(dir + "/" + name + ".gp")) << name;
  for (const auto& d : data) {
    EXPECT_TRUE(file_exists(dir + "/figures/" + d)) << d;
    EXPECT_FALSE(file_exists(dir + "/" + d)) << d;
  }
}

}  // namespace

TEST(DynamicsFigures, Fig3AndFig4AsPngAndSvgWithSourcesUnderFigures) {
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) GTEST_SKIP() << "gnuplot not installed";
  const std::string dir = test::scratch_dir("dynamics", "figures");
  const std::vector<double> t{0, 1e-6, 2e-6};
  const std::vector<std::vector<std::vector<double>>> units{{{1e-9, 2e-9, 3e-9}, {3e-9, 2e-9, 1e-9}}, {{0, 1e-9, 4e-9}}};
  ASSERT_TRUE(plot_unit_traces(dir, "fig3", t, units, "traces"));
  expect_figure(dir, "fig3", {"fig3.dat"});

  LevelSeries a;
  a.name = "15 nA";
  a.tto_s = {1e-6, 2e-6, 1.5e-6};
  a.power_W = {1e-6, 2e-6, 3e-6};
  a.energy_tto_J = {1e-12, 4e-12, 4.5e-12};
  a.run_time_s = {1e-6, 2e-6, 3e-6};
  a.curve_mean_J = {1e-12, 2e-12, 3e-12};
  a.curve_sd_J = {1e-13, 2e-13, 3e-13};
  LevelSeries b = a;
  b.name = "45 nA";
  for (double& p : b.power_W) p *= 2;
  ASSERT_TRUE(plot_tto_vs_power(dir, "fig4_tto", {a, b}, "tto"));
  expect_figure(dir, "fig4_tto", {"fig4_tto_0.dat", "fig4_tto_0_hist.dat", "fig4_tto_1.dat", "fig4_tto_1_hist.dat"});
  ASSERT_TRUE(plot_energy_vs_runtime(dir, "fig4_energy", {a, b}, 6, "energy"));
  expect_figure(dir, "fig4_energy", {"fig4_energy_0_curve.dat", "fig4_energy_0_points.dat", "fig4_energy_1_curve.dat", "fig4_energy_1_points.dat"});
}

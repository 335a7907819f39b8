// Through-origin fit, normalisation, statistics.
#include <gtest/gtest.h>

#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/measure/fit.hpp"

namespace nm = nnspice::measure;

TEST(Fit, ExactLineThroughOrigin) {
  const std::vector<double> x{1e-9, 2e-9, 5e-9, 4e-8};
  std::vector<double> y;
  for (double v : x) y.push_back(0.83 * v);
  const auto f = nm::fit_through_origin(x, y);
  EXPECT_NEAR(f.slope, 0.83, 1e-12);
  EXPECT_EQ(f.n_points, 4u);
  EXPECT_NEAR(f.rel_rms, 0.0, 1e-6);
}

TEST(Fit, UsesOnlyPositiveOutputs) {
  // Rectified points (y <= 0) and x <= 0 are left out; the rest is y = 1.2 x.
  const std::vector<double> x{-2e-9, 1e-9, 2e-9, 3e-9, 4e-9};
  const std::vector<double> y{0.0, 0.0, 2.4e-9, 3.6e-9, -1e-12};
  const auto f = nm::fit_through_origin(x, y);
  EXPECT_EQ(f.n_points, 2u);
  EXPECT_NEAR(f.slope, 1.2, 1e-12);
  const auto g = nm::fit_through_origin(x, y, 3e-9);  // y_min
  EXPECT_EQ(g.n_points, 1u);
  EXPECT_NEAR(g.slope, 1.2, 1e-12);
}

TEST(Fit, LeastSquaresWeighting) {
  // a = Σxy/Σx²: (1*1 + 2*3)/(1 + 4) = 7/5.
  const auto f = nm::fit_through_origin({1, 2}, {1, 3});
  EXPECT_NEAR(f.slope, 1.4, 1e-15);
  EXPECT_GT(f.rel_rms, 0.0);
}

TEST(Fit, NoPointsGivesNaN) {
  const auto f = nm::fit_through_origin({1e-9, 2e-9}, {0, 0});
  EXPECT_TRUE(std::isnan(f.slope));
  EXPECT_EQ(f.n_points, 0u);
  EXPECT_TRUE(std::isnan(nm::fit_through_origin({}, {}).slope));
}

TEST(Normalise, MeanOneKeepsRatiosAndNaN) {
  const auto n = nm::normalise_mean_one({1.0, 2.0, std::nan(""), 3.0});
  EXPECT_NEAR(n[0], 0.5, 1e-15);
  EXPECT_NEAR(n[1], 1.0, 1e-15);
  EXPECT_TRUE(std::isnan(n[2]));
  EXPECT_NEAR(n[3], 1.5, 1e-15);
  EXPECT_NEAR(nm::stats(n).mean, 1.0, 1e-15);
  EXPECT_THROW(nm::normalise_mean_one({std::nan("")}), nnspice::NumericalError);
  EXPECT_THROW(nm::normalise_mean_one({-1.0, 0.5}), nnspice::NumericalError);
}

TEST(Stats, SampleStatisticsAndCorrelation) {
  const auto s = nm::stats({1, 2, 3, 4, std::nan("")});
  EXPECT_EQ(s.n, 4u);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_NEAR(s.sd, std::sqrt(5.0 / 3.0), 1e-15);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 4);
  EXPECT_NEAR(nm::pearson({1, 2, 3}, {2, 4, 6.5}), 0.9979487157886733, 1e-12);
  EXPECT_NEAR(nm::pearson({1, 2, 3}, {3, 2, 1}), -1.0, 1e-15);
  EXPECT_TRUE(std::isnan(nm::pearson({1, 1}, {1, 2})));
}

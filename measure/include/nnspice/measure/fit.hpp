// Fits and statistics of the characterisation (circuits.md §4): the through-origin ReLU slope
// y = a·x on the points with positive output, per-layer normalisation to mean 1, and summary statistics.
// Currents in A; slopes dimensionless.
#pragma once

#include <cstddef>
#include <limits>
#include <vector>

namespace nnspice::measure {

struct SlopeFit {
  double slope = std::numeric_limits<double>::quiet_NaN();  ///< a = Σxy / Σx², NaN when no point is usable
  std::size_t n_points = 0;                                 ///< points used (x > 0 and y > y_min)
  double rel_rms = std::numeric_limits<double>::quiet_NaN(); ///< rms(y − a·x) / rms(y): the non-linearity left over
};

/// Least-squares fit of y = a·x through the origin on the points with x > 0 and y > y_min_A.
SlopeFit fit_through_origin(const std::vector<double>& x, const std::vector<double>& y, double y_min_A = 0);

/// v / mean(v) over the finite entries (non-finite entries stay as they are). Throws NumericalError when
/// no entry is finite or the mean is not > 0.
std::vector<double> normalise_mean_one(const std::vector<double>& v);

struct Stats {
  std::size_t n = 0;  ///< finite values
  double mean = 0, sd = 0, min = 0, max = 0;  ///< sd: sample standard deviation (n − 1)
};
/// Statistics of the finite entries.
Stats stats(const std::vector<double>& v);
/// Pearson correlation over the pairs where both are finite (NaN with < 2 pairs or zero variance).
double pearson(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace nnspice::measure

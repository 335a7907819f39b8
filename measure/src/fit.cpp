#include "nnspice/measure/fit.hpp"

#include <algorithm>
#include <cmath>

#include "nnspice/common/error.hpp"

namespace nnspice::measure {

SlopeFit fit_through_origin(const std::vector<double>& x, const std::vector<double>& y, double y_min_A) {
  SlopeFit f;
  const std::size_t n = std::min(x.size(), y.size());
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (!(x[k] > 0) || !(y[k] > y_min_A) || !std::isfinite(x[k]) || !std::isfinite(y[k])) continue;
    sxy += x[k] * y[k];
    sxx += x[k] * x[k];
    syy += y[k] * y[k];
    ++f.n_points;
  }
  if (f.n_points == 0 || !(sxx > 0)) return f;
  f.slope = sxy / sxx;
  // Σ(y − a x)² = Σy² − a Σxy (at the least-squares a); clamp rounding below zero.
  const double rss = std::max(0.0, syy - f.slope * sxy);
  f.rel_rms = syy > 0 ? std::sqrt(rss / syy) : 0.0;
  return f;
}

std::vector<double> normalise_mean_one(const std::vector<double>& v) {
  const Stats s = stats(v);
  if (s.n == 0) throw NumericalError("normalise_mean_one: no finite value to normalise");
  if (!(s.mean > 0)) throw NumericalError("normalise_mean_one: the mean of the values is not > 0");
  std::vector<double> out(v);
  for (auto& x : out)
    if (std::isfinite(x)) x /= s.mean;
  return out;
}

Stats stats(const std::vector<double>& v) {
  Stats s;
  double sum = 0;
  for (double x : v) {
    if (!std::isfinite(x)) continue;
    if (s.n == 0) s.min = s.max = x;
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
    sum += x;
    ++s.n;
  }
  if (s.n == 0) return s;
  s.mean = sum / s.n;
  if (s.n > 1) {
    double ss = 0;
    for (double x : v)
      if (std::isfinite(x)) ss += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(ss / (s.n - 1));
  }
  return s;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  double ma = 0, mb = 0;
  std::size_t m = 0;
  for (std::size_t k = 0; k < n; ++k)
    if (std::isfinite(a[k]) && std::isfinite(b[k])) ma += a[k], mb += b[k], ++m;
  if (m < 2) return std::nan("");
  ma /= m;
  mb /= m;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t k = 0; k < n; ++k)
    if (std::isfinite(a[k]) && std::isfinite(b[k])) {
      sab += (a[k] - ma) * (b[k] - mb);
      saa += (a[k] - ma) * (a[k] - ma);
      sbb += (b[k] - mb) * (b[k] - mb);
    }
  if (!(saa > 0) || !(sbb > 0)) return std::nan("");
  return sab / std::sqrt(saa * sbb);
}

}  // namespace nnspice::measure

#include "nnspice/dynamics/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "nnspice/common/error.hpp"

namespace nnspice::dynamics {
namespace {

void check_time(const std::vector<double>& t, const char* what) {
  if (t.empty()) throw InputError(fmt::format("{}: empty time vector", what));
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!std::isfinite(t[i])) throw InputError(fmt::format("{}: time[{}] = {} is not finite", what, i, t[i]));
    if (i > 0 && !(t[i] > t[i - 1]))
      throw InputError(fmt::format("{}: time must increase strictly (time[{}] = {} after time[{}] = {})", what, i, t[i], i - 1, t[i - 1]));
  }
}

void check_outputs(const std::vector<double>& t, const std::vector<std::vector<double>>& outputs, const char* what) {
  if (outputs.empty()) throw InputError(fmt::format("{}: no output traces", what));
  for (std::size_t k = 0; k < outputs.size(); ++k)
    if (outputs[k].size() != t.size())
      throw InputError(fmt::format("{}: output {} has {} samples, time has {}", what, k, outputs[k].size(), t.size()));
}

double margin(const std::vector<std::vector<double>>& outputs, int cls, std::size_t i) {
  double other = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < outputs.size(); ++k)
    if (static_cast<int>(k) != cls) other = std::max(other, outputs[k][i]);
  return outputs[static_cast<std::size_t>(cls)][i] - other;
}

}  // namespace

std::vector<int> class_trace(const std::vector<std::vector<double>>& outputs) {
  if (outputs.empty()) return {};
  const std::size_t n = outputs[0].size();
  std::vector<int> c(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    double best = outputs[0][i];
    for (std::size_t k = 1; k < outputs.size(); ++k)
      if (outputs[k][i] > best) {
        best = outputs[k][i];
        c[i] = static_cast<int>(k);
      }
  }
  return c;
}

double time_to_output(const std::vector<double>& t, const std::vector<std::vector<double>>& outputs, int cls) {
  check_time(t, "time_to_output");
  check_outputs(t, outputs, "time_to_output");
  if (cls < 0 || cls >= static_cast<int>(outputs.size()))
    throw InputError(fmt::format("time_to_output: class {} outside 0..{}", cls, outputs.size() - 1));
  const auto c = class_trace(outputs);
  if (c.back() != cls) return -1;
  std::size_t first = c.size() - 1;  // first sample of the final run of right samples
  while (first > 0 && c[first - 1] == cls) --first;
  if (first == 0) return 0;
  const double m0 = margin(outputs, cls, first - 1), m1 = margin(outputs, cls, first);
  double f = 1.0;  // fraction of the step at which the margin crosses zero
  if (m1 > m0 && m0 <= 0 && m1 > 0) f = -m0 / (m1 - m0);
  return t[first - 1] + f * (t[first] - t[first - 1]);
}

double interpolate(const std::vector<double>& t, const std::vector<double>& y, double ts) {
  if (t.empty() || y.size() != t.size()) throw InputError("interpolate: time and values differ in length or are empty");
  if (ts <= t.front()) return y.front();
  if (ts >= t.back()) return y.back();
  const auto it = std::upper_bound(t.begin(), t.end(), ts);
  const std::size_t i = static_cast<std::size_t>(it - t.begin());
  const double f = (ts - t[i - 1]) / (t[i] - t[i - 1]);
  return y[i - 1] + f * (y[i] - y[i - 1]);
}

std::vector<double> resample(const std::vector<double>& t, const std::vector<double>& y, const std::vector<double>& grid) {
  std::vector<double> out;
  out.reserve(grid.size());
  for (double g : grid) out.push_back(interpolate(t, y, g));
  return out;
}

double integrate(const std::vector<double>& t, const std::vector<double>& y, double t_end) {
  check_time(t, "integrate");
  if (y.size() != t.size()) throw InputError(fmt::format("integrate: {} values for {} time points", y.size(), t.size()));
  if (!std::isfinite(t_end)) throw InputError(fmt::format("integrate: end time {} is not finite", t_end));
  double sum = 0;
  for (std::size_t i = 1; i < t.size() && t[i - 1] < t_end; ++i) {
    if (t[i] <= t_end) {
      sum += 0.5 * (y[i] + y[i - 1]) * (t[i] - t[i - 1]);
    } else {
      const double ye = y[i - 1] + (t_end - t[i - 1]) / (t[i] - t[i - 1]) * (y[i] - y[i - 1]);
      sum += 0.5 * (ye + y[i - 1]) * (t_end - t[i - 1]);
    }
  }
  return sum;
}

double percentile_sorted(const std::vector<double>& s, double q) {
  if (s.empty()) return std::nan("");
  const double pos = q * static_cast<double>(s.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (pos - static_cast<double>(lo)) * (s[hi] - s[lo]);
}

Stats statistics(const std::vector<double>& values) {
  Stats st;
  std::vector<double> v;
  for (double x : values) {
    if (std::isfinite(x))
      v.push_back(x);
    else
      ++st.skipped;
  }
  st.n = v.size();
  if (v.empty()) {
    st.mean = st.sd = st.min = st.max = st.p05 = st.p25 = st.median = st.p75 = st.p95 = std::nan("");
    return st;
  }
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  st.mean = sum / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - st.mean) * (x - st.mean);
  st.sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
  st.min = v.front();
  st.max = v.back();
  st.p05 = percentile_sorted(v, 0.05);
  st.p25 = percentile_sorted(v, 0.25);
  st.median = percentile_sorted(v, 0.5);
  st.p75 = percentile_sorted(v, 0.75);
  st.p95 = percentile_sorted(v, 0.95);
  return st;
}

}  // namespace nnspice::dynamics

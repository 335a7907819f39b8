// Measures of a pattern-switch transient (circuits.md §6): the output class over time, the time to
// output (after which the class equals the asymptotic class for good), energy = VDD x integral of a
// supply current, and summary statistics over patterns. Pure functions on sampled traces; times in s,
// currents in A, energies in J. The switch happens at t = 0.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace nnspice::dynamics {

/// Output class at each time point: argmax over outputs[k][t] (ties: lowest k). outputs[k] = unit k's trace.
std::vector<int> class_trace(const std::vector<std::vector<double>>& outputs);

/// Time to output: the earliest time after which argmax(outputs) == cls at every later sample.
/// The crossing is interpolated linearly in the margin out_cls - max_{k != cls} out_k between the last
/// wrong sample and the first right one (so two traces of the same waveform on different time grids
/// agree closely). Returns 0 when the class is right at every sample, a negative value (-1) when the
/// class at the last sample is not `cls` (never reached in the window).
/// Throws InputError on shape problems (empty, unequal lengths, non-increasing time, cls out of range).
double time_to_output(const std::vector<double>& time_s, const std::vector<std::vector<double>>& outputs, int cls);

/// Integral of y(t) from time_s.front() to t_end_s by the trapezoid rule, y linearly interpolated at t_end_s
/// (t_end_s beyond the last sample: integral to the last sample). Throws InputError on shape problems.
double integrate(const std::vector<double>& time_s, const std::vector<double>& y, double t_end_s);

/// Linear interpolation of y(t) at t (clamped to the ends).
double interpolate(const std::vector<double>& time_s, const std::vector<double>& y, double t_s);

/// Resamples y(t) onto `grid` by linear interpolation (clamped).
std::vector<double> resample(const std::vector<double>& time_s, const std::vector<double>& y, const std::vector<double>& grid);

/// Sample statistics of finite values (non-finite entries are skipped and counted).
struct Stats {
  std::size_t n = 0, skipped = 0;
  double mean = 0, sd = 0, min = 0, max = 0, p05 = 0, p25 = 0, median = 0, p75 = 0, p95 = 0;
};
Stats statistics(const std::vector<double>& values);
/// Percentile q in [0, 1] of sorted values (linear between order statistics, numpy's default).
double percentile_sorted(const std::vector<double>& sorted, double q);

}  // namespace nnspice::dynamics

// The engine's one scalar root finder: the root of an increasing function (KCL at a node whose current grows
// with its voltage), bracketed from a guess, by regula falsi (Illinois) with a bisection safeguard. The DC
// solver (decomposed_dc) and the tabulated transients (dynamics) both use it.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "nnspice/common/error.hpp"

namespace nnspice::engine {

// Scalar root of an increasing function F on [lo, hi], starting from a bracket around `guess`:
// regula falsi (Illinois) with bisection safeguard, to |x| tolerance tol. Returns lo when F(lo) >= 0
// (the node sits at or below the table's bottom); throws NumericalError when F(hi) < 0. With `status`:
// no throw; *status = -1 when F(lo) >= 0, +1 when F(hi) < 0, else 0.
template <typename Fn>
inline double increasing_root(Fn&& F, double guess, double lo, double hi, double tol, long& evals, const char* what, int* status = nullptr) {
  if (status) *status = 0;
  auto G = [&](double x) {
    const double y = F(x);
    if (!std::isfinite(y)) throw NumericalError(fmt::format("{}: non-finite node current {} at {} V", what, y, x));
    return y;
  };
  double a = std::clamp(guess - 0.01, lo, hi), b = std::clamp(guess + 0.01, lo, hi);
  double fa = G(a), fb = G(b);
  evals += 2;
  for (double step = 0.02; fa > 0 && a > lo; step *= 2) {
    b = a, fb = fa;
    a = std::max(lo, a - step);
    fa = G(a), ++evals;
  }
  if (fa >= 0) {
    if (status) *status = -1;
    return lo;
  }
  for (double step = 0.02; fb < 0 && b < hi; step *= 2) {
    a = b, fa = fb;
    b = std::min(hi, b + step);
    fb = G(b), ++evals;
  }
  if (fb < 0) {
    if (status) {
      *status = 1;
      return hi;
    }
    throw NumericalError(fmt::format("{}: node voltage beyond the tabulated range (> {} V)", what, hi));
  }
  int side = 0;
  double x = 0.5 * (a + b);
  for (int it = 0; it < 200 && b - a > tol; ++it) {
    x = (a * fb - b * fa) / (fb - fa);
    if (!(x > a && x < b)) x = 0.5 * (a + b);
    const double fx = G(x);
    ++evals;
    if (fx == 0) return x;
    if (fx < 0) {
      a = x, fa = fx;
      if (side == -1) fb *= 0.5;
      side = -1;
    } else {
      b = x, fb = fx;
      if (side == 1) fa *= 0.5;
      side = 1;
    }
    if (std::fabs(fx) < 1e-18) break;
  }
  const double c = (a * fb - b * fa) / (fb - fa);
  return c > a && c < b ? c : 0.5 * (a + b);
}

}  // namespace nnspice::engine

// The engine's one interpolation scheme: Catmull-Rom (cubic Hermite with finite-difference tangents) on a
// uniform grid, indices clamped at the ends. Exact for quadratics inside the grid, C1 everywhere.
#pragma once

#include <algorithm>
#include <cstddef>

namespace nnspice::engine::interp {

/// Value weights at x of a grid x0 + k h, k = 0..n-1 (n >= 4).
struct Stencil {
  std::size_t idx[4];
  double w[4];
};
/// Value and derivative (d/dx, already divided by h) weights.
struct StencilD {
  std::size_t idx[4];
  double w[4], dw[4];
};

inline void locate(double x0, double h, std::size_t n, double x, std::size_t idx[4], double& u) {
  double t = (x - x0) / h;
  t = std::clamp(t, 0.0, static_cast<double>(n - 1));
  const std::size_t k = std::min(static_cast<std::size_t>(t), n - 2);
  u = t - static_cast<double>(k);
  const std::ptrdiff_t last = static_cast<std::ptrdiff_t>(n) - 1;
  for (int m = 0; m < 4; ++m)
    idx[m] = static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(k) - 1 + m, 0, last));
}

/// Catmull-Rom value weights at the fraction u of an interval.
inline void value_weights(double u, double w[4]) {
  const double u2 = u * u, u3 = u2 * u;
  w[0] = 0.5 * (-u3 + 2 * u2 - u);
  w[1] = 0.5 * (3 * u3 - 5 * u2 + 2);
  w[2] = 0.5 * (-3 * u3 + 4 * u2 + u);
  w[3] = 0.5 * (u3 - u2);
}

inline Stencil stencil(double x0, double h, std::size_t n, double x) {
  Stencil s;
  double u;
  locate(x0, h, n, x, s.idx, u);
  value_weights(u, s.w);
  return s;
}

/// Grid values padded by one ghost point at each end (index 0 and n + 1 of the stored axis): the
/// stencil never clamps, so the first and last intervals keep third-order accuracy.
inline void locate_padded(double x0, double h, std::size_t n, double x, std::size_t idx[4], double& u) {
  double t = (x - x0) / h;
  t = std::clamp(t, 0.0, static_cast<double>(n - 1));
  const std::size_t k = std::min(static_cast<std::size_t>(t), n - 2);
  u = t - static_cast<double>(k);
  for (int m = 0; m < 4; ++m) idx[m] = k + static_cast<std::size_t>(m);
}

/// Quadratic extrapolation of the ghost points of a padded axis: y[0] and y[n + 1] from the interior.
template <typename T>
void pad_axis(T* y, std::size_t n, std::size_t stride) {
  y[0] = static_cast<T>(3.0 * y[stride] - 3.0 * y[2 * stride] + y[3 * stride]);
  y[(n + 1) * stride] = static_cast<T>(3.0 * y[n * stride] - 3.0 * y[(n - 1) * stride] + y[(n - 2) * stride]);
}

inline StencilD stencil_d(double x0, double h, std::size_t n, double x, bool padded = false) {
  StencilD s;
  double u;
  if (padded)
    locate_padded(x0, h, n, x, s.idx, u);
  else
    locate(x0, h, n, x, s.idx, u);
  value_weights(u, s.w);
  const double u2 = u * u;
  const double ih = 0.5 / h;
  s.dw[0] = ih * (-3 * u2 + 4 * u - 1);
  s.dw[1] = ih * (9 * u2 - 10 * u);
  s.dw[2] = ih * (-9 * u2 + 8 * u + 1);
  s.dw[3] = ih * (3 * u2 - 2 * u);
  return s;
}

template <typename T>
double apply(const Stencil& s, const T* y, std::size_t stride = 1) {
  return s.w[0] * y[s.idx[0] * stride] + s.w[1] * y[s.idx[1] * stride] + s.w[2] * y[s.idx[2] * stride] + s.w[3] * y[s.idx[3] * stride];
}

}  // namespace nnspice::engine::interp

#include "nnspice/train/network.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "nnspice/common/gemm_native.hpp"
#include "nnspice/common/error.hpp"

namespace nnspice::train {

namespace {

// C = op(A) · op(B): float through the host-CPU kernel (gemm_native.hpp), double through Eigen.
void matmul(Eigen::MatrixXf& c, const Eigen::MatrixXf& a, bool ta, const Eigen::MatrixXf& b, bool tb) {
  const long m = ta ? a.cols() : a.rows(), k = ta ? a.rows() : a.cols(), n = tb ? b.rows() : b.cols();
  c.resize(m, n);
  native::sgemm(ta, tb, m, n, k, 1.0f, a.data(), a.rows(), b.data(), b.rows(), 0.0f, c.data(), m);
}
void matmul(Eigen::MatrixXd& c, const Eigen::MatrixXd& a, bool ta, const Eigen::MatrixXd& b, bool tb) {
  if (!ta && !tb) c.noalias() = a * b;
  else if (ta && !tb) c.noalias() = a.transpose() * b;
  else if (!ta && tb) c.noalias() = a * b.transpose();
  else c.noalias() = a.transpose() * b.transpose();
}

/// Nearest code of |u| (in units of Δ·g_7) on the grid c(0) = 0, c(1) … c(K) (ties to the larger code) and
/// whether the clip is active (|u| ≥ c(K) + (c(K) − max_{k<K} c(k))/2). With c(k) = k exactly the rounding rule's codes.
template <typename T, typename Grid>
int nearest_code(T a, int kmax, const Grid& c, bool& clipped) {
  int best = 0;
  T best_d = std::fabs(a);
  for (int k = 1; k <= kmax; ++k) {
    const T d = std::fabs(a - c(k));
    if (d <= best_d) best = k, best_d = d;
  }
  const T top = c(kmax);
  T below = T(0);  // the strongest lower code (lower codes of a mismatched synapse may be out of order)
  for (int k = 1; k < kmax; ++k) below = std::max(below, c(k));
  clipped = a >= top + (top - below) / T(2);
  return best;
}

}  // namespace

template <typename T>
void Network<T>::configure(const Layers& l, const Calibration& calibration, const QuantGrid& g, bool q) {
  calibration.check_matches(l);
  layers = l;
  grid = g;
  quantize = q;
  master.clear();
  slopes.clear();
  neg_gain.clear();
  gain_pos.clear();
  gain_neg.clear();
  code_pos.clear();
  code_neg.clear();
  if (calibration.has_code_gains() && g.max_code > calibration.max_code())
    throw InputError(fmt::format("max_code = {} with gains per code: the calibration has codes 1 … {} only", g.max_code, calibration.max_code()));
  for (std::size_t i = 0; i + 1 < l.size(); ++i) {
    master.push_back(Mat::Zero(l[i + 1], l[i]));
    Vec s(l[i]), ng(l[i]);
    for (int k = 0; k < l[i]; ++k) {
      s[k] = static_cast<T>(calibration.slopes[i][k]);
      ng[k] = static_cast<T>(calibration.negative_gain[i][k]);
    }
    slopes.push_back(s);
    neg_gain.push_back(ng);
    if (calibration.has_synapse_gains()) {
      Mat gp(l[i + 1], l[i]), gn(l[i + 1], l[i]);
      for (int j = 0; j < l[i + 1]; ++j)
        for (int k = 0; k < l[i]; ++k) {  // row-major (post, pre) in the calibration
          gp(j, k) = static_cast<T>(calibration.synapse_gain_pos[i][static_cast<std::size_t>(j) * l[i] + k]);
          gn(j, k) = static_cast<T>(calibration.synapse_gain_neg[i][static_cast<std::size_t>(j) * l[i] + k]);
        }
      gain_pos.push_back(gp);
      gain_neg.push_back(gn);
    }
    if (calibration.has_code_gains()) {
      const std::size_t np = static_cast<std::size_t>(l[i + 1]) * static_cast<std::size_t>(l[i]);
      std::vector<Mat> cp, cn;
      for (int k = 1; k <= calibration.max_code(); ++k) {
        Mat p(l[i + 1], l[i]), n(l[i + 1], l[i]);
        for (int j = 0; j < l[i + 1]; ++j)
          for (int q = 0; q < l[i]; ++q) {
            const std::size_t s = static_cast<std::size_t>(j) * l[i] + q, at = (k - 1) * np + s;
            // In units of the ±max gain: exactly k when the code's gain equals it.
            p(j, q) = static_cast<T>(k) * (static_cast<T>(calibration.synapse_gain_code_pos[i][at]) / gain_pos[i](j, q));
            n(j, q) = static_cast<T>(k) * (static_cast<T>(calibration.synapse_gain_code_neg[i][at]) / gain_neg[i](j, q));
          }
        cp.push_back(p);
        cn.push_back(n);
      }
      code_pos.push_back(cp);
      code_neg.push_back(cn);
    }
  }
}

template <typename T>
void Network<T>::effective(std::size_t l, Mat& w_eff, Mat& pass) const {
  const Mat& w = master[l];
  w_eff.resize(w.rows(), w.cols());
  pass.resize(w.rows(), w.cols());
  if (!quantize) {
    w_eff = w;
    pass.setOnes();
    return;
  }
  const T step = static_cast<T>(grid.step);
  const T kmax = static_cast<T>(grid.max_code);
  // One code: u = x / (Δ g) on the grid of x's sign, rounded half away from zero, clipped to ±K.
  auto quantise = [&](Eigen::Index i, Eigen::Index j, T gp, T gn, T inv_pos, T inv_neg) {
    const T x = w(i, j);
    const T u = x >= 0 ? x * inv_pos : x * inv_neg;
    T r = std::round(u);
    const bool clipped = std::fabs(r) > kmax;
    if (clipped) r = r > 0 ? kmax : -kmax;
    w_eff(i, j) = r >= 0 ? step * gp * r : step * gn * r;
    pass(i, j) = clipped ? T(0) : T(1);
  };
  if (per_code()) {
    const Mat& gp = gain_pos[l];
    const Mat& gn = gain_neg[l];
    for (Eigen::Index j = 0; j < w.cols(); ++j)
      for (Eigen::Index i = 0; i < w.rows(); ++i) {
        const T x = w(i, j);
        const bool pos = x >= 0;
        const T u = pos ? x * (T(1) / (step * gp(i, j))) : x * (T(1) / (step * gn(i, j)));
        const auto& cg = pos ? code_pos[l] : code_neg[l];
        bool clipped = false;
        const int k = nearest_code(std::fabs(u), grid.max_code, [&](int c) { return cg[c - 1](i, j); }, clipped);
        const T r = k == 0 ? T(0) : cg[k - 1](i, j);
        w_eff(i, j) = pos ? step * gp(i, j) * r : step * gn(i, j) * -r;
        pass(i, j) = clipped ? T(0) : T(1);
      }
    return;
  }
  if (per_synapse()) {
    const Mat& gp = gain_pos[l];
    const Mat& gn = gain_neg[l];
    for (Eigen::Index j = 0; j < w.cols(); ++j)
      for (Eigen::Index i = 0; i < w.rows(); ++i)
        quantise(i, j, gp(i, j), gn(i, j), T(1) / (step * gp(i, j)), T(1) / (step * gn(i, j)));
    return;
  }
  // Same arithmetic with g⁺ = 1, g⁻ = the column's (pre-neuron's) negative gain: unit gains give the
  // same bits as this path.
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    const T g = neg_gain[l][j];
    const T inv_pos = T(1) / (step * T(1)), inv_neg = T(1) / (step * g);
    for (Eigen::Index i = 0; i < w.rows(); ++i) quantise(i, j, T(1), g, inv_pos, inv_neg);
  }
}

template <typename T>
Eigen::MatrixXi Network<T>::codes(std::size_t l) const {
  const Mat& w = master[l];
  // Same arithmetic (type T) as effective(), so the codes are exactly what the forward pass used.
  Eigen::MatrixXi k(w.rows(), w.cols());
  if (per_code()) {  // the arithmetic of effective()
    const T step = static_cast<T>(grid.step);
    for (Eigen::Index j = 0; j < w.cols(); ++j)
      for (Eigen::Index i = 0; i < w.rows(); ++i) {
        const T x = w(i, j);
        const bool pos = x >= 0;
        const T u = pos ? x * (T(1) / (step * gain_pos[l](i, j))) : x * (T(1) / (step * gain_neg[l](i, j)));
        const auto& cg = pos ? code_pos[l] : code_neg[l];
        bool clipped = false;
        const int c = nearest_code(std::fabs(u), grid.max_code, [&](int q) { return cg[q - 1](i, j); }, clipped);
        k(i, j) = pos ? c : -c;
      }
    return k;
  }
  const bool ps = per_synapse();
  auto gp = [&](Eigen::Index i, Eigen::Index j) { return ps ? static_cast<double>(gain_pos[l](i, j)) : 1.0; };
  auto gn = [&](Eigen::Index i, Eigen::Index j) {
    return static_cast<double>(ps ? gain_neg[l](i, j) : neg_gain[l][j]);
  };
  if (!quantize) {
    for (Eigen::Index j = 0; j < w.cols(); ++j)
      for (Eigen::Index i = 0; i < w.rows(); ++i)
        k(i, j) = quantize_code(static_cast<double>(w(i, j)), gp(i, j), gn(i, j), grid);
    return k;
  }
  Mat w_eff, pass;
  effective(l, w_eff, pass);
  for (Eigen::Index j = 0; j < w.cols(); ++j)
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      const double v = static_cast<double>(w_eff(i, j));
      k(i, j) = static_cast<int>(std::lround(v >= 0 ? v / (grid.step * gp(i, j)) : v / (grid.step * gn(i, j))));
    }
  return k;
}

template <typename T>
void Network<T>::set_codes(std::size_t l, const Eigen::MatrixXi& k) {
  Mat& w = master[l];
  if (k.rows() != w.rows() || k.cols() != w.cols())
    throw InputError(fmt::format("weights of layer {}: shape ({}, {}), expected ({}, {})", l, k.rows(), k.cols(),
                                 w.rows(), w.cols()));
  const bool ps = per_synapse();
  if (per_code()) {
    for (Eigen::Index j = 0; j < w.cols(); ++j)
      for (Eigen::Index i = 0; i < w.rows(); ++i) {
        const int c = k(i, j);
        if (std::abs(c) > grid.max_code)
          throw InputError(fmt::format("weights of layer {}: code {} at [{}, {}] is outside ±{}", l, c, i, j, grid.max_code));
        const double r = c == 0 ? 0.0 : static_cast<double>((c > 0 ? code_pos[l] : code_neg[l])[std::abs(c) - 1](i, j));
        w(i, j) = static_cast<T>(c >= 0 ? grid.step * static_cast<double>(gain_pos[l](i, j)) * r
                                        : grid.step * static_cast<double>(gain_neg[l](i, j)) * -r);
      }
    return;
  }
  for (Eigen::Index j = 0; j < w.cols(); ++j)
    for (Eigen::Index i = 0; i < w.rows(); ++i)
      w(i, j) = static_cast<T>(ps ? code_value(k(i, j), static_cast<double>(gain_pos[l](i, j)),
                                               static_cast<double>(gain_neg[l](i, j)), grid)
                                  : code_value(k(i, j), static_cast<double>(neg_gain[l][j]), grid));
}

template <typename T>
const typename Network<T>::Mat& forward(const Network<T>& net, const Eigen::Ref<const typename Network<T>::Mat>& x,
                                        ForwardCache<T>& c) {
  const std::size_t L = net.num_layers();
  c.w_eff.resize(L);
  c.pass.resize(L);
  c.a.resize(L);
  c.z.resize(L);
  for (std::size_t l = 0; l < L; ++l) net.effective(l, c.w_eff[l], c.pass[l]);
  c.a[0].noalias() = net.slopes[0].asDiagonal() * x;
  for (std::size_t l = 0; l < L; ++l) {
    matmul(c.z[l], c.w_eff[l], false, c.a[l], false);
    if (l + 1 < L) c.a[l + 1].noalias() = net.slopes[l + 1].asDiagonal() * c.z[l].cwiseMax(T(0));
  }
  c.out = c.z[L - 1].cwiseMax(T(0));
  return c.out;
}

template <typename T>
void backward(const Network<T>& net, const ForwardCache<T>& c, const typename Network<T>::Mat& d_out,
              T hidden_activity_grad, std::vector<typename Network<T>::Mat>& grads, T relu_leak,
              const typename Network<T>::Vec* output_leak) {
  using Mat = typename Network<T>::Mat;
  const std::size_t L = net.num_layers();
  grads.resize(L);
  Mat dz;
  if (output_leak) {
    const typename Network<T>::Vec leak = output_leak->cwiseMax(relu_leak);
    dz = (c.z[L - 1].array() > T(0)).select(d_out, leak.asDiagonal() * d_out);
  } else {
    dz = (c.z[L - 1].array() > T(0)).select(d_out, relu_leak * d_out);
  }
  Mat da;
  for (std::size_t l = L; l-- > 0;) {
    matmul(grads[l], dz, false, c.a[l], true);
    grads[l].array() *= c.pass[l].array();
    if (l == 0) break;
    matmul(da, c.w_eff[l], true, dz, false);
    if (hidden_activity_grad != T(0)) da.array() += hidden_activity_grad;
    // a_l = s_l ⊙ relu(z_{l-1})
    da = net.slopes[l].asDiagonal() * da;
    dz = (c.z[l - 1].array() > T(0)).select(da, relu_leak * da);
  }
}

template <typename T>
typename Network<T>::Mat predict(const Network<T>& net, const Eigen::Ref<const typename Network<T>::Mat>& x) {
  using Mat = typename Network<T>::Mat;
  const std::size_t L = net.num_layers();
  Mat a = net.slopes[0].asDiagonal() * x, w, pass, z;
  for (std::size_t l = 0; l < L; ++l) {
    net.effective(l, w, pass);
    matmul(z, w, false, a, false);
    if (l + 1 < L) a = net.slopes[l + 1].asDiagonal() * z.cwiseMax(T(0));
  }
  return z.cwiseMax(T(0));
}

#define NNSPICE_INSTANTIATE(T)                                                                                   \
  template struct Network<T>;                                                                                    \
  template const Network<T>::Mat& forward<T>(const Network<T>&, const Eigen::Ref<const Network<T>::Mat>&,       \
                                             ForwardCache<T>&);                                                  \
  template void backward<T>(const Network<T>&, const ForwardCache<T>&, const Network<T>::Mat&, T,               \
                            std::vector<Network<T>::Mat>&, T, const Network<T>::Vec*);                              \
  template Network<T>::Mat predict<T>(const Network<T>&, const Eigen::Ref<const Network<T>::Mat>&);
NNSPICE_INSTANTIATE(float)
NNSPICE_INSTANTIATE(double)
#undef NNSPICE_INSTANTIATE

}  // namespace nnspice::train


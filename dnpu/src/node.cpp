#include "nnspice/dnpu/node.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <set>

#include "nnspice/common/error.hpp"

namespace nnspice::dnpu {

DnpuNode DnpuNode::make(const SurrogateModel& m, std::vector<int> data, double in_lo, double in_hi) {
  DnpuNode n;
  n.model = &m;
  const int ne = static_cast<int>(m.n_inputs());
  std::set<int> used;
  for (int e : data) {
    if (e < 0 || e >= ne) throw InputError(fmt::format("data electrode {} does not exist (the model has e0..e{})", e, ne - 1));
    if (!used.insert(e).second) throw InputError(fmt::format("data electrode {} is listed twice", e));
  }
  if (m.voltage_ranges_V.empty()) throw InputError("a DNPU node needs the model's voltage ranges (the file gives none)");
  n.data_electrodes = data;
  for (int e = 0; e < ne; ++e)
    if (!used.count(e)) n.control_electrodes.push_back(e);
  n.controls_V.resize(static_cast<Eigen::Index>(n.control_electrodes.size()));
  for (std::size_t k = 0; k < n.control_electrodes.size(); ++k) {
    const auto& r = m.voltage_ranges_V[static_cast<std::size_t>(n.control_electrodes[k])];
    n.controls_V(static_cast<Eigen::Index>(k)) = 0.5 * (r[0] + r[1]);
  }
  n.in_scale = Eigen::VectorXd::Ones(static_cast<Eigen::Index>(data.size()));
  n.in_offset = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(data.size()));
  if (in_hi != in_lo)
    for (std::size_t k = 0; k < data.size(); ++k) {
      const auto& r = m.voltage_ranges_V[static_cast<std::size_t>(data[k])];
      n.in_scale(static_cast<Eigen::Index>(k)) = (r[1] - r[0]) / (in_hi - in_lo);
      n.in_offset(static_cast<Eigen::Index>(k)) = r[0] - in_lo * n.in_scale(static_cast<Eigen::Index>(k));
    }
  return n;
}

void DnpuNode::randomize_controls(Rng& rng) {
  for (std::size_t k = 0; k < control_electrodes.size(); ++k) {
    const auto& r = model->voltage_ranges_V[static_cast<std::size_t>(control_electrodes[k])];
    controls_V(static_cast<Eigen::Index>(k)) = rng.uniform(r[0], r[1]);
  }
}

Eigen::MatrixXd DnpuNode::electrode_voltages(const Eigen::MatrixXd& x) const {
  Eigen::MatrixXd v(static_cast<Eigen::Index>(model->n_inputs()), x.cols());
  for (std::size_t k = 0; k < data_electrodes.size(); ++k) {
    const auto i = static_cast<Eigen::Index>(k);
    v.row(data_electrodes[k]) = (x.row(i).array() * in_scale(i) + in_offset(i)).matrix();
  }
  for (std::size_t k = 0; k < control_electrodes.size(); ++k) v.row(control_electrodes[k]).setConstant(controls_V(static_cast<Eigen::Index>(k)));
  return v;
}

double DnpuNode::range_penalty(Eigen::VectorXd* grad) const {
  double p = 0;
  for (std::size_t k = 0; k < control_electrodes.size(); ++k) {
    const auto& r = model->voltage_ranges_V[static_cast<std::size_t>(control_electrodes[k])];
    const double v = controls_V(static_cast<Eigen::Index>(k));
    if (v < r[0]) { p += r[0] - v; if (grad) (*grad)(static_cast<Eigen::Index>(k)) -= 1; }
    if (v > r[1]) { p += v - r[1]; if (grad) (*grad)(static_cast<Eigen::Index>(k)) += 1; }
  }
  return p;
}

void DnpuNode::clamp_controls() {
  for (std::size_t k = 0; k < control_electrodes.size(); ++k) {
    const auto& r = model->voltage_ranges_V[static_cast<std::size_t>(control_electrodes[k])];
    double& v = controls_V(static_cast<Eigen::Index>(k));
    v = std::clamp(v, r[0], r[1]);
  }
}

double DnpuNode::max_range_violation() const {
  double worst = 0;
  for (std::size_t k = 0; k < control_electrodes.size(); ++k) {
    const auto& r = model->voltage_ranges_V[static_cast<std::size_t>(control_electrodes[k])];
    const double v = controls_V(static_cast<Eigen::Index>(k));
    if (!std::isfinite(v)) return std::numeric_limits<double>::infinity();  // a diverged control is never "in range"
    worst = std::max({worst, r[0] - v, v - r[1]});
  }
  return worst;
}

Eigen::VectorXd node_forward(const DnpuNode& node, const Eigen::MatrixXd& x, NodeTape& t, double noise_sd_nA, Rng* rng) {
  Eigen::VectorXd y = node.model->forward(node.electrode_voltages(x), t.tape);
  if (rng && noise_sd_nA > 0)
    for (Eigen::Index k = 0; k < y.size(); ++k) y(k) += rng->normal(0, noise_sd_nA);
  return y;
}

Eigen::MatrixXd node_backward(const DnpuNode& node, const NodeTape& t, const Eigen::VectorXd& dl_dy, Eigen::VectorXd& d_controls) {
  const Eigen::MatrixXd dv = node.model->backward(t.tape, dl_dy);
  for (std::size_t k = 0; k < node.control_electrodes.size(); ++k) d_controls(static_cast<Eigen::Index>(k)) += dv.row(node.control_electrodes[k]).sum();
  Eigen::MatrixXd dx(static_cast<Eigen::Index>(node.n_data()), dv.cols());
  for (std::size_t k = 0; k < node.data_electrodes.size(); ++k) dx.row(static_cast<Eigen::Index>(k)) = dv.row(node.data_electrodes[k]) * node.in_scale(static_cast<Eigen::Index>(k));
  return dx;
}

Eigen::VectorXd BatchNorm::forward(const Eigen::VectorXd& u, Tape& t) const {
  const double n = static_cast<double>(u.size());
  const double mean = u.mean();
  const double var = (u.array() - mean).square().sum() / n;
  t.inv_std = 1.0 / std::sqrt(var + eps);
  t.xhat = ((u.array() - mean) * t.inv_std).matrix();
  return affine ? Eigen::VectorXd((t.xhat.array() * gamma + beta).matrix()) : t.xhat;
}

Eigen::VectorXd BatchNorm::backward(const Tape& t, const Eigen::VectorXd& dy, double& d_gamma, double& d_beta) const {
  const double g = affine ? gamma : 1.0;
  if (affine) {
    d_gamma += dy.dot(t.xhat);
    d_beta += dy.sum();
  }
  const Eigen::ArrayXd dxhat = dy.array() * g;
  const double m1 = dxhat.mean(), m2 = (dxhat * t.xhat.array()).mean();
  return ((dxhat - m1 - t.xhat.array() * m2) * t.inv_std).matrix();
}

Eigen::MatrixXd DnpuLayer::forward(const Eigen::MatrixXd& in, Tape& t, Rng* rng) const {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(nodes.size()), in.cols());
  t.nodes.resize(nodes.size());
  t.norms.resize(nodes.size());
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    Eigen::MatrixXd x(static_cast<Eigen::Index>(input_map[k].size()), in.cols());
    for (std::size_t j = 0; j < input_map[k].size(); ++j) x.row(static_cast<Eigen::Index>(j)) = in.row(input_map[k][j]);
    Eigen::VectorXd y = node_forward(nodes[k], x, t.nodes[k], noise_sd_nA, rng);
    if (batch_norm) y = norms[k].forward(y, t.norms[k]);
    out.row(static_cast<Eigen::Index>(k)) = y.transpose();
  }
  return out;
}

Eigen::MatrixXd DnpuLayer::backward(const Eigen::MatrixXd& in, const Tape& t, const Eigen::MatrixXd& dl_dout, std::vector<Eigen::VectorXd>& d_controls,
                                    std::vector<std::array<double, 2>>* d_norm) const {
  Eigen::MatrixXd din = Eigen::MatrixXd::Zero(in.rows(), in.cols());
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    Eigen::VectorXd dy = dl_dout.row(static_cast<Eigen::Index>(k)).transpose();
    if (batch_norm) {
      double dg = 0, db = 0;
      dy = norms[k].backward(t.norms[k], dy, dg, db);
      if (d_norm) { (*d_norm)[k][0] += dg; (*d_norm)[k][1] += db; }
    }
    const Eigen::MatrixXd dx = node_backward(nodes[k], t.nodes[k], dy, d_controls[k]);
    for (std::size_t j = 0; j < input_map[k].size(); ++j) din.row(input_map[k][j]) += dx.row(static_cast<Eigen::Index>(j));
  }
  return din;
}

void Adam::step(Eigen::VectorXd& p, const Eigen::VectorXd& g) {
  if (m.size() != p.size()) {
    m = Eigen::VectorXd::Zero(p.size());
    v = Eigen::VectorXd::Zero(p.size());
    t = 0;
  }
  ++t;
  m = beta1 * m + (1 - beta1) * g;
  v = beta2 * v + (1 - beta2) * g.cwiseProduct(g);
  const double c1 = 1 - std::pow(beta1, static_cast<double>(t)), c2 = 1 - std::pow(beta2, static_cast<double>(t));
  p.array() -= lr * (m.array() / c1) / ((v.array() / c2).sqrt() + eps);
}

double fisher(const Eigen::VectorXd& y, const Eigen::VectorXi& labels, Eigen::VectorXd* grad) {
  double s[2] = {0, 0}, n[2] = {0, 0};
  for (Eigen::Index k = 0; k < y.size(); ++k) { s[labels(k) ? 1 : 0] += y(k); n[labels(k) ? 1 : 0] += 1; }
  if (n[0] < 2 || n[1] < 2) return 0;
  const double m0 = s[0] / n[0], m1 = s[1] / n[1];
  double v[2] = {0, 0};
  for (Eigen::Index k = 0; k < y.size(); ++k) {
    const int c = labels(k) ? 1 : 0;
    const double d = y(k) - (c ? m1 : m0);
    v[c] += d * d;
  }
  v[0] /= n[0];
  v[1] /= n[1];
  const double den = v[0] + v[1] + 1e-12, num = (m1 - m0) * (m1 - m0);
  const double f = num / den;
  if (grad) {
    for (Eigen::Index k = 0; k < y.size(); ++k) {
      const int c = labels(k) ? 1 : 0;
      const double mc = c ? m1 : m0;
      const double dnum = 2 * (m1 - m0) * (c ? 1.0 : -1.0) / n[c];
      const double dden = 2 * (y(k) - mc) / n[c];
      (*grad)(k) += (dnum * den - num * dden) / (den * den);
    }
  }
  return f;
}

GaResult genetic_maximize(const std::function<double(const Eigen::VectorXd&)>& fitness, const Eigen::VectorXd& lo, const Eigen::VectorXd& hi,
                          const GaOptions& opt) {
  if (opt.population < 2 || opt.elite >= opt.population || opt.generations < 1)
    throw InputError(fmt::format("GaOptions: population = {}, elite = {}, generations = {}. Violated constraint: 2 <= population, elite < population, generations >= 1",
                                 opt.population, opt.elite, opt.generations));
  Rng rng(opt.seed);
  const Eigen::Index ng = lo.size();
  auto random_genome = [&] {
    Eigen::VectorXd g(ng);
    for (Eigen::Index i = 0; i < ng; ++i) g(i) = rng.uniform(lo(i), hi(i));
    return g;
  };
  std::vector<Eigen::VectorXd> pop(opt.population);
  for (auto& g : pop) g = random_genome();
  std::vector<double> fit(opt.population);
  GaResult res;
  res.best_fitness = -std::numeric_limits<double>::infinity();
  const std::size_t G = opt.generations;
  for (std::size_t gen = 0; gen < G; ++gen) {
    for (std::size_t i = 0; i < pop.size(); ++i) {
      fit[i] = fitness(pop[i]);
      if (!std::isfinite(fit[i])) fit[i] = -std::numeric_limits<double>::infinity();
    }
    std::vector<std::size_t> order(pop.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return fit[a] > fit[b]; });
    if (fit[order[0]] > res.best_fitness) { res.best_fitness = fit[order[0]]; res.best = pop[order[0]]; }
    res.best_per_generation.push_back(res.best_fitness);
    if (gen + 1 == G) break;
    // linear rank weights: best 1.5 ... worst 0.5 (normalised), stochastic universal sampling
    const std::size_t n = pop.size();
    std::vector<double> w(n);
    for (std::size_t r = 0; r < n; ++r) w[r] = 1.5 - 1.0 * static_cast<double>(r) / static_cast<double>(n - 1);
    const double total = std::accumulate(w.begin(), w.end(), 0.0);
    const std::size_t n_off = n - opt.elite;
    std::vector<std::size_t> parents;
    const double step = total / static_cast<double>(2 * n_off);
    double pointer = rng.uniform(0, step), acc = 0;
    for (std::size_t r = 0; r < n && parents.size() < 2 * n_off; ++r) {
      acc += w[r];
      while (pointer < acc && parents.size() < 2 * n_off) { parents.push_back(r); pointer += step; }
    }
    while (parents.size() < 2 * n_off) parents.push_back(n - 1);
    for (std::size_t i = parents.size(); i-- > 1;) std::swap(parents[i], parents[rng.below(i + 1)]);  // shuffle pairs
    std::vector<Eigen::VectorXd> next;
    for (std::size_t e = 0; e < opt.elite; ++e) next.push_back(pop[order[e]]);
    const double pm = 0.625 / (2.0 + 5.0 * static_cast<double>(gen) / static_cast<double>(std::max<std::size_t>(G - 1, 1)));
    for (std::size_t c = 0; c < n_off; ++c) {
      std::size_t ra = parents[2 * c], rb = parents[2 * c + 1];
      if (rb < ra) std::swap(ra, rb);  // ra = better rank
      const Eigen::VectorXd& better = pop[order[ra]];
      const Eigen::VectorXd& worse = pop[order[rb]];
      Eigen::VectorXd child(ng);
      for (Eigen::Index i = 0; i < ng; ++i) {
        const double d = std::abs(better(i) - worse(i));
        double a, b;  // interval extends alpha*d beyond the better parent, beta*d beyond the worse one
        if (better(i) >= worse(i)) { a = worse(i) - opt.beta * d; b = better(i) + opt.alpha * d; }
        else { a = better(i) - opt.alpha * d; b = worse(i) + opt.beta * d; }
        double x = rng.uniform(a, b);
        x = std::clamp(x, lo(i), hi(i));
        if (rng.uniform() < pm) {  // triangular(lo, x, hi)
          const double u = rng.uniform(), fc = (x - lo(i)) / (hi(i) - lo(i));
          x = u < fc ? lo(i) + std::sqrt(u * (hi(i) - lo(i)) * (x - lo(i))) : hi(i) - std::sqrt((1 - u) * (hi(i) - lo(i)) * (hi(i) - x));
        }
        child(i) = x;
      }
      for (const auto& o : next)
        if ((o - child).cwiseAbs().maxCoeff() < 1e-12) { child = random_genome(); break; }
      next.push_back(child);
    }
    pop = std::move(next);
  }
  return res;
}

}  // namespace nnspice::dnpu

#include "nnspice/dnpu/experiments.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nnspice/common/error.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/dnpu/node.hpp"

namespace nnspice::dnpu {

// ------------------------------------------------------------------------------------------ capacity

void CapacityOptions::validate() const {
  auto bad = [](const std::string& field, const std::string& value, const std::string& constraint) {
    throw InputError(fmt::format("CapacityOptions::{} = {}. Violated constraint: {}", field, value, constraint));
  };
  if (n_min < 1 || n_max > capacity_points().size() || n_min > n_max) bad("n_min..n_max", fmt::format("{}..{}", n_min, n_max), "1 <= n_min <= n_max <= 10");
  if (epochs < 1) bad("epochs", std::to_string(epochs), "epochs >= 1");
  if (!(learning_rate > 0)) bad("learning_rate", fmt::format("{}", learning_rate), "learning_rate > 0");
  if (attempts < 1) bad("attempts", std::to_string(attempts), "attempts >= 1");
  if (data_electrodes.size() != 2) bad("data_electrodes", std::to_string(data_electrodes.size()), "exactly 2 data electrodes");
}

std::vector<std::array<double, 2>> capacity_points() {
  return {{-0.7, -0.7}, {-0.7, 0.5}, {0.5, -0.7}, {0.5, 0.5}, {-0.35, 0}, {0.25, 0}, {0, -0.35}, {0, 0.25}, {-1.1, 0.35}, {0.35, -1.1}};
}

namespace {

/// One attempt on one labeling: returns true when all points are classified correctly.
bool capacity_attempt(const SurrogateModel& m, const CapacityOptions& o, const Eigen::MatrixXd& x, const Eigen::VectorXd& t, Rng& rng) {
  DnpuNode node = DnpuNode::make(m, o.data_electrodes);
  node.randomize_controls(rng);
  BatchNorm bn;
  const auto nc = static_cast<Eigen::Index>(node.n_controls());
  Eigen::VectorXd p(nc + 2);
  p << node.controls_V, 1.0, 0.0;
  Adam adam;
  adam.lr = o.learning_rate;
  adam.beta1 = o.beta1;
  adam.beta2 = o.beta2;
  const double n = static_cast<double>(x.cols());
  bool found = false;
  for (std::size_t ep = 0; ep < o.epochs; ++ep) {
    node.controls_V = p.head(nc);
    bn.gamma = p(nc);
    bn.beta = p(nc + 1);
    NodeTape nt;
    BatchNorm::Tape bt;
    const Eigen::VectorXd y = node_forward(node, x, nt);
    const Eigen::VectorXd z = bn.forward(y, bt);
    bool all = true;
    for (Eigen::Index k = 0; k < z.size(); ++k) all = all && ((z(k) > 0) == (t(k) > 0.5));
    if (all) { found = true; if (o.stop_when_found) break; }
    const Eigen::VectorXd prob = z.unaryExpr([](double v) { return 1.0 / (1.0 + std::exp(-v)); });
    const Eigen::VectorXd dz = (prob - t) / n;
    Eigen::VectorXd g = Eigen::VectorXd::Zero(nc + 2);
    double dg = 0, db = 0;
    const Eigen::VectorXd dy = bn.backward(bt, dz, dg, db);
    Eigen::VectorXd dc = Eigen::VectorXd::Zero(nc);
    node_backward(node, nt, dy, dc);
    Eigen::VectorXd pen = Eigen::VectorXd::Zero(nc);
    node.range_penalty(&pen);
    g.head(nc) = dc + o.penalty * pen;
    g(nc) = dg;
    g(nc + 1) = db;
    adam.step(p, g);
    if (o.clamp_controls) {
      node.controls_V = p.head(nc);
      node.clamp_controls();
      p.head(nc) = node.controls_V;
    }
  }
  return found;
}

}  // namespace

CapacityResult run_capacity(const SurrogateModel& m, const CapacityOptions& o, const ProgressFn& progress) {
  o.validate();
  const auto pts = capacity_points();
  CapacityResult res;
  std::size_t total = 0, done = 0;
  for (std::size_t n = o.n_min; n <= o.n_max; ++n) total += std::size_t{1} << n;
  for (std::size_t n = o.n_min; n <= o.n_max; ++n) {
    Eigen::MatrixXd x(2, static_cast<Eigen::Index>(n));
    for (std::size_t k = 0; k < n; ++k) { x(0, static_cast<Eigen::Index>(k)) = pts[k][0]; x(1, static_cast<Eigen::Index>(k)) = pts[k][1]; }
    const std::size_t L = std::size_t{1} << n;
    std::vector<int> attempts_used(L, 0);
    std::vector<char> found(L, 0);
#pragma omp parallel for schedule(dynamic, 1)
    for (std::size_t lab = 0; lab < L; ++lab) {
      Eigen::VectorXd t(static_cast<Eigen::Index>(n));
      for (std::size_t k = 0; k < n; ++k) t(static_cast<Eigen::Index>(k)) = ((lab >> k) & 1) ? 1.0 : 0.0;
      Rng rng = Rng::stream(o.seed, fmt::format("capacity/{}/{}", n, lab));
      for (std::size_t a = 0; a < o.attempts && !found[lab]; ++a) {
        attempts_used[lab] = static_cast<int>(a + 1);
        if (capacity_attempt(m, o, x, t, rng)) found[lab] = 1;
      }
#pragma omp critical(dnpu_progress)
      {
        ++done;
        if (progress) progress(done, total);
      }
    }
    CapacityPoint p;
    p.n = n;
    p.labelings = L;
    double att = 0;
    for (std::size_t lab = 0; lab < L; ++lab) {
      if (found[lab]) { ++p.found; att += attempts_used[lab]; }
      else p.missed.push_back(static_cast<std::uint32_t>(lab));
    }
    p.capacity = static_cast<double>(p.found) / static_cast<double>(L);
    p.mean_attempts_found = p.found ? att / static_cast<double>(p.found) : 0;
    res.points.push_back(p);
  }
  for (const auto& p : res.points) {
    if (p.capacity < 1) break;
    res.vc_dimension_lower_bound = p.n;
  }
  return res;
}

// ---------------------------------------------------------------------------------------------- ring

void RingOptions::validate() const {
  auto bad = [](const std::string& field, const std::string& value, const std::string& constraint) {
    throw InputError(fmt::format("RingOptions::{} = {}. Violated constraint: {}", field, value, constraint));
  };
  if (n_points < 8 || n_points % 4) bad("n_points", std::to_string(n_points), "n_points >= 8 and a multiple of 4");
  if (!(gap_V >= 0)) bad("gap_V", fmt::format("{}", gap_V), "gap_V >= 0");
  if (epochs < 1) bad("epochs", std::to_string(epochs), "epochs >= 1");
  if (!(learning_rate > 0)) bad("learning_rate", fmt::format("{}", learning_rate), "learning_rate > 0");
  if (!(noise_var_nA2 >= 0)) bad("noise_var_nA2", fmt::format("{}", noise_var_nA2), "noise_var_nA2 >= 0");
  if (restarts < 1) bad("restarts", std::to_string(restarts), "restarts >= 1");
  if (architecture != "single" && architecture != "2-2-1") bad("architecture", architecture, "\"single\" or \"2-2-1\"");
  if (optimizer != "adam" && optimizer != "ga") bad("optimizer", optimizer, "\"adam\" or \"ga\"");
  if (optimizer == "ga" && architecture != "single") bad("optimizer", optimizer, "the GA is offered for the single node only");
}

void ring_data(std::size_t n, double gap, std::uint64_t seed, Eigen::MatrixXd& x, Eigen::VectorXi& labels) {
  // inner disc r < r0 (class 0) and annulus r0 + gap <= r <= 1 (class 1) of equal area: r0^2 = 1 - (r0 + gap)^2
  const double g = std::min(gap, 0.9);
  const double r0 = (-g + std::sqrt(std::max(0.0, 2 - g * g))) / 2;
  Rng rng(seed);
  x.resize(2, static_cast<Eigen::Index>(n));
  labels.resize(static_cast<Eigen::Index>(n));
  for (std::size_t k = 0; k < n; ++k) {
    const int c = static_cast<int>(k % 2);
    const double lo = c ? r0 + g : 0.0, hi = c ? 1.0 : r0;
    const double r = std::sqrt(rng.uniform(lo * lo, hi * hi));  // uniform over the area
    const double phi = rng.uniform(0, 2 * M_PI);
    x(0, static_cast<Eigen::Index>(k)) = r * std::cos(phi);
    x(1, static_cast<Eigen::Index>(k)) = r * std::sin(phi);
    labels(static_cast<Eigen::Index>(k)) = c;
  }
}

namespace {

struct Net {
  std::vector<DnpuLayer> layers;
  std::size_t n_params() const {
    std::size_t n = 0;
    for (const auto& l : layers) for (const auto& nd : l.nodes) n += nd.n_controls();
    return n;
  }
  void set(const Eigen::VectorXd& p) {
    Eigen::Index i = 0;
    for (auto& l : layers) for (auto& nd : l.nodes) { nd.controls_V = p.segment(i, nd.controls_V.size()); i += nd.controls_V.size(); }
  }
  Eigen::VectorXd get() const {
    Eigen::VectorXd p(static_cast<Eigen::Index>(n_params()));
    Eigen::Index i = 0;
    for (const auto& l : layers) for (const auto& nd : l.nodes) { p.segment(i, nd.controls_V.size()) = nd.controls_V; i += nd.controls_V.size(); }
    return p;
  }
  Eigen::VectorXd forward(const Eigen::MatrixXd& x, std::vector<Eigen::MatrixXd>* acts, std::vector<DnpuLayer::Tape>* tapes, Rng* noise) const {
    Eigen::MatrixXd a = x;
    std::vector<DnpuLayer::Tape> local(layers.size());
    for (std::size_t l = 0; l < layers.size(); ++l) {
      if (acts) acts->push_back(a);
      a = layers[l].forward(a, tapes ? (*tapes)[l] : local[l], noise);
    }
    return a.row(0).transpose();
  }
};

Net make_net(const SurrogateModel& m, const std::string& arch, double noise_sd) {
  Net net;
  auto layer = [&](std::size_t nodes, std::size_t inputs, double in_lo, double in_hi, bool bn) {
    DnpuLayer L;
    for (std::size_t k = 0; k < nodes; ++k) {
      L.nodes.push_back(DnpuNode::make(m, {1, 2}, in_lo, in_hi));
      std::vector<int> map(inputs);
      std::iota(map.begin(), map.end(), 0);
      L.input_map.push_back(map);
      BatchNorm b;
      b.affine = false;
      L.norms.push_back(b);
    }
    L.batch_norm = bn;
    L.noise_sd_nA = noise_sd;
    return L;
  };
  if (arch == "single") {
    net.layers.push_back(layer(1, 2, -1, 1, false));
  } else {
    // hidden outputs are standardised; +-2 standard deviations map onto the next electrodes' ranges
    net.layers.push_back(layer(2, 2, -1, 1, true));
    net.layers.push_back(layer(2, 2, -2, 2, true));
    net.layers.push_back(layer(1, 2, -2, 2, false));
  }
  return net;
}

/// Logistic readout on standardised outputs (Newton's method, tiny ridge); returns train/test accuracies.
void logistic_readout(const Eigen::VectorXd& ytr, const Eigen::VectorXi& ltr, const Eigen::VectorXd& yte, const Eigen::VectorXi& lte,
                      double& acc_train, double& acc_test) {
  const double mu = ytr.mean();
  const double sd = std::sqrt((ytr.array() - mu).square().mean()) + 1e-12;
  const Eigen::VectorXd ztr = (ytr.array() - mu) / sd, zte = (yte.array() - mu) / sd;
  double w = 0, b = 0;
  for (int it = 0; it < 100; ++it) {
    double g0 = 0, g1 = 0, h00 = 1e-6, h01 = 0, h11 = 1e-6;
    for (Eigen::Index k = 0; k < ztr.size(); ++k) {
      const double p = 1 / (1 + std::exp(-(w * ztr(k) + b)));
      const double e = p - ltr(k), s = p * (1 - p);
      g0 += e * ztr(k); g1 += e;
      h00 += s * ztr(k) * ztr(k); h01 += s * ztr(k); h11 += s;
    }
    g0 += 1e-6 * w; g1 += 1e-6 * b;
    const double det = h00 * h11 - h01 * h01;
    if (!(std::abs(det) > 1e-300)) break;
    double dw = (h11 * g0 - h01 * g1) / det, db = (h00 * g1 - h01 * g0) / det;
    const double step = std::max(std::abs(dw), std::abs(db));
    if (step > 5) { dw *= 5 / step; db *= 5 / step; }
    w -= dw; b -= db;
    if (step < 1e-10) break;
  }
  auto acc = [&](const Eigen::VectorXd& z, const Eigen::VectorXi& l) {
    std::size_t ok = 0;
    for (Eigen::Index k = 0; k < z.size(); ++k) ok += ((w * z(k) + b > 0) == (l(k) == 1));
    return static_cast<double>(ok) / static_cast<double>(z.size());
  };
  acc_train = acc(ztr, ltr);
  acc_test = acc(zte, lte);
}

}  // namespace

double ring_data_unit_V(const SurrogateModel& m) { return 0.5 * (m.voltage_ranges_V.at(1)[1] - m.voltage_ranges_V.at(1)[0]); }

RingResult run_ring(const SurrogateModel& m, const RingOptions& o, const ProgressFn& progress) {
  o.validate();
  if (m.voltage_ranges_V.size() < 3) throw InputError("the ring task needs the model's voltage ranges");
  RingResult res;
  res.data_unit_V = ring_data_unit_V(m);
  Eigen::MatrixXd x;
  Eigen::VectorXi lab;
  ring_data(o.n_points, o.gap_V / res.data_unit_V, o.seed, x, lab);
  const Eigen::Index half = static_cast<Eigen::Index>(o.n_points / 2);
  const Eigen::MatrixXd xtr = x.leftCols(half), xte = x.rightCols(half);
  const Eigen::VectorXi ltr = lab.head(half), lte = lab.tail(half);
  res.restarts.resize(o.restarts);
  const double noise_sd = std::sqrt(o.noise_var_nA2);
  std::size_t done = 0;
#pragma omp parallel for schedule(dynamic, 1)
  for (std::size_t r = 0; r < o.restarts; ++r) {
    Net net = make_net(m, o.architecture, noise_sd);
    Rng rng = Rng::stream(o.seed, fmt::format("ring/{}/{}", o.architecture, o.first_restart + r));
    for (auto& l : net.layers) for (auto& nd : l.nodes) nd.randomize_controls(rng);
    if (o.optimizer == "ga") {
      Eigen::VectorXd lo(static_cast<Eigen::Index>(net.n_params())), hi(lo.size());
      Eigen::Index i = 0;
      for (const auto& l : net.layers)
        for (const auto& nd : l.nodes)
          for (int e : nd.control_electrodes) { lo(i) = m.voltage_ranges_V[static_cast<std::size_t>(e)][0]; hi(i) = m.voltage_ranges_V[static_cast<std::size_t>(e)][1]; ++i; }
      GaOptions go;
      go.generations = o.ga_generations;
      go.seed = rng.next_u64();
      Net work = net;
      auto fit = [&](const Eigen::VectorXd& p) {
        work.set(p);
        return fisher(work.forward(xtr, nullptr, nullptr, nullptr), ltr, nullptr);
      };
      net.set(genetic_maximize(fit, lo, hi, go).best);
    } else {
      Adam adam;
      adam.lr = o.learning_rate;
      Eigen::VectorXd p = net.get();
      for (std::size_t ep = 0; ep < o.epochs; ++ep) {
        net.set(p);
        std::vector<Eigen::MatrixXd> acts;
        std::vector<DnpuLayer::Tape> tapes(net.layers.size());
        const Eigen::VectorXd y = net.forward(xtr, &acts, &tapes, noise_sd > 0 ? &rng : nullptr);
        Eigen::VectorXd dy = Eigen::VectorXd::Zero(y.size());
        fisher(y, ltr, &dy);
        Eigen::MatrixXd d = -dy.transpose();  // loss = -Fisher
        std::vector<std::vector<Eigen::VectorXd>> dctl(net.layers.size());
        for (std::size_t l = net.layers.size(); l-- > 0;) {
          for (const auto& nd : net.layers[l].nodes) dctl[l].push_back(Eigen::VectorXd::Zero(nd.controls_V.size()));
          d = net.layers[l].backward(acts[l], tapes[l], d, dctl[l]);
        }
        Eigen::VectorXd g(p.size());
        Eigen::Index i = 0;
        for (std::size_t l = 0; l < net.layers.size(); ++l)
          for (std::size_t k = 0; k < net.layers[l].nodes.size(); ++k) {
            Eigen::VectorXd pen = Eigen::VectorXd::Zero(dctl[l][k].size());
            net.layers[l].nodes[k].range_penalty(&pen);
            g.segment(i, pen.size()) = dctl[l][k] + o.penalty * pen;
            i += pen.size();
          }
        adam.step(p, g);
        if (o.clamp_controls) {
          net.set(p);
          for (auto& l : net.layers) for (auto& nd : l.nodes) nd.clamp_controls();
          p = net.get();
        }
      }
      net.set(p);
    }
    RingRestart rr;
    const Eigen::VectorXd ytr = net.forward(xtr, nullptr, nullptr, nullptr), yte = net.forward(xte, nullptr, nullptr, nullptr);
    rr.train_fisher = fisher(ytr, ltr, nullptr);
    logistic_readout(ytr, ltr, yte, lte, rr.train_accuracy, rr.test_accuracy);
    const Eigen::VectorXd p = net.get();
    rr.controls_V.assign(p.data(), p.data() + p.size());
    for (const auto& l : net.layers)
      for (const auto& nd : l.nodes) rr.max_range_violation_V = std::max(rr.max_range_violation_V, nd.max_range_violation());
    res.restarts[r] = rr;
#pragma omp critical(dnpu_progress)
    {
      ++done;
      if (progress) progress(done, o.restarts);
    }
  }
  for (std::size_t r = 0; r < res.restarts.size(); ++r) {
    if (res.restarts[r].train_fisher > res.restarts[res.best_by_fisher].train_fisher) res.best_by_fisher = r;
    if (res.restarts[r].test_accuracy > res.restarts[res.best_by_test].test_accuracy) res.best_by_test = r;
  }
  return res;
}

}  // namespace nnspice::dnpu

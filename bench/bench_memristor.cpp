// bench_memristor: (1) one crossbar read N x N: ngspice operating point of the crossbar netlist (load + op,
// through sim::Session; without and with wire resistance) against the behavioural G^T V (Eigen) in the same
// run — the price of a circuit-level check; (2) in-place training throughput: pulsed device updates (sgd,
// tiki-taka) against the floating-point rule on the same synthetic data. Counts printed next to times.
//   bench_memristor [--sizes 16,32,64] [--samples 20000]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "nnspice/common/rng.hpp"
#include "nnspice/memristor/device.hpp"
#include "nnspice/memristor/spice.hpp"
#include "nnspice/memristor/training.hpp"
#include "nnspice/sim/session.hpp"

using namespace nnspice;
using namespace nnspice::memristor;

namespace {
double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes{16, 32, 64};
  std::size_t samples = 20000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      fmt::print(stderr, "bench_memristor: {} needs a value\n", a);
      return 2;
    }
    if (a == "--sizes") {
      sizes.clear();
      std::stringstream ss(argv[++i]);
      std::string t;
      while (std::getline(ss, t, ',')) sizes.push_back(std::atoi(t.c_str()));
    } else if (a == "--samples") {
      samples = static_cast<std::size_t>(std::atol(argv[++i]));
    } else {
      fmt::print(stderr, "bench_memristor: unknown option {}\n", a);
      return 2;
    }
  }
  const DeviceParams p = device_preset("rram");
  fmt::print("== crossbar read: ngspice OP (load + op, best of 3) vs Eigen G^T V (best of 1000)\n");
  fmt::print("{:>5} {:>9} {:>10} {:>12} {:>14} {:>12} {:>10}\n", "N", "elements", "Newton it", "ngspice s", "ngspice+wire s", "Eigen s", "ratio");
  sim::Session s;
  for (int n : sizes) {
    Rng rng(static_cast<std::uint64_t>(n));
    Eigen::MatrixXd g(n, n);
    Eigen::VectorXd v(n);
    for (Eigen::Index k = 0; k < g.size(); ++k) g.data()[k] = rng.uniform(p.g_min_S, p.g_max_S);
    for (Eigen::Index k = 0; k < v.size(); ++k) v(k) = rng.uniform(0, 0.2);
    double t_sp = 1e30, t_w = 0, t_e = 1e30;
    CrossbarSimResult r;
    for (int k = 0; k < 3; ++k) {
      const double t0 = now_s();
      r = simulate_crossbar(s, g, v, 0);
      t_sp = std::min(t_sp, now_s() - t0);
    }
    const double t0 = now_s();
    const auto rw = simulate_crossbar(s, g, v, 1.0);
    t_w = now_s() - t0;
    volatile double sink = 0;
    for (int k = 0; k < 1000; ++k) {
      const double t1 = now_s();
      const Eigen::VectorXd i = ideal_column_currents(g, v);
      t_e = std::min(t_e, now_s() - t1);
      sink = sink + i(0);
    }
    fmt::print("{:>5} {:>9} {:>10} {:>12.4g} {:>14.4g} {:>12.3g} {:>9.0f}x   (wires: {} elements)\n", n, r.elements, r.newton_iterations, t_sp, t_w, t_e,
               t_sp / t_e, rw.elements);
  }
  fmt::print("\n== in-place training, {} samples of 784 inputs (synthetic, 20 % non-zero), 10 classes, 1 epoch\n", samples);
  Rng rng(5);
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(784, static_cast<Eigen::Index>(samples));
  std::vector<int> y(samples);
  for (std::size_t k = 0; k < samples; ++k) {
    y[k] = static_cast<int>(rng.below(10));
    for (Eigen::Index i = 0; i < 784; ++i)
      if (rng.uniform() < 0.2) x(i, static_cast<Eigen::Index>(k)) = rng.uniform();
  }
  const Eigen::MatrixXd xt = x.leftCols(100);
  const std::vector<int> yt(y.begin(), y.begin() + 100);
  double t_ideal = 0;
  for (UpdateRule rule : {UpdateRule::ideal, UpdateRule::sgd, UpdateRule::tiki_taka, UpdateRule::shd}) {
    InPlaceOptions o;
    o.rule = rule;
    o.epochs = 1;
    const double t0 = now_s();
    const auto res = train_in_place(p, x, y, xt, yt, o);
    const double t = now_s() - t0;
    if (rule == UpdateRule::ideal) t_ideal = t;
    fmt::print("{:<10} {:8.3f} s  {:10.0f} samples/s  {:>10} pulses  ratio to float {:.2f}x\n", to_string(rule), t, static_cast<double>(samples) / t, res.pulses,
               t / t_ideal);
  }
  return 0;
}

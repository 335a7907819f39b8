// bench_dnpu: the DNPU surrogate's forward + input-gradient pass (what every control-voltage training step
// costs), nnspice (host-CPU float64 GEMMs, common/gemm_native) against the same math in portable Eigen compiled
// into this file (the x86-64 baseline, SSE2) — the speed-up of the native kernels, measured in one run; then
// ring-task restarts (400 Adam epochs on 200 points) of a single node and a 2-2-1 network (restarts run in
// parallel over OpenMP threads: OMP_NUM_THREADS=1 times one thread).
// Counts (samples, GFLOP) are printed next to times, and the two paths' outputs are compared.
//   bench_dnpu [--model DIR] [--reps 20] [--restarts 4]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

#include "nnspice/common/malloc_tuning.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/dnpu/experiments.hpp"
#include "nnspice/dnpu/surrogate.hpp"

using namespace nnspice;
using namespace nnspice::dnpu;

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

/// The reference path: plain Eigen products (this translation unit's vector settings), ReLU surrogate.
Eigen::MatrixXd portable_forward_backward(const SurrogateModel& m, const Eigen::MatrixXd& v, Eigen::VectorXd& out) {
  std::vector<Eigen::MatrixXd> pre;
  Eigen::MatrixXd h = v;
  for (std::size_t l = 0; l + 1 < m.weights.size(); ++l) {
    Eigen::MatrixXd z = m.weights[l] * h;
    z.colwise() += m.biases[l];
    pre.push_back(z);
    h = z.cwiseMax(0.0);
  }
  out = ((m.weights.back() * h).row(0).array() + m.biases.back()(0)).matrix().transpose() * m.amplification;
  Eigen::MatrixXd g = m.weights.back().transpose() * Eigen::RowVectorXd::Constant(v.cols(), m.amplification);
  for (std::size_t l = m.weights.size() - 1; l-- > 0;) {
    g = (pre[l].array() > 0.0).select(g.array(), 0.0);
    g = m.weights[l].transpose() * g;
  }
  return g;
}

double flops_per_sample(const SurrogateModel& m) {
  double f = 0;
  for (const auto& w : m.weights) f += 2.0 * static_cast<double>(w.size());
  return 2 * f;  // forward + input gradient
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = NNSPICE_SOURCE_DIR "/data/dnpu/si-boron-2020";
  int reps = 20;
  std::size_t restarts = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) { fmt::print(stderr, "bench_dnpu: {} needs a value\n", a); return 2; }
    if (a == "--model") model = argv[++i];
    else if (a == "--reps") reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--restarts") restarts = static_cast<std::size_t>(std::max(1, std::atoi(argv[++i])));
    else { fmt::print(stderr, "bench_dnpu: unknown option {}\n", a); return 2; }
  }
  tune_malloc_for_batches();  // as the nnspice command does
  const SurrogateModel m = load_surrogate(model);
  if (m.activation != Activation::relu) { fmt::print(stderr, "bench_dnpu: the reference path is written for ReLU surrogates\n"); return 2; }
  std::string shape = std::to_string(m.n_inputs());
  for (const auto& w : m.weights) shape += "-" + std::to_string(w.rows());
  fmt::print("surrogate {} ({}), forward + input gradient, float64, best of {} repetitions\n", model, shape, reps);
  fmt::print("{:>7} {:>14} {:>14} {:>8} {:>10} {:>12}\n", "batch", "nnspice [ms]", "portable [ms]", "ratio", "GFLOP/s", "max rel diff");
  Rng rng(3);
  for (const Eigen::Index batch : {64, 200, 640, 2000}) {
    Eigen::MatrixXd v(static_cast<Eigen::Index>(m.n_inputs()), batch);
    for (Eigen::Index e = 0; e < v.rows(); ++e)
      for (Eigen::Index k = 0; k < batch; ++k) v(e, k) = rng.uniform(m.voltage_ranges_V[static_cast<std::size_t>(e)][0], m.voltage_ranges_V[static_cast<std::size_t>(e)][1]);
    double t_ours = 1e30, t_ref = 1e30, diff = 0;
    for (int r = 0; r < reps; ++r) {
      double t0 = now_s();
      SurrogateModel::Tape tape;
      const Eigen::VectorXd y = m.forward(v, tape);
      const Eigen::MatrixXd g = m.backward(tape, Eigen::VectorXd::Ones(batch));
      t_ours = std::min(t_ours, now_s() - t0);
      t0 = now_s();
      Eigen::VectorXd y_ref;
      const Eigen::MatrixXd g_ref = portable_forward_backward(m, v, y_ref);
      t_ref = std::min(t_ref, now_s() - t0);
      diff = std::max({diff, ((y - y_ref).cwiseAbs().array() / (y_ref.cwiseAbs().array() + 1e-9)).maxCoeff(),
                       (g - g_ref).cwiseAbs().maxCoeff() / (g_ref.cwiseAbs().maxCoeff() + 1e-30)});
    }
    fmt::print("{:>7} {:>14.3f} {:>14.3f} {:>8.2f} {:>10.1f} {:>12.1e}\n", batch, 1e3 * t_ours, 1e3 * t_ref, t_ref / t_ours,
               flops_per_sample(m) * static_cast<double>(batch) / t_ours * 1e-9, diff);
  }
  const char* omp = std::getenv("OMP_NUM_THREADS");
  fmt::print("\nring task, {} restarts per architecture, OMP_NUM_THREADS={} (400 Adam epochs, 200 training points)\n", restarts, omp ? omp : "unset");
  for (const std::string arch : {"single", "2-2-1"}) {
    RingOptions o;
    o.architecture = arch;
    o.restarts = restarts;
    const double t0 = now_s();
    const auto r = run_ring(m, o);
    const double t = now_s() - t0;
    fmt::print("{:>7}: {:.2f} s per restart ({} restarts, {:.1f} s; 1,000 restarts ~ {:.0f} min)\n", arch, t / static_cast<double>(r.restarts.size()),
               r.restarts.size(), t, t / static_cast<double>(r.restarts.size()) * 1000 / 60);
  }
  return 0;
}

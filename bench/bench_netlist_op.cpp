// Netlist generation and DC operating points, each against a baseline in the same run:
//  1. netlist generation (build + write + chip draw) time per network size, with element counts;
//  2. one operating point: in-process libngspice (load + op) vs `ngspice -b` on the same netlist file
//     (a fresh process, as the authors' scripts ran it), Newton iterations from both;
//  3. N operating points: decomposed engine (tabulate once + N Kirchhoff solves) vs N full-netlist ops.
// Usage: bench_netlist_op [--sizes 4-7-3,20-10-5,50-20-10] [--inputs N] [--big]   (--big adds 196-50-10 OP, ~6 min)
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"
#include "nnspice/engine/decomposed_dc.hpp"
#include "nnspice/sim/session.hpp"

using namespace nnspice;
using Clock = std::chrono::steady_clock;

static double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Runs `ngspice -b` on a copy of the netlist with a control block (op + rusage); returns wall s and iterations.
static std::pair<double, long> ngspice_batch(const std::string& netlist_text, const std::string& dir) {
  std::string t = netlist_text;
  const auto pos = t.rfind(".op\n");
  t.replace(pos, 4, ".control\nset num_threads=1\nop\nrusage totiter\n.endc\n");
  write_file_atomic(dir + "/batch.cir", t);
  const std::string cmd = fmt::format("cd {} && ngspice -b batch.cir > batch.log 2>&1", dir);
  const auto t0 = Clock::now();
  const int rc = std::system(cmd.c_str());
  const double wall = since(t0);
  (void)rc;  // ngspice -b exits 1 after the BSIM3 parameter-check warnings; iterations are read from its log
  std::ifstream log(dir + "/batch.log");
  std::string line;
  long iters = -1;
  std::smatch m;
  static const std::regex re(R"(Total iterations\s*=\s*(\d+))");
  while (std::getline(log, line))
    if (std::regex_search(line, m, re)) iters = std::stol(m[1]);
  return {wall, iters};
}

int main(int argc, char** argv) {
  std::vector<std::string> sizes = {"4-7-3", "20-10-5", "50-20-10"};
  int n_inputs = 100;
  bool big = false;
  for (int a = 1; a < argc; ++a) {
    if (!std::strcmp(argv[a], "--sizes") && a + 1 < argc) {
      sizes.clear();
      std::stringstream ss(argv[++a]);
      std::string s;
      while (std::getline(ss, s, ',')) sizes.push_back(s);
    } else if (!std::strcmp(argv[a], "--inputs") && a + 1 < argc) {
      n_inputs = std::atoi(argv[++a]);
    } else if (!std::strcmp(argv[a], "--big")) {
      big = true;
    } else {
      fmt::print("usage: bench_netlist_op [--sizes 4-7-3,20-10-5] [--inputs N] [--big]\n");
      return 2;
    }
  }
  if (big) sizes.push_back("196-50-10");
  const auto process = netlist::default_process();
  const std::string dir = "/tmp/nnspice_bench_" + std::to_string(::getpid());
  make_dirs(dir);
  fmt::print("machine: {} cores; ngspice {}; process {}\n\n", sysconf(_SC_NPROCESSORS_ONLN), sim::Session::ngspice_version(), process.name);

  // 1. Netlist generation.
  fmt::print("1. netlist generation (chip draw + build + write, best of 3)\n{:<16}{:>12}{:>12}{:>12}{:>10}\n", "network", "FETs", "synapses", "MB", "s");
  for (const std::string s : {"4-7-3", "196-50-10", "196-100-50-10"}) {
    const auto spec = netlist::NetworkSpec::parse(s);
    double best = 1e9;
    std::size_t bytes = 0, fets = 0;
    for (int r = 0; r < 3; ++r) {
      const auto t0 = Clock::now();
      const auto chip = mismatch::draw_chip(spec, process, 7);
      const auto c = netlist::build_network(spec, netlist::random_weights(spec, 7), process, &chip.delvto_V, {});
      const std::string text = netlist::write_ngspice(c);
      best = std::min(best, since(t0));
      bytes = text.size();
      fets = c.count(netlist::ElementKind::mosfet);
    }
    fmt::print("{:<16}{:>12}{:>12}{:>12.1f}{:>10.3f}\n", s, fets, spec.n_synapses(), bytes / 1e6, best);
  }

  // 2. One operating point: in-process vs ngspice -b.
  fmt::print("\n2. one operating point, same netlist: in-process libngspice vs `ngspice -b` (fresh process)\n");
  fmt::print("{:<14}{:>8}{:>14}{:>10}{:>14}{:>10}{:>9}\n", "network", "FETs", "in-process s", "iters", "ngspice -b s", "iters", "ratio");
  for (const auto& s : sizes) {
    const auto spec = netlist::NetworkSpec::parse(s);
    const auto chip = mismatch::draw_chip(spec, process, 7);
    netlist::BuildOptions bo;
    bo.input_A.assign(spec.layers[0], 20e-9);
    const auto c = netlist::build_network(spec, netlist::random_weights(spec, 7), process, &chip.delvto_V, bo);
    const std::string text = netlist::write_ngspice(c);
    double t_in;
    long it_in;
    {
      sim::Session session;
      const auto t0 = Clock::now();
      session.load(netlist::ngspice_lines(c));
      const auto r = session.op();
      t_in = since(t0);
      it_in = r.stats.newton_iterations;
    }
    const auto [t_b, it_b] = ngspice_batch(text, dir);
    fmt::print("{:<14}{:>8}{:>14.3f}{:>10}{:>14.3f}{:>10}{:>8.2f}x\n", s, c.count(netlist::ElementKind::mosfet), t_in, it_in, t_b, it_b, t_b / t_in);
  }

  // 3. Many operating points: decomposed engine vs full netlist.
  fmt::print("\n3. {} operating points of one chip: decomposed engine vs full-netlist ngspice (2 workers)\n", n_inputs);
  fmt::print("{:<14}{:>12}{:>12}{:>12}{:>12}{:>14}{:>9}\n", "network", "tabulate s", "points", "solve s", "full s", "full iters", "ratio");
  for (const auto& s : sizes) {
    sim::NetworkChip nc{netlist::NetworkSpec::parse(s), process, {}};
    nc.chip = mismatch::draw_chip(nc.spec, process, 7);
    const auto w = netlist::random_weights(nc.spec, 7);
    Rng rng(1);
    std::vector<std::vector<double>> in(n_inputs, std::vector<double>(nc.spec.layers[0]));
    for (auto& v : in)
      for (auto& x : v) x = rng.uniform(0, 60e-9);
    sim::ParallelOptions po;
    po.workers = 2;
    engine::DecomposedOptions dopt;
    dopt.parallel = po;
    dopt.progress = false;
    engine::DecomposedSolver dec(nc, dopt);
    dec.tabulate(w);
    const auto t1 = Clock::now();
    dec.solve(w, in);
    const double t_solve = since(t1);
    auto full = sim::make_full_netlist_solver(nc, po);
    const auto t2 = Clock::now();
    const auto rf = full->solve(w, in);
    const double t_full = since(t2);
    long iters = 0;
    for (auto& r : rf) iters += r.newton_iterations;
    const double t_dec = dec.stats().tabulate_s + t_solve;
    fmt::print("{:<14}{:>12.2f}{:>12}{:>12.4f}{:>12.2f}{:>14}{:>8.1f}x\n", s, dec.stats().tabulate_s, dec.stats().sweep_points, t_solve, t_full, iters,
               t_full / t_dec);
  }
  std::filesystem::remove_all(dir);
  return 0;
}

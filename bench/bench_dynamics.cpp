// Pattern-switch transients (nnspice dynamics), each method against the full-netlist baseline in the
// same run: wall time, ngspice transients, accepted time points, Newton iterations, time to output.
//  1. per size: one switch (random weights and inputs at 15 nA mean, 15 us, max step 20 ns) with the
//     full netlist, the layer-wise method and the tabulated engine (its one-off tabulation and capacitance
//     calibration timed apart); ratios to full and the time-to-output differences;
//  2. --big: N switches of 196-100-50-10 with the tabulated engine (the full netlist takes hours per
//     switch: ratio against the full-netlist cost per transistor-time-point measured in part 1).
// Usage: bench_dynamics [--sizes 4-7-3,20-10-5] [--chunk N] [--tmax S] [--tstop S] [--big] [--big-patterns N]
//                       [--weights DIR] [--table-cache DIR] [--layerwise-big]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nnspice/common/rng.hpp"
#include "nnspice/dynamics/switch_sim.hpp"
#include "nnspice/dynamics/tabulated.hpp"
#include "nnspice/mismatch/chip.hpp"

using namespace nnspice;

static std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t a = 0;
  while (a <= s.size()) {
    const auto b = s.find(',', a);
    out.push_back(s.substr(a, b == std::string::npos ? std::string::npos : b - a));
    if (b == std::string::npos) break;
    a = b + 1;
  }
  return out;
}

static std::vector<double> pattern(std::size_t n, double mean_A, Rng& rng) {
  std::vector<double> x(n);
  double sum = 0;
  for (auto& v : x) sum += (v = rng.uniform());
  for (auto& v : x) v *= mean_A * static_cast<double>(n) / sum;
  return x;
}

int main(int argc, char** argv) {
  std::string sizes = "4-7-3,20-10-5", weights, table_cache;
  std::size_t chunk = 0, big_patterns = 5;
  double tmax = 20e-9, tstop = 15e-6;
  bool big = false, layerwise_big = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "{} needs a value\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--sizes") sizes = next();
    else if (a == "--chunk") chunk = std::stoul(next());
    else if (a == "--tmax") tmax = std::stod(next());
    else if (a == "--tstop") tstop = std::stod(next());
    else if (a == "--weights") weights = next();
    else if (a == "--big") big = true;
    else if (a == "--big-patterns") big_patterns = std::stoul(next());
    else if (a == "--table-cache") table_cache = next();
    else if (a == "--layerwise-big") layerwise_big = true;
    else {
      fmt::print(stderr, "usage: bench_dynamics [--sizes 4-7-3,20-10-5] [--chunk N] [--tmax S] [--tstop S] [--big] [--big-patterns N] "
                         "[--weights DIR] [--table-cache DIR] [--layerwise-big]\n");
      return 2;
    }
  }
  sim::Session session;
  const auto process = netlist::default_process();
  dynamics::SwitchOptions o;
  o.t_stop_s = tstop;
  o.t_max_s = tmax;
  o.t_step_s = tmax;  // the layer-wise driver grid: a finer grid would force breakpoints every t_step
  o.chunk = chunk;
  o.gate_load = dynamics::calibrate_gate_load(session, process);
  const auto caps_t0 = std::chrono::steady_clock::now();
  const dynamics::NodeCaps caps = dynamics::calibrate_node_caps(session, process);
  const double caps_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - caps_t0).count();
  fmt::print("node-capacitance calibration (once per process): {:.2f} s\n", caps_s);
  auto model_for = [&](const sim::NetworkChip& chip, const netlist::WeightCodes& w, const std::string& cache) {
    engine::DecomposedOptions dopt;
    dopt.progress = false;
    dopt.cache_dir = cache;
    dopt.parallel.workers = 2;
    auto solver = std::make_shared<engine::DecomposedSolver>(chip, dopt);
    solver->tabulate(w);
    const auto& st = solver->stats();
    fmt::print("{:<14} tabulation (once per chip and weights): {:.1f} s, {} synapse tables, {} sweep jobs ({} from the cache), {} ngspice points\n",
               chip.spec.str(), st.tabulate_s, st.synapse_tables, st.sweep_jobs, st.cached_jobs, st.sweep_points);
    return std::make_shared<const dynamics::TabulatedModel>(solver, caps);
  };
  fmt::print("switch A -> B at 15 nA mean input, {} us, max step = output step {} ns, chunk {}; ngspice {}\n", tstop * 1e6, tmax * 1e9, chunk,
             sim::Session::ngspice_version());
  fmt::print("{:<14} {:>9} {:>5} {:>9} {:>10} {:>9} {:>10}\n", "network/method", "wall s", "trans", "points", "Newton it", "tto us", "E_win pJ");
  auto run = [&](const sim::NetworkChip& chip, const netlist::WeightCodes& w, dynamics::Method m, Rng rng) {
    o.method = m;
    o.log_stages = chip.spec.n_synapses() > 5000;
    const auto a = pattern(chip.spec.layers[0], 15e-9, rng), b = pattern(chip.spec.layers[0], 15e-9, rng);
    const auto tr = dynamics::simulate_switch(session, chip, w, a, b, o);
    const auto ms = dynamics::measure_switch(tr, process.vdd_V, o.t_stop_s);
    fmt::print("{:<14} {:>9.2f} {:>5} {:>9} {:>10} {:>9.4f} {:>10.4g}\n", fmt::format("{} {}", chip.spec.str(), dynamics::method_name(m)),
               tr.wall_s, tr.transients, tr.time_points, tr.newton_iterations, ms.time_to_output_s * 1e6, ms.energy_window_J * 1e12);
    return std::make_pair(tr.wall_s, ms.time_to_output_s);
  };
  double full_s_per_fet = 0;  // wall seconds per transistor of the full-netlist transient (largest seen)
  for (const auto& s : split(sizes)) {
    if (s.empty()) continue;
    sim::NetworkChip chip{netlist::NetworkSpec::parse(s), process, {}};
    chip.chip = mismatch::draw_chip(chip.spec, process, 1);
    const auto w = netlist::random_weights(chip.spec, 1);
    const auto f = run(chip, w, dynamics::Method::full, Rng(5));
    const auto l = run(chip, w, dynamics::Method::layerwise, Rng(5));
    o.tabulated = model_for(chip, w, "");
    const auto t = run(chip, w, dynamics::Method::tabulated, Rng(5));
    const double fets = static_cast<double>(netlist::count_transistors(chip.spec));
    full_s_per_fet = std::max(full_s_per_fet, f.first / fets);
    fmt::print("{:<14} wall ratio layer-wise / full = {:.2f}, tabulated / full = {:.4f} ({:.0f}x faster); time to output vs full: "
               "layer-wise {:+.3f} %, tabulated {:+.3f} %\n",
               s, l.first / f.first, t.first / f.first, f.first / t.first, f.second > 0 ? 100 * (l.second - f.second) / f.second : 0.0,
               f.second > 0 ? 100 * (t.second - f.second) / f.second : 0.0);
  }
  if (big) {
    sim::NetworkChip chip{netlist::NetworkSpec::parse("196-100-50-10"), process, {}};
    chip.chip = mismatch::draw_chip(chip.spec, process, 1);
    const auto w = weights.empty() ? netlist::random_weights(chip.spec, 1) : netlist::load_weights({weights}, chip.spec);
    o.tabulated = model_for(chip, w, table_cache);
    Rng rng(5);
    double total = 0;
    for (std::size_t k = 0; k < big_patterns; ++k) total += run(chip, w, dynamics::Method::tabulated, Rng(rng.below(1u << 30))).first;
    const double fets = static_cast<double>(netlist::count_transistors(chip.spec));
    fmt::print("196-100-50-10 tabulated: {:.2f} s per switch over {} switches", total / static_cast<double>(big_patterns), big_patterns);
    if (full_s_per_fet > 0)
      fmt::print("; the full netlist at the small networks' cost per transistor would take >= {:.0f} s ({:.0f}x)", full_s_per_fet * fets,
                 full_s_per_fet * fets * static_cast<double>(big_patterns) / total);
    fmt::print("\n");
    if (layerwise_big) run(chip, w, dynamics::Method::layerwise, Rng(5));
  }
  return 0;
}

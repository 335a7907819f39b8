// nnspice demo: the small end-to-end job of the README's first command until `nnspice run` lands:
// a 4-7-3 chip with random 3-bit weights -> netlist + chip file -> in-process DC operating points for a
// few input patterns -> printed output currents and classes.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "cli_util.hpp"
#include "commands.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"
#include "nnspice/sim/parallel.hpp"

namespace nnspice::tools {

int cmd_demo(int argc, char** argv) {
  po::options_description o("Options");
  o.add_options()
    ("layers,l", po::value<std::string>()->default_value("4-7-3"), "layer sizes")
    ("seed,s", seed_value()->default_value(7), "seed of the chip, the weights and the input patterns")
    ("patterns", po::value<int>()->default_value(5), "number of random input patterns (currents 0..325 nA)")
    ("process,p", po::value<std::string>()->default_value(""), "process YAML (default: shipped tsmc180.yaml)")
    ("out,o", po::value<std::string>()->default_value("out/demo"), "output directory");
  add_corner_options(o);
  po::variables_map vm;
  if (!parse_options(argc, argv, o, vm, "nnspice demo [--layers 4-7-3] [--seed 7] [--out DIR]",
                     "Draws a mismatched chip, writes its netlist, and simulates DC operating points of a few input patterns\n"
                     "in-process with libngspice, printing every output neuron's input current and the predicted class."))
    return 0;
  const auto process = resolve_process(vm);
  const auto spec = netlist::NetworkSpec::parse(vm["layers"].as<std::string>()).for_process(process);
  const std::uint64_t seed = vm["seed"].as<std::uint64_t>();
  const int n_patterns = vm["patterns"].as<int>();
  if (n_patterns < 1 || n_patterns > 10000) throw InputError(fmt::format("--patterns = {}: expected 1..10000", n_patterns));
  const std::string out = vm["out"].as<std::string>();
  make_dirs(out);

  const auto chip = mismatch::draw_chip(spec, process, seed);
  const auto weights = netlist::random_weights(spec, seed);
  netlist::BuildOptions bo;
  bo.comments = {fmt::format("nnspice demo, chip seed {}, random weights seed {}", seed, seed)};
  const auto circuit = netlist::build_network(spec, weights, process, &chip.delvto_V, bo);
  write_file_atomic(out + "/network.cir", netlist::write_ngspice(circuit));
  mismatch::save_chip(chip, out + "/chip.csv");
  netlist::save_weights(weights, out);
  fmt::print("chip {} (seed {}, process {}): {} transistors -> {}/network.cir\n", spec.str(), seed, process.name,
             circuit.count(netlist::ElementKind::mosfet), out);

  Rng rng = Rng::stream(seed, "demo.inputs");
  const std::size_t N0 = spec.layers[0], NL = spec.layers.back();
  std::vector<double> inputs(n_patterns * N0);
  for (auto& x : inputs) x = rng.uniform(0, 325e-9);
  const auto lines = netlist::ngspice_lines(circuit);
  auto job = [&](sim::Session& s, std::size_t k) -> sim::JobData {
    s.load(lines);
    for (std::size_t i = 0; i < N0; ++i) s.alter(netlist::names::input_source(i), inputs[k * N0 + i]);
    const auto r = s.op();
    sim::JobData d;
    std::vector<double> outs;
    for (std::size_t j = 0; j < NL; ++j) outs.push_back(r.vectors.current(netlist::names::probe(spec.layers.size() - 1, j))[0]);
    d["out"] = outs;
    d["iters"] = {static_cast<double>(r.stats.newton_iterations)};
    return d;
  };
  sim::ParallelOptions popt;
  popt.workers = 1;
  const auto t0 = std::chrono::steady_clock::now();
  const auto res = sim::run_parallel(static_cast<std::size_t>(n_patterns), job, popt);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::vector<double> table(n_patterns * NL, std::nan(""));
  nlohmann::json samples = nlohmann::json::array();
  int failed = 0;
  fmt::print("{:>7}  {:<40}  {}\n", "pattern", "output currents (nA)", "class");
  for (int k = 0; k < n_patterns; ++k) {
    if (!res[k].ok) {
      ++failed;
      fmt::print("{:>7}  simulation failed: {}\n", k, res[k].error);
      samples.push_back({{"pattern", k}, {"ok", false}, {"error", res[k].error}});
      continue;
    }
    const auto& outs = res[k].data.at("out");
    std::copy(outs.begin(), outs.end(), table.begin() + k * NL);
    std::string s;
    for (double v : outs) s += fmt::format("{:8.3f} ", v * 1e9);
    const auto cls = std::max_element(outs.begin(), outs.end()) - outs.begin();
    fmt::print("{:>7}  {:<40}  {}\n", k, s, cls);
    samples.push_back({{"pattern", k}, {"ok", true}, {"output_A", outs}, {"class", cls}, {"newton_iterations", res[k].data.at("iters")[0]}});
  }
  write_npy(out + "/inputs.npy", inputs, {static_cast<std::size_t>(n_patterns), N0});
  write_npy(out + "/outputs.npy", table, {static_cast<std::size_t>(n_patterns), NL});
  const nlohmann::json rec = {{"layers", spec.layers}, {"seed", seed}, {"process", process.name}, {"model_card", process.model_card},
                              {"ngspice", sim::Session::ngspice_version()}};
  nlohmann::json summary = rec;
  summary["patterns"] = samples;
  summary["failed"] = failed;
  summary["wall_s"] = wall;
  write_json(out + "/summary.json", summary);
  write_run_json(out, rec);
  fmt::print("{} operating points in {:.2f} s ({} failed) -> {}/summary.json\n", n_patterns, wall, failed, out);
  return failed ? static_cast<int>(ExitCode::sim_failure) : 0;
}

}  // namespace nnspice::tools

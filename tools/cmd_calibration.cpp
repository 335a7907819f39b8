// nnspice calibration: calibration files without a chip measurement (until/besides `characterize`):
// random slopes with the paper-like spread, or the homogeneous model; or a chip's calibration extended
// by the process's weight-code linearity (code-gains, measured with ngspice).
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "commands.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/measure/code_gains.hpp"
#include "nnspice/netlist/process.hpp"
#include "nnspice/sim/parallel.hpp"
#include "nnspice/train/calibration.hpp"

namespace nnspice::tools {

namespace {

// `calibration code-gains`: the chip's calibration with the process's code linearity as gains per code.
int code_gains_mode(const po::variables_map& vm) {
  if (!vm.count("calibration")) throw InputError("code-gains: --calibration (the chip's calibration.json) is required");
  const std::string in = vm["calibration"].as<std::string>();
  train::Calibration c = train::read_calibration(in, true);
  if (c.has_code_gains())
    throw InputError(fmt::format("{}: already has gains per code (measured per synapse); code-gains would replace measured values", in));
  const std::vector<double> levels = parse_number_list(vm["input-current"].as<std::string>(), "input-current");
  for (double x : levels)
    if (!(x > 0 && x <= 1e-5)) throw InputError(fmt::format("--input-current: {} A is not a current in (0, 1e-5] A", x));
  const netlist::Process process = netlist::load_process_or_default(vm["process"].as<std::string>());
  sim::ParallelOptions p1;
  p1.workers = 1;
  const auto res = sim::run_parallel(levels.size(), [&](sim::Session& s, std::size_t k) {
    const auto g = measure::measure_code_gains(s, process, levels[k]);
    return sim::JobData{{"pos", std::vector<double>(g.pos.begin(), g.pos.end())},
                        {"neg", std::vector<double>(g.neg.begin(), g.neg.end())},
                        {"v", {g.v_post_V, g.i_pos7_A, g.i_neg7_A}}};
  }, p1);
  std::array<double, 7> fp{}, fn{};
  nlohmann::json per_level = nlohmann::json::array();
  for (std::size_t k = 0; k < levels.size(); ++k) {
    if (!res[k].ok) throw sim::SimError(fmt::format("code-gain measurement at {} A failed: {}", levels[k], res[k].error));
    const auto& pos = res[k].data.at("pos");
    const auto& neg = res[k].data.at("neg");
    for (std::size_t i = 0; i < 7; ++i) fp[i] += pos[i] / static_cast<double>(levels.size()), fn[i] += neg[i] / static_cast<double>(levels.size());
    per_level.push_back({{"input_current_A", levels[k]}, {"v_post_V", res[k].data.at("v")[0]}, {"i_pos7_A", res[k].data.at("v")[1]},
                         {"i_neg7_A", res[k].data.at("v")[2]}, {"pos", pos}, {"neg", neg}});
    std::string a, b;
    for (std::size_t i = 0; i < 7; ++i) a += fmt::format(" {:.3f}", pos[i]), b += fmt::format(" {:.3f}", neg[i]);
    fmt::print("code gain per unit of code at {:g} nA (codes 1..7): +{}\n{:>38}-{}\n", levels[k] * 1e9, a, "", b);
  }
  // Per synapse: the ±7 gains (measured per synapse, or the per-neuron model's 1 and negative gain) times
  // the code's factor.
  const std::size_t L = c.slopes.size();
  const bool had = c.has_synapse_gains();
  if (!had) {
    c.synapse_gain_pos.resize(L);
    c.synapse_gain_neg.resize(L);
  }
  c.synapse_gain_code_pos.assign(L, {});
  c.synapse_gain_code_neg.assign(L, {});
  for (std::size_t l = 0; l < L; ++l) {
    const std::size_t n_pre = static_cast<std::size_t>(c.layers[l]), n_post = static_cast<std::size_t>(c.layers[l + 1]), m = n_pre * n_post;
    if (!had) {
      c.synapse_gain_pos[l].assign(m, 1.0);
      c.synapse_gain_neg[l].resize(m);
      for (std::size_t j = 0; j < n_post; ++j)
        for (std::size_t i = 0; i < n_pre; ++i) c.synapse_gain_neg[l][j * n_pre + i] = c.negative_gain[l][i];
    }
    c.synapse_gain_code_pos[l].resize(7 * m);
    c.synapse_gain_code_neg[l].resize(7 * m);
    for (std::size_t k = 0; k < 7; ++k)
      for (std::size_t s = 0; s < m; ++s) {
        c.synapse_gain_code_pos[l][k * m + s] = c.synapse_gain_pos[l][s] * fp[k];
        c.synapse_gain_code_neg[l][k * m + s] = c.synapse_gain_neg[l][s] * fn[k];
      }
  }
  c.chip += fmt::format("{}code linearity of the process (nnspice calibration code-gains)", c.chip.empty() ? "" : "; ");
  const std::string out = vm["out"].as<std::string>();
  make_dirs(out);
  train::write_calibration(out + "/calibration.json", c);
  write_json(out + "/summary.json", {{"mode", "code-gains"}, {"from", in}, {"process", process.name}, {"code_gain_pos", fp}, {"code_gain_neg", fn},
                                     {"per_level", per_level}, {"per_synapse_seven_gains_from_input", had}});
  write_run_json(out, {{"mode", "code-gains"}, {"calibration", in}, {"input_current_A", levels}, {"ngspice", sim::Session::ngspice_version()}});
  fmt::print("{}/calibration.json: {} with gains per code (mean over {} input levels)\n", out, in, levels.size());
  return 0;
}

}  // namespace

int cmd_calibration(int argc, char** argv) {
  po::options_description o("Options");
  o.add_options()
    ("mode", po::value<std::string>()->required(), "random | homogeneous | code-gains")
    ("layers", po::value<std::string>(), "network, e.g. 196-100-50-10 (random, homogeneous)")
    ("calibration", po::value<std::string>(), "code-gains: the chip's calibration.json (nnspice characterize) to extend")
    ("process", po::value<std::string>()->default_value(""), "code-gains: process YAML (default: the shipped tsmc180.yaml)")
    ("input-current", po::value<std::string>()->default_value("5e-9,15e-9,45e-9"),
     "code-gains: pre-neuron input currents (A, comma list) at which the code linearity is measured and averaged")
    ("sigma", po::value<double>()->default_value(0.15), "random: relative sd of the neuron slopes (paper-like 0.1-0.2)")
    ("negative-gain", po::value<double>()->default_value(1.0), "gain of a negative weight relative to a positive one (authors' chip: 2.3)")
    ("negative-gain-sigma", po::value<double>()->default_value(0.0), "random: relative sd of per-neuron negative gains (0 = one global gain)")
    ("synapse-sigma", po::value<double>()->default_value(0.0), "random: relative sd of per-synapse gains at +7 and -7 (written as "
                                                               "synapse_gain_{pos,neg}_<l>.npy like characterize --synapses; 0 = none)")
    ("seed", seed_value()->default_value(1), "random: seed of the draws")
    ("out,o", po::value<std::string>()->required(), "output directory: calibration.json, summary.json, run.json");
  po::positional_options_description pos;
  pos.add("mode", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, o, vm,
                     "nnspice calibration random|homogeneous --layers 4-7-3 [--sigma 0.15 --seed S --negative-gain 1.4] --out DIR\n"
                     "       nnspice calibration code-gains --calibration chip/calibration.json --out DIR",
                     "Writes a calibration.json (docs/conventions.md) for `nnspice train --calibration` / `nnspice infer`:\n"
                     "random: slopes ~ N(1, sigma) per neuron, normalised to mean 1 per layer (a stand-in for a measured chip);\n"
                     "homogeneous: all slopes 1. --synapse-sigma adds random per-synapse gains;\n"
                     "code-gains: the given chip calibration plus the synapse circuit's weight-code linearity (what code k is worth\n"
                     "per unit of code relative to code 7, measured with ngspice on a mismatch-free synapse of the process) as\n"
                     "gains per code of every synapse (docs/training.md).",
                     &pos))
    return 0;
  const std::string mode = vm["mode"].as<std::string>();
  if (mode == "code-gains") return code_gains_mode(vm);
  if (!vm.count("layers")) throw InputError(fmt::format("mode {}: --layers is required", mode));
  const train::Layers layers = train::parse_layers(vm["layers"].as<std::string>(), "--layers");
  train::Calibration c;
  const std::uint64_t seed = vm["seed"].as<std::uint64_t>();
  const double synapse_sigma = vm["synapse-sigma"].as<double>();
  if (mode == "random") {
    c = train::random_calibration(layers, vm["sigma"].as<double>(), vm["negative-gain"].as<double>(),
                                  vm["negative-gain-sigma"].as<double>(), seed);
    if (synapse_sigma != 0) {
      train::add_random_synapse_gains(c, synapse_sigma, seed);
      c.chip += fmt::format(", synapse gains sigma {}", synapse_sigma);
    }
  } else if (mode == "homogeneous") {
    if (synapse_sigma != 0) throw InputError(fmt::format("--synapse-sigma = {}: only for random calibrations", synapse_sigma));
    if (!(vm["negative-gain"].as<double>() > 0))
      throw InputError(fmt::format("--negative-gain = {}: must be > 0", vm["negative-gain"].as<double>()));
    c = train::homogeneous_calibration(layers, vm["negative-gain"].as<double>());
    c.chip = "homogeneous model";
  } else
    throw InputError(fmt::format("mode '{}': expected random or homogeneous", mode));
  const std::string out = vm["out"].as<std::string>();
  make_dirs(out);
  train::write_calibration(out + "/calibration.json", c);
  nlohmann::json stats = nlohmann::json::array();
  for (std::size_t l = 0; l < c.slopes.size(); ++l) {
    double m = 0, s = 0;
    for (double v : c.slopes[l]) m += v;
    m /= static_cast<double>(c.slopes[l].size());
    for (double v : c.slopes[l]) s += (v - m) * (v - m);
    s = c.slopes[l].size() > 1 ? std::sqrt(s / static_cast<double>(c.slopes[l].size() - 1)) : 0.0;
    stats.push_back({{"layer", l}, {"neurons", c.slopes[l].size()}, {"slope_mean", m}, {"slope_sd", s}});
  }
  write_json(out + "/summary.json", {{"mode", mode}, {"layers", layers}, {"calibration", out + "/calibration.json"},
                                     {"per_layer", stats}});
  write_run_json(out, {{"seed", seed}, {"mode", mode}, {"layers", layers}, {"sigma", vm["sigma"].as<double>()},
                       {"negative_gain", vm["negative-gain"].as<double>()},
                       {"negative_gain_sigma", vm["negative-gain-sigma"].as<double>()}, {"synapse_sigma", synapse_sigma}});
  fmt::print("{}/calibration.json: {} {} calibration{}\n", out, mode, train::format_layers(layers),
             c.has_synapse_gains() ? " with per-synapse gains" : "");
  return 0;
}

}  // namespace nnspice::tools

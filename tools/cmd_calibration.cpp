// nnspice calibration: calibration files without a chip measurement (until/besides `characterize`):
// random slopes with the paper-like spread, or the homogeneous model.
#include <fmt/format.h>

#include <cmath>

#include "cli_util.hpp"
#include "commands.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/train/calibration.hpp"

namespace nnspice::tools {

int cmd_calibration(int argc, char** argv) {
  po::options_description o("Options");
  o.add_options()
    ("mode", po::value<std::string>()->required(), "random | homogeneous")
    ("layers", po::value<std::string>()->required(), "network, e.g. 196-100-50-10")
    ("sigma", po::value<double>()->default_value(0.15), "random: relative sd of the neuron slopes (paper-like 0.1-0.2)")
    ("negative-gain", po::value<double>()->default_value(1.0), "gain of a negative weight relative to a positive one (authors' chip: 2.3)")
    ("negative-gain-sigma", po::value<double>()->default_value(0.0), "random: relative sd of per-neuron negative gains (0 = one global gain)")
    ("synapse-sigma", po::value<double>()->default_value(0.0), "random: relative sd of per-synapse gains at +7 and -7 (written as "
                                                               "synapse_gain_{pos,neg}_<l>.npy like characterize --synapses; 0 = none)")
    ("seed", po::value<std::uint64_t>()->default_value(1), "random: seed of the draws")
    ("out,o", po::value<std::string>()->required(), "output directory: calibration.json, summary.json, run.json");
  po::positional_options_description pos;
  pos.add("mode", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, o, vm, "nnspice calibration random|homogeneous --layers 4-7-3 [--sigma 0.15 --seed S --negative-gain 1.4] --out DIR",
                     "Writes a calibration.json (docs/conventions.md) for `nnspice train --calibration` / `nnspice infer`:\n"
                     "random: slopes ~ N(1, sigma) per neuron, normalised to mean 1 per layer (a stand-in for a measured chip);\n"
                     "homogeneous: all slopes 1. --synapse-sigma adds random per-synapse gains.",
                     &pos))
    return 0;
  const std::string mode = vm["mode"].as<std::string>();
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

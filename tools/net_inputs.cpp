#include "net_inputs.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/common/rng.hpp"

namespace nnspice::tools {

void add_network_options(po::options_description& o) {
  o.add_options()
    ("layers,l", po::value<std::string>()->required(), "layer sizes, e.g. 4-7-3 or 196-100-50-10")
    ("process,p", po::value<std::string>()->default_value(""), "process YAML (default: the shipped tsmc180.yaml)")
    ("seed,s", seed_value()->default_value(1), "chip seed: the mismatch draw (ignored with --chip)")
    ("chip", po::value<std::string>(), "chip file (chip.csv) to reuse instead of drawing from --seed")
    ("no-mismatch", po::bool_switch(), "ideal chip: all threshold shifts 0")
    ("weights,w", po::value<std::vector<std::string>>()->multitoken(), "weight files (.npy/.csv, one per layer, shape (post, pre)) or a directory of weights_<l>.npy")
    ("weight-seed", seed_value(), "seed of random weight codes when --weights is absent (default: --seed)")
    ("inputs", po::value<std::string>()->default_value("1e-8"), "input currents in A: one value for all inputs or a comma list of N0 values");
  add_corner_options(o);
}

std::vector<double> parse_current_list(const std::string& text, const std::string& option) {
  std::vector<double> v;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    double x;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), x);
    if (part.empty() || ec != std::errc() || p != part.data() + part.size() || !std::isfinite(x))
      throw InputError(fmt::format("--{}: '{}' is not a number (currents in A, exponent notation, e.g. 1.5e-8)", option, part));
    if (x < 0 || x > 1e-3) throw InputError(fmt::format("--{}: current {} A is outside 0..1e-3 A (inputs are rectified currents)", option, x));
    v.push_back(x);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return v;
}

NetworkInputs resolve_network_inputs(const po::variables_map& vm) {
  NetworkInputs n;
  n.process = resolve_process(vm);
  n.spec = netlist::NetworkSpec::parse(vm["layers"].as<std::string>()).for_process(n.process);
  const std::uint64_t seed = vm["seed"].as<std::uint64_t>();
  if (vm.count("chip")) {
    n.chip_path = vm["chip"].as<std::string>();
    n.chip = mismatch::load_chip(n.chip_path, &n.spec);
    n.chip_from_file = true;
  } else if (vm["no-mismatch"].as<bool>()) {
    n.chip = mismatch::ideal_chip(n.spec);
  } else {
    n.chip = mismatch::draw_chip(n.spec, n.process, seed);
  }
  if (vm.count("weights")) {
    const auto files = vm["weights"].as<std::vector<std::string>>();
    n.weights = netlist::load_weights(files, n.spec);
    for (auto& f : files) n.weights_source += (n.weights_source.empty() ? "" : " ") + f;
  } else {
    n.weight_seed = vm.count("weight-seed") ? vm["weight-seed"].as<std::uint64_t>() : seed;
    n.weights = netlist::random_weights(n.spec, n.weight_seed);
    n.weights_source = fmt::format("random (seed {})", n.weight_seed);
  }
  auto in = parse_current_list(vm["inputs"].as<std::string>(), "inputs");
  const size_t N0 = n.spec.layers[0];
  if (in.size() == 1) in.assign(N0, in[0]);
  if (in.size() != N0) throw InputError(fmt::format("--inputs: {} currents given for an input layer of {} neurons", in.size(), N0));
  n.input_A = in;
  return n;
}

std::vector<std::string> NetworkInputs::comments() const {
  return {fmt::format("network {} ({} synapses)", spec.str(), spec.n_synapses()),
          fmt::format("process {} ({})", process.name, process.source.empty() ? "built-in" : process.source),
          fmt::format("chip {}", chip_from_file ? chip_path : fmt::format("seed {} ({})", chip.seed, chip.process_name)),
          fmt::format("weights {}", weights_source)};
}

nlohmann::json NetworkInputs::describe() const {
  return {{"layers", spec.layers},
          {"process", {{"name", process.name}, {"file", process.source}, {"model_card", process.model_card}, {"temp_C", process.temp_C}, {"vdd_V", process.vdd_V}}},
          {"chip", chip_from_file ? nlohmann::json(chip_path) : nlohmann::json(nullptr)},
          {"seed", chip.seed},
          {"mismatch", chip.convention},
          {"weights", weights_source},
          {"input_A", input_A}};
}

}  // namespace nnspice::tools

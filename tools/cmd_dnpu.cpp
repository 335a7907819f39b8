// nnspice dnpu: DNPU surrogate models (brains-py .pt or the plain format) — evaluate, inspect,
// convert, write the SPICE element, and run the seed experiments of docs/dnpu.md.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <filesystem>
#include <iostream>

#include "cli_util.hpp"
#include "commands.hpp"
#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/dnpu/surrogate.hpp"

namespace nnspice::tools {
namespace {

using dnpu::SurrogateModel;

SurrogateModel load_model(const po::variables_map& vm) {
  dnpu::SurrogateLoadOptions o;
  if (vm.count("prefix")) o.key_prefix = vm["prefix"].as<std::string>();
  return dnpu::load_surrogate(vm["model"].as<std::string>(), o);
}

void add_model_options(po::options_description& d) {
  d.add_options()("model,m", po::value<std::string>()->required(), "surrogate: brains-py .pt file, plain-format directory or its model.json, or a shipped model (dnpu/si-boron-2020)")
      ("prefix", po::value<std::string>(), "key prefix of the Linear stack to use when a file holds several");
}

/// Reads the electrode voltages: a CSV with one column per electrode (or more columns named v<k>_V).
Eigen::MatrixXd read_inputs(const std::string& path, std::size_t n_in) {
  const CsvTable t = read_csv(path);
  std::vector<std::size_t> cols;
  if (t.cols == n_in) {
    for (std::size_t k = 0; k < n_in; ++k) cols.push_back(k);
  } else if (!t.header.empty()) {
    for (std::size_t k = 0; k < n_in; ++k) {
      auto it = std::find(t.header.begin(), t.header.end(), fmt::format("v{}_V", k));
      if (it == t.header.end())
        throw InputError(fmt::format("{}: {} columns for {} electrodes, and no column named v{}_V", path, t.cols, n_in, k));
      cols.push_back(static_cast<std::size_t>(it - t.header.begin()));
    }
  } else {
    throw InputError(fmt::format("{}: {} columns but the surrogate has {} electrodes (one column per electrode voltage in V)", path, t.cols, n_in));
  }
  if (t.rows == 0) throw InputError(fmt::format("{}: no data rows", path));
  Eigen::MatrixXd v(static_cast<Eigen::Index>(n_in), static_cast<Eigen::Index>(t.rows));
  for (std::size_t r = 0; r < t.rows; ++r)
    for (std::size_t k = 0; k < n_in; ++k) {
      const double x = t.at(r, cols[k]);
      if (!std::isfinite(x)) throw InputError(fmt::format("{}: row {}, column {}: voltage {} is not finite", path, r + 1, cols[k] + 1, x));
      v(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(r)) = x;
    }
  return v;
}

int dnpu_eval(int argc, char** argv) {
  po::options_description d("Options");
  add_model_options(d);
  d.add_options()("inputs,i", po::value<std::string>()->required(), "CSV: header line, one column per electrode voltage in V (v0_V ... v6_V)")
      ("out,o", po::value<std::string>()->required(), "output CSV: the inputs and i_out_nA per row")
      ("grad", po::bool_switch(), "also write d i_out / d v_k (nA/V) per electrode")
      ("allow-out-of-range", po::bool_switch(), "evaluate inputs outside the model's voltage ranges (default: refuse)");
  po::variables_map vm;
  if (!parse_options(argc, argv, d, vm, "nnspice dnpu eval --model FILE --inputs CSV --out CSV",
                     "Evaluates the surrogate on every row of the input CSV; writes the output current in nA.")) return 0;
  const SurrogateModel m = load_model(vm);
  const std::string in_path = vm["inputs"].as<std::string>();
  const Eigen::MatrixXd v = read_inputs(in_path, m.n_inputs());
  if (!vm["allow-out-of-range"].as<bool>()) {
    auto bad = m.range_violations(v);
    if (!bad.empty())
      throw InputError(fmt::format("{}: inputs outside the model's voltage ranges (use --allow-out-of-range to evaluate anyway):\n  {}", in_path, fmt::join(bad, "\n  ")));
  }
  const bool grad = vm["grad"].as<bool>();
  dnpu::SurrogateModel::Tape tape;
  const Eigen::VectorXd y = m.forward(v, tape);
  Eigen::MatrixXd g;
  if (grad) g = m.backward(tape, Eigen::VectorXd::Ones(v.cols()));
  std::vector<std::string> header;
  for (std::size_t k = 0; k < m.n_inputs(); ++k) header.push_back(fmt::format("v{}_V", k));
  header.push_back("i_out_nA");
  if (grad)
    for (std::size_t k = 0; k < m.n_inputs(); ++k) header.push_back(fmt::format("di_dv{}_nA_per_V", k));
  std::vector<double> data;
  for (Eigen::Index r = 0; r < v.cols(); ++r) {
    for (Eigen::Index k = 0; k < v.rows(); ++k) data.push_back(v(k, r));
    data.push_back(y(r));
    if (grad)
      for (Eigen::Index k = 0; k < v.rows(); ++k) data.push_back(g(k, r));
  }
  write_csv(vm["out"].as<std::string>(), header, data, header.size());
  fmt::print("{} rows -> {}\n", v.cols(), vm["out"].as<std::string>());
  return 0;
}

void print_model(const SurrogateModel& m) {
  std::vector<std::string> shape{std::to_string(m.n_inputs())};
  for (const auto& W : m.weights) shape.push_back(std::to_string(W.rows()));
  fmt::print("source:         {}\n", m.source.dump());
  fmt::print("network:        {} ({}, {} activation, {} weights)\n", fmt::join(shape, "-"), dnpu::scalar_name(m.dtype), dnpu::activation_name(m.activation),
             [&] { std::size_t n = 0; for (std::size_t l = 0; l < m.n_layers(); ++l) n += static_cast<std::size_t>(m.weights[l].size() + m.biases[l].size()); return n; }());
  fmt::print("amplification:  {} (output current in nA = raw output x amplification)\n", m.amplification);
  fmt::print("clipping:       [{}, {}] nA\n", m.clip_min_nA, m.clip_max_nA);
  if (m.voltage_ranges_V.empty()) fmt::print("voltage ranges: unknown\n");
  for (std::size_t e = 0; e < m.voltage_ranges_V.size(); ++e)
    fmt::print("  e{}: [{}, {}] V\n", e, m.voltage_ranges_V[e][0], m.voltage_ranges_V[e][1]);
  for (const auto& n : m.notes) fmt::print("note: {}\n", n);
}

int dnpu_info(int argc, char** argv) {
  po::options_description d("Options");
  add_model_options(d);
  d.add_options()("json", po::bool_switch(), "print the file's info dict as JSON as well");
  po::variables_map vm;
  if (!parse_options(argc, argv, d, vm, "nnspice dnpu info --model FILE", "Prints what the loader found in a surrogate file.")) return 0;
  const SurrogateModel m = load_model(vm);
  print_model(m);
  if (vm["json"].as<bool>()) fmt::print("{}\n", m.info.dump(2));
  return 0;
}

int dnpu_convert(int argc, char** argv) {
  po::options_description d("Options");
  add_model_options(d);
  d.add_options()("out,o", po::value<std::string>()->required(), "a directory (plain format: model.json + NPY), or a .pt file (torch zip)")
      ("legacy", po::bool_switch(), "with a .pt output: write the legacy (pre-1.6) torch layout")
      ("dtype", po::value<std::string>()->default_value(""), "with a .pt output: float32 or float64 (default: as loaded)")
      ("noise-sd", po::value<double>(), "set the surrogate's output noise std in nA (test RMSE) in the written model");
  po::variables_map vm;
  if (!parse_options(argc, argv, d, vm, "nnspice dnpu convert --model FILE --out DIR|FILE.pt",
                     "Converts a surrogate between the brains-py .pt layouts and the plain format (docs/dnpu.md).")) return 0;
  SurrogateModel m = load_model(vm);
  if (vm.count("noise-sd")) {
    m.noise_sd_nA = vm["noise-sd"].as<double>();
    m.validate("--noise-sd");
  }
  const std::string out = vm["out"].as<std::string>();
  if (std::filesystem::path(out).extension() == ".pt") {
    const std::string dt = vm["dtype"].as<std::string>();
    dnpu::ScalarType t = m.dtype;
    if (dt == "float32") t = dnpu::ScalarType::float32;
    else if (dt == "float64") t = dnpu::ScalarType::float64;
    else if (!dt.empty()) throw InputError(fmt::format("--dtype = {}: expected float32 or float64", dt));
    dnpu::save_surrogate_torch(m, out, vm["legacy"].as<bool>(), t);
  } else {
    dnpu::save_surrogate_plain(m, out);
  }
  fmt::print("wrote {}\n", out);
  return 0;
}

struct Sub {
  const char* name;
  const char* summary;
  int (*run)(int, char**);
};

const Sub kSubs[] = {
    {"eval", "evaluate a surrogate on a CSV of electrode voltages -> output current (nA)", dnpu_eval},
    {"info", "show what the loader found in a surrogate file", dnpu_info},
    {"convert", "convert between brains-py .pt and the plain format", dnpu_convert},
};

}  // namespace

int cmd_dnpu(int argc, char** argv) {
  auto usage = [] {
    fmt::print("Usage: nnspice dnpu <subcommand> [options]   (nnspice dnpu <subcommand> --help)\n\nSubcommands:\n");
    for (const auto& s : kSubs) fmt::print("  {:<10}{}\n", s.name, s.summary);
  };
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage();
    return argc < 2 ? static_cast<int>(ExitCode::bad_input) : 0;
  }
  for (const auto& s : kSubs) {
    if (std::strcmp(argv[1], s.name) != 0) continue;
    std::string prog = std::string("nnspice dnpu ") + s.name;
    argv[1] = prog.data();
    return s.run(argc - 1, argv + 1);
  }
  throw InputError(fmt::format("unknown dnpu subcommand '{}' (see nnspice dnpu --help)", argv[1]));
}

}  // namespace nnspice::tools

// nnspice dnpu: DNPU surrogate models (brains-py .pt or the plain format) — evaluate, inspect,
// convert, write the SPICE element, and run the seed experiments of docs/dnpu.md.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli_util.hpp"
#include "commands.hpp"
#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/figure.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/store.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/common/progress.hpp"
#include "nnspice/dnpu/experiments.hpp"
#include "nnspice/dnpu/linear_dnpu.hpp"
#include "nnspice/train/mnist.hpp"
#include "nnspice/dnpu/spice.hpp"
#include "nnspice/dnpu/surrogate.hpp"
#include "nnspice/netlist/spice_text.hpp"

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
      ("prefix", po::value<std::string>(), "key prefix of the Linear stack to use when a file holds several: one of the prefixes the error message lists "
                                                "(a listed prefix selects exactly that stack), or a dotted part of one that only it contains");
}

/// Reads the electrode voltages: a CSV with a header naming the columns v0_V ... (any order, other columns
/// ignored, each v<k>_V exactly once), or without a header exactly one column per electrode, in order.
Eigen::MatrixXd read_inputs(const std::string& path, std::size_t n_in) {
  const CsvTable t = read_csv(path);
  std::vector<std::size_t> cols;
  if (!t.header.empty()) {
    for (std::size_t k = 0; k < n_in; ++k) {
      const std::string name = fmt::format("v{}_V", k);
      const auto n = std::count(t.header.begin(), t.header.end(), name);
      if (n != 1)
        throw InputError(fmt::format("{}: header '{}' {} column {} (the surrogate has {} electrodes: one column each, named v0_V ... v{}_V)", path,
                                     fmt::join(t.header, ","), n == 0 ? "has no" : "has more than one", name, n_in, n_in - 1));
      cols.push_back(static_cast<std::size_t>(std::find(t.header.begin(), t.header.end(), name) - t.header.begin()));
    }
  } else if (t.cols == n_in) {
    for (std::size_t k = 0; k < n_in; ++k) cols.push_back(k);
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
  // A NaN/Inf output is a failed row, never a result (issue 17, class 4).
  std::size_t bad_rows = 0, first_bad = 0;
  for (Eigen::Index r = 0; r < v.cols(); ++r)
    if (!std::isfinite(y(r)) || (grad && !g.col(r).allFinite())) {
      if (bad_rows++ == 0) first_bad = static_cast<std::size_t>(r);
    }
  if (bad_rows > 0)
    throw NumericalError(fmt::format("{}: {} of {} rows gave a NaN/Inf output (first: data row {}); nothing written", in_path, bad_rows, v.cols(),
                                     first_bad + 1));
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


nlohmann::json model_record(const SurrogateModel& m) {
  return {{"source", m.source}, {"amplification", m.amplification}, {"electrodes", m.n_inputs()}, {"layers", m.n_layers()}};
}

int dnpu_capacity(int argc, char** argv) {
  po::options_description d("Options");
  add_model_options(d);
  dnpu::CapacityOptions o;
  d.add_options()("out,o", po::value<std::string>()->required(), "output directory (summary.json, capacity.csv, capacity.png, run.json)")
      ("n-min", po::value<std::size_t>(&o.n_min)->default_value(o.n_min), "smallest number of points N")
      ("n-max", po::value<std::size_t>(&o.n_max)->default_value(o.n_max), "largest N (the paper: 10; 2^N labelings each)")
      ("epochs", po::value<std::size_t>(&o.epochs)->default_value(o.epochs), "Adam epochs per attempt (full batch)")
      ("lr", po::value<double>(&o.learning_rate)->default_value(o.learning_rate), "learning rate")
      ("attempts", po::value<std::size_t>(&o.attempts)->default_value(o.attempts), "random restarts per labeling")
      ("full-epochs", po::bool_switch(), "train every attempt for all epochs (default: stop once all points are right)")
      ("no-clamp", po::bool_switch(), "do not project the controls onto their ranges after each step (penalty only)")
      ("seed", seed_value(&o.seed)->default_value(o.seed), "random seed");
  po::variables_map vm;
  if (!parse_options(argc, argv, d, vm, "nnspice dnpu capacity --model FILE --out DIR",
                     "Capacity C_N (fraction of the 2^N labelings of the paper's points a single DNPU node can realise; data on e1, e2,\n"
                     "controls e0, e3-e6, batch norm + logistic decision, BCE, Adam) for N = n-min..n-max, and the VC-dimension bound.")) return 0;
  o.stop_when_found = !vm["full-epochs"].as<bool>();
  o.clamp_controls = !vm["no-clamp"].as<bool>();
  o.validate();
  const SurrogateModel m = load_model(vm);
  const std::string out = vm["out"].as<std::string>();
  make_dirs(out);
  std::size_t total = 0;
  for (std::size_t n = o.n_min; n <= o.n_max; ++n) total += std::size_t{1} << n;
  Progress prog("capacity labelings", total);
  // One N at a time, writing capacity.csv and summary.json after each, so a long run that is stopped keeps its results.
  std::vector<double> rows;
  nlohmann::json pts = nlohmann::json::array();
  std::size_t base = 0, vc = 0;
  bool all_found_so_far = true;
  const auto options_json = nlohmann::json{{"n_min", o.n_min}, {"n_max", o.n_max}, {"epochs", o.epochs}, {"learning_rate", o.learning_rate},
                                           {"betas", {o.beta1, o.beta2}}, {"attempts", o.attempts}, {"stop_when_found", o.stop_when_found},
                                           {"data_electrodes", o.data_electrodes}, {"penalty", o.penalty}, {"clamp_controls", o.clamp_controls}};
  write_run_json(out, {{"seed", o.seed}, {"config", {{"model", vm["model"].as<std::string>()}, {"options", options_json}}}});
  for (std::size_t n = o.n_min; n <= o.n_max; ++n) {
    dnpu::CapacityOptions on = o;
    on.n_min = on.n_max = n;
    const auto res = dnpu::run_capacity(m, on, [&](std::size_t done, std::size_t) { prog.update(base + done); });
    base += std::size_t{1} << n;
    const auto& p = res.points.front();
    if (p.capacity < 1) all_found_so_far = false;
    if (all_found_so_far) vc = n;
    rows.insert(rows.end(), {static_cast<double>(p.n), p.capacity, static_cast<double>(p.found), static_cast<double>(p.labelings), p.mean_attempts_found});
    pts.push_back({{"n", p.n}, {"capacity", p.capacity}, {"found", p.found}, {"labelings", p.labelings}, {"mean_attempts_found", p.mean_attempts_found}, {"missed_labelings", p.missed}});
    fmt::print("N = {:2}: capacity {:.4f} ({} / {} labelings, {:.2f} attempts on average)\n", p.n, p.capacity, p.found, p.labelings, p.mean_attempts_found);
    std::fflush(stdout);
    write_csv(out + "/capacity.csv", {"n", "capacity", "found", "labelings", "mean_attempts_found"}, rows, 5);
    write_json(out + "/summary.json", {{"experiment", "capacity"}, {"model", model_record(m)}, {"points", pts}, {"complete", n == o.n_max},
                                       {"vc_dimension_lower_bound", vc}, {"elapsed_s", prog.elapsed_s()}, {"options", options_json},
                                       {"paper", {{"vc_dimension_surrogate", ">= 6"}}}});
  }
  prog.finish();
  fmt::print("VC dimension >= {} (largest N with capacity 1 from N = {}; the paper: >= 6 on the surrogate)\n", vc, o.n_min);
  write_figure(out, "capacity",
               "set datafile separator ','\nset key off\n"
               "set xlabel 'number of points N'\nset ylabel 'capacity C_N'\nset yrange [0:1.05]\nset grid\n"
               "set title 'DNPU capacity (fraction of labelings realised)'\n"
               "plot '../capacity.csv' every ::1 using 1:2 with linespoints lw 2 pt 7",
               {}, {800, 500});
  return 0;
}

// restarts_<arch>.csv: restart, fisher_loss, accuracies, max_range_violation_V, then one column per control voltage.
void save_ring_restarts(const std::string& csv, const dnpu::RingResult& res) {
  const std::size_t nc = res.restarts.front().controls_V.size();
  std::vector<std::string> header{"restart", "fisher_loss", "train_accuracy_pct", "test_accuracy_pct", "max_range_violation_V"};
  for (std::size_t c = 0; c < nc; ++c) header.push_back(fmt::format("control_{}_V", c));
  std::vector<double> rows;
  for (std::size_t r = 0; r < res.restarts.size(); ++r) {
    const auto& x = res.restarts[r];
    rows.insert(rows.end(), {static_cast<double>(r), -x.train_fisher, x.train_accuracy * 100, x.test_accuracy * 100, x.max_range_violation_V});
    rows.insert(rows.end(), x.controls_V.begin(), x.controls_V.end());
  }
  write_csv(csv, header, rows, header.size());
}

// ring_<arch>_options.json: a store record (common/store.hpp) of the options and of the hash of the restarts
// CSV as last written, so an edited or damaged CSV is never resumed from.
const store::Kind kRingKind{"dnpu-ring-restarts", 1};

void save_ring_state(const std::string& state, const std::string& csv, const nlohmann::json& fingerprint) {
  store::write_json_record(state, kRingKind, store::Inputs().add("options", fingerprint).hash(),
                           {{"options", fingerprint}, {"csv", file_exists(csv) ? hex64(fnv1a64(read_file(csv))) : std::string("none")}});
}

/// The finished restarts of an earlier run with the same options (empty when there is none, or when the CSV or its
/// record is unusable: then every restart is computed again, with a notice).
dnpu::RingResult load_ring_restarts(const std::string& csv, const std::string& state, const nlohmann::json& fingerprint) {
  dnpu::RingResult res;
  if (!file_exists(csv)) return res;
  if (!file_exists(state))
    throw InputError(fmt::format("{} exists but {} does not: the directory holds another run's results; choose a new --out", csv, state));
  const auto rec = store::load_json_record(state, kRingKind, store::Inputs().add("options", fingerprint).hash());
  if (!rec && rec.reason.rfind("made from other inputs", 0) == 0)
    throw InputError(fmt::format("{}: the finished restarts were made with other options (now {}); choose a new --out", state, fingerprint.dump()));
  const std::string why = !rec ? rec.reason
                          : rec.value->value("csv", std::string()) != hex64(fnv1a64(read_file(csv))) ? csv + " was changed after it was written"
                                                                                                    : std::string();
  if (!why.empty()) {
    store::notice(state, why, "computing every restart again");
    return res;
  }
  const CsvTable t = read_csv(csv);
  if (t.cols < 6 || t.header.size() != t.cols || t.header[4] != "max_range_violation_V")
    throw InputError(fmt::format("{}: expected the columns restart, fisher_loss, train_accuracy_pct, test_accuracy_pct, max_range_violation_V, control_*_V", csv));
  for (std::size_t r = 0; r < t.rows; ++r) {
    if (t.at(r, 0) != static_cast<double>(r)) throw InputError(fmt::format("{}: row {} holds restart {} (expected {})", csv, r + 1, t.at(r, 0), r));
    dnpu::RingRestart x;
    x.train_fisher = -t.at(r, 1);
    x.train_accuracy = t.at(r, 2) / 100;
    x.test_accuracy = t.at(r, 3) / 100;
    x.max_range_violation_V = t.at(r, 4);
    for (std::size_t c = 5; c < t.cols; ++c) x.controls_V.push_back(t.at(r, c));
    for (std::size_t c = 0; c < t.cols; ++c)
      if (!std::isfinite(t.at(r, c))) {
        store::notice(csv, fmt::format("row {} column {} = {}", r + 1, t.header[c], t.at(r, c)), "computing every restart again");
        return {};
      }
    res.restarts.push_back(std::move(x));
  }
  return res;
}

/// Best restart by training Fisher value and by test accuracy, median, share of restarts with controls in range.
/// Covers the first o.restarts restarts (a CSV extended earlier may hold more), as an uninterrupted run of o.restarts would.
nlohmann::json ring_summary(dnpu::RingResult& res, const dnpu::RingOptions& o, double elapsed_s) {
  const std::size_t n = std::min(res.restarts.size(), o.restarts);
  res.best_by_fisher = res.best_by_test = 0;
  for (std::size_t r = 0; r < n; ++r) {
    if (res.restarts[r].train_fisher > res.restarts[res.best_by_fisher].train_fisher) res.best_by_fisher = r;
    if (res.restarts[r].test_accuracy > res.restarts[res.best_by_test].test_accuracy) res.best_by_test = r;
  }
  const auto& bf = res.restarts[res.best_by_fisher];
  const auto& bt = res.restarts[res.best_by_test];
  std::vector<double> accs;
  std::size_t in_range = 0;
  for (std::size_t r = 0; r < n; ++r) {
    accs.push_back(res.restarts[r].test_accuracy);
    in_range += res.restarts[r].max_range_violation_V <= 0;
  }
  std::sort(accs.begin(), accs.end());
  return {{"restarts", n}, {"restarts_requested", o.restarts}, {"optimizer", o.optimizer}, {"elapsed_s_this_run", elapsed_s},
          {"restarts_with_controls_in_range", in_range},
          {"best_by_fisher", {{"restart", res.best_by_fisher}, {"fisher_loss", -bf.train_fisher}, {"train_accuracy", bf.train_accuracy},
                              {"test_accuracy", bf.test_accuracy}, {"controls_V", bf.controls_V}, {"max_range_violation_V", bf.max_range_violation_V}}},
          {"best_by_test_accuracy", {{"restart", res.best_by_test}, {"fisher_loss", -bt.train_fisher}, {"test_accuracy", bt.test_accuracy}}},
          {"median_test_accuracy", accs[accs.size() / 2]}};
}

int dnpu_ring(int argc, char** argv) {
  po::options_description d("Options");
  add_model_options(d);
  dnpu::RingOptions o;
  d.add_options()("out,o", po::value<std::string>()->required(), "output directory (summary.json, restarts_<arch>.csv, ring_hist.png, run.json)")
      ("arch", po::value<std::string>()->default_value("both"), "single, 2-2-1, or both")
      ("restarts", po::value<std::size_t>(&o.restarts)->default_value(o.restarts), "random restarts per architecture (the paper: 1000)")
      ("points", po::value<std::size_t>(&o.n_points)->default_value(o.n_points), "points (half train, half test)")
      ("gap", po::value<double>(&o.gap_V)->default_value(o.gap_V), "gap between the classes in V on the data electrodes")
      ("epochs", po::value<std::size_t>(&o.epochs)->default_value(o.epochs), "Adam epochs (full batch)")
      ("lr", po::value<double>(&o.learning_rate)->default_value(o.learning_rate), "learning rate")
      ("noise-var", po::value<double>(&o.noise_var_nA2)->default_value(o.noise_var_nA2), "output noise variance during training, nA^2")
      ("optimizer", po::value<std::string>(&o.optimizer)->default_value(o.optimizer), "adam, or ga (genetic algorithm; single node only)")
      ("generations", po::value<std::size_t>(&o.ga_generations)->default_value(o.ga_generations), "GA generations")
      ("no-clamp", po::bool_switch(), "do not project the controls onto their ranges after each step (penalty only)")
      ("resume", po::bool_switch(), "continue the stopped run in --out (or extend it with a larger --restarts)")
      ("seed", seed_value(&o.seed)->default_value(o.seed), "random seed");
  po::variables_map vm;
  if (!parse_options(argc, argv, d, vm, "nnspice dnpu ring --model FILE --out DIR",
                     "Concentric-ring classification: a single DNPU vs a 2-2-1 DNPU network (negative Fisher loss with output noise,\n"
                     "then a logistic readout), many random restarts; reports the best restart and histograms.\n"
                     "Restarts are saved every 8; the same command with --resume continues a stopped run (or extends it with a larger --restarts).")) return 0;
  o.clamp_controls = !vm["no-clamp"].as<bool>();
  const std::string arch = vm["arch"].as<std::string>();
  if (arch != "single" && arch != "2-2-1" && arch != "both") throw InputError(fmt::format("--arch = {}: expected single, 2-2-1 or both", arch));
  const SurrogateModel m = load_model(vm);
  const std::string out = vm["out"].as<std::string>();
  make_dirs(out);
  nlohmann::json results = nlohmann::json::object();
  std::vector<std::string> archs = arch == "both" ? std::vector<std::string>{"single", "2-2-1"} : std::vector<std::string>{arch};
  std::string plots;
  for (const auto& a : archs) {
    dnpu::RingOptions oa = o;
    oa.architecture = a;
    if (a != "single") oa.optimizer = "adam";
    // Restarts in chunks; the CSV (with every restart's controls) and summary.json are rewritten after each chunk.
    // Restart r draws from its own RNG stream, so a run resumed from the CSV gives the restarts an uninterrupted run gives.
    const std::string csv = out + "/restarts_" + a + ".csv", state = out + "/ring_" + a + "_options.json";
    nlohmann::json fingerprint = {{"model", m.source}, {"points", oa.n_points}, {"gap_V", oa.gap_V}, {"epochs", oa.epochs},
                                  {"learning_rate", oa.learning_rate}, {"noise_var_nA2", oa.noise_var_nA2}, {"penalty", oa.penalty},
                                  {"clamp_controls", oa.clamp_controls}, {"optimizer", oa.optimizer}, {"seed", oa.seed}};
    if (oa.optimizer == "ga") fingerprint["generations"] = oa.ga_generations;
    if (file_exists(csv) && !vm["resume"].as<bool>())
      throw InputError(fmt::format("{} exists: add --resume to continue that run, or choose a new --out", csv));
    dnpu::RingResult res = load_ring_restarts(csv, state, fingerprint);
    save_ring_state(state, csv, fingerprint);
    if (!res.restarts.empty()) fmt::print("{}: resuming after {} finished restarts\n", csv, res.restarts.size());
    Progress prog(fmt::format("ring {} restarts", a), oa.restarts);
    prog.start_from(std::min(res.restarts.size(), oa.restarts));
    const std::size_t chunk = 8;
    for (std::size_t first = res.restarts.size(); first < oa.restarts; first += chunk) {
      dnpu::RingOptions oc = oa;
      oc.first_restart = first;
      oc.restarts = std::min(chunk, oa.restarts - first);
      auto part = dnpu::run_ring(m, oc, [&](std::size_t done, std::size_t) { prog.update(first + done); });
      res.data_unit_V = part.data_unit_V;
      for (auto& r : part.restarts) res.restarts.push_back(std::move(r));
      save_ring_restarts(csv, res);
      save_ring_state(state, csv, fingerprint);
      results[a] = ring_summary(res, oa, prog.elapsed_s());
      results["data_unit_V"] = res.data_unit_V;
      write_json(out + "/summary.json", {{"experiment", "ring"}, {"model", model_record(m)}, {"results", results},
                                         {"options", {{"points", o.n_points}, {"gap_V", o.gap_V}, {"epochs", o.epochs}, {"learning_rate", o.learning_rate},
                                                      {"noise_var_nA2", o.noise_var_nA2}, {"penalty", o.penalty}, {"clamp_controls", o.clamp_controls},
                                                      {"restarts", o.restarts}}}});
    }
    prog.finish();
    if (res.restarts.empty()) throw InputError(fmt::format("{}: no restarts (--restarts = {})", csv, oa.restarts));
    if (res.data_unit_V == 0) res.data_unit_V = dnpu::ring_data_unit_V(m);  // every restart came from the CSV
    results[a] = ring_summary(res, oa, prog.elapsed_s());
    const auto& bf = res.restarts[res.best_by_fisher];
    const auto& bt = res.restarts[res.best_by_test];
    if (res.restarts.size() > oa.restarts)
      fmt::print("{}: holds {} restarts; the summary covers the first {} (--restarts)\n", csv, res.restarts.size(), oa.restarts);
    fmt::print("{}: {} restarts; best Fisher loss {:.3f} -> test accuracy {:.2f} % (train {:.2f} %); best test accuracy {:.2f} %; median {:.2f} %\n", a,
               std::min(res.restarts.size(), oa.restarts), -bf.train_fisher, 100 * bf.test_accuracy, 100 * bf.train_accuracy, 100 * bt.test_accuracy,
               100 * results[a]["median_test_accuracy"].get<double>());
    plots += fmt::format("{}'../restarts_{}.csv' every ::1 using (bin($4)):(1) smooth freq with boxes title '{}'", plots.empty() ? "" : ", ", a, a);
    results["data_unit_V"] = res.data_unit_V;
  }
  results["paper"] = {{"single", {{"fisher_loss", -1.16}, {"test_accuracy", 0.8495}}}, {"2-2-1", {{"fisher_loss", -5.23}, {"test_accuracy", 0.9462}}}};
  write_json(out + "/summary.json", {{"experiment", "ring"}, {"model", model_record(m)}, {"results", results},
                                     {"options", {{"points", o.n_points}, {"gap_V", o.gap_V}, {"epochs", o.epochs}, {"learning_rate", o.learning_rate},
                                                  {"noise_var_nA2", o.noise_var_nA2}, {"penalty", o.penalty}, {"clamp_controls", o.clamp_controls},
                                                  {"restarts", o.restarts}}}});
  write_run_json(out, {{"seed", o.seed}, {"config", {{"model", vm["model"].as<std::string>()}, {"arch", arch}}}});
  write_figure(out, "ring_hist",
               "set datafile separator ','\n"
               "binwidth = 2\nbin(x) = binwidth * floor(x / binwidth) + binwidth / 2.0\nset boxwidth binwidth\nset style fill transparent solid 0.5\n"
               "set xlabel 'test accuracy (%)'\nset ylabel 'restarts'\nset title 'Ring task: test accuracy over random restarts'\nset grid\n"
               "plot " + plots,
               {}, {800, 500});
  return 0;
}

/// Parses "e0=0.1,e3=-0.2" into per-electrode voltages (others keep their defaults).
void parse_controls(const std::string& text, std::vector<double>& v, const SurrogateModel& m) {
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    const auto eq = item.find('=');
    int e = -1;
    double x = 0;
    try {
      if (eq == std::string::npos || item[0] != 'e') throw std::invalid_argument("format");
      std::size_t used = 0;
      e = std::stoi(item.substr(1, eq - 1), &used);
      if (used != eq - 1) throw std::invalid_argument("format");
      x = std::stod(item.substr(eq + 1), &used);
      if (used != item.size() - eq - 1) throw std::invalid_argument("format");
    } catch (const std::exception&) {
      throw InputError(fmt::format("--controls: '{}' is not e<k>=<volts>", item));
    }
    if (e < 0 || static_cast<std::size_t>(e) >= m.n_inputs()) throw InputError(fmt::format("--controls: electrode e{} does not exist", e));
    if (!m.voltage_ranges_V.empty() && (x < m.voltage_ranges_V[e][0] || x > m.voltage_ranges_V[e][1]))
      throw InputError(fmt::format("--controls: e{} = {} V is outside its range [{}, {}]", e, x, m.voltage_ranges_V[e][0], m.voltage_ranges_V[e][1]));
    v[static_cast<std::size_t>(e)] = x;
  }
}

int dnpu_spice(int argc, char** argv) {
  po::options_description d("Options");
  add_model_options(d);
  d.add_options()("out,o", po::value<std::string>()->required(), "subcircuit file to write (.subckt <name> e0 ... e6 out)")
      ("name", po::value<std::string>()->default_value(""), "subcircuit name (default: dnpu_<model name>)")
      ("demo", po::value<std::string>(), "also write a demo netlist: the DNPU output current into a current-mode soma (M0 diode + M1 mirror)")
      ("controls", po::value<std::string>()->default_value(""), "demo: fixed electrode voltages 'e0=0.1,e3=-0.2' (default: mid-range)")
      ("sweep", po::value<int>()->default_value(1), "demo: electrode swept over its range by .dc")
      ("card", po::value<std::string>()->default_value("models/mosis-tsmc018-t58f-bsim3v33.lib"), "demo: MOSFET model card (model nfet)");
  po::variables_map vm;
  if (!parse_options(argc, argv, d, vm, "nnspice dnpu spice --model FILE --out x.cir [--demo demo.cir]",
                     "Writes the DNPU as an ngspice subcircuit of B-sources evaluating the surrogate (7 voltage terminals -> output current).")) return 0;
  const SurrogateModel m = load_model(vm);
  dnpu::SpiceElementOptions o;
  o.subckt_name = vm["name"].as<std::string>();
  if (!vm["name"].defaulted()) netlist::spice_text::require_name("--name", o.subckt_name);
  if (o.subckt_name.empty()) o.subckt_name = dnpu::spice_name("dnpu_" + std::filesystem::path(vm["model"].as<std::string>()).stem().string());
  const std::string out = vm["out"].as<std::string>();
  write_file_atomic(out, dnpu::dnpu_subcircuit(m, o));
  fmt::print("wrote {} (subcircuit {})\n", out, o.subckt_name);
  if (!vm.count("demo")) return 0;
  if (m.voltage_ranges_V.empty()) throw InputError("--demo needs the model's voltage ranges");
  std::vector<double> v(m.n_inputs());
  for (std::size_t e = 0; e < v.size(); ++e) v[e] = 0.5 * (m.voltage_ranges_V[e][0] + m.voltage_ranges_V[e][1]);
  parse_controls(vm["controls"].as<std::string>(), v, m);
  const int sw = vm["sweep"].as<int>();
  if (sw < 0 || static_cast<std::size_t>(sw) >= m.n_inputs()) throw InputError(fmt::format("--sweep = {}: no such electrode", sw));
  const std::string card = resolve_data_path(vm["card"].as<std::string>());
  if (!file_exists(card)) throw InputError(fmt::format("--card: cannot read {}", card));
  const std::string demo = vm["demo"].as<std::string>();
  const auto demo_dir = std::filesystem::absolute(demo).parent_path();
  const std::string sub_path = std::filesystem::absolute(out).string();
  // The demo's .include lines quote with '...': the paths must be one line without a quote character.
  for (const auto& [opt, path] : {std::pair<const char*, std::string>{"--out", sub_path}, {"--card", std::filesystem::absolute(card).string()}}) {
    netlist::spice_text::require(opt, path, netlist::spice_text::why_not_path(path));
    if (path.find('\'') != std::string::npos) netlist::spice_text::require(opt, path, "contains a quote character (would end the .include file name)");
  }
  std::string n;
  n += "* nnspice dnpu spice --demo: a DNPU's output current feeds a current-mode soma (docs/circuits.md section 2).\n";
  n += "* M0: diode-connected nFET (W 2.7 um, L 0.45 um) rectifies the input current; M1 mirrors it 1:1 (ReLU of I_dnpu).\n";
  n += fmt::format(".include '{}'\n.include '{}'\n", sub_path, std::filesystem::absolute(card).string());
  n += "VDD vdd 0 dc 1.8\n";
  for (std::size_t e = 0; e < v.size(); ++e) n += fmt::format("VE{} e{} 0 dc {:.6e}\n", e, e, v[e]);
  n += "XDNPU";
  for (std::size_t e = 0; e < v.size(); ++e) n += fmt::format(" e{}", e);
  n += fmt::format(" dout {}\n", o.subckt_name);
  n += "* probe: the DNPU current into the soma input node\nVIN dout iin dc 0\n";
  n += "M0 iin iin 0 0 nfet W=2.7e-06 L=4.5e-07\nM1 mir iin 0 0 nfet W=2.7e-06 L=4.5e-07\n* probe: the mirrored (rectified) current\nVMIR vdd mir dc 0\n";
  const auto& r = m.voltage_ranges_V[static_cast<std::size_t>(sw)];
  // Analysis and output as plain cards, never a .control block (issue 17: nothing nnspice writes runs .control code
  // under `ngspice -b`): the sweep's table goes to stdout (Index, VE sweep, I_dnpu, V(iin), I_mirror).
  n += fmt::format(".dc VE{} {:.6e} {:.6e} {:.6e}\n.print dc i(vin) v(iin) i(vmir)\n.end\n", sw, r[0], r[1], (r[1] - r[0]) / 60);
  write_file_atomic(demo, n);
  fmt::print("wrote {} (run: cd {} && ngspice -b {})\n", demo, demo_dir.string(), std::filesystem::path(demo).filename().string());
  return 0;
}

int dnpu_mnist(int argc, char** argv) {
  po::options_description d("Options");
  add_model_options(d);
  dnpu::LinearDnpuOptions o;
  d.add_options()("out,o", po::value<std::string>()->required(), "output directory (summary.json, history.csv, mnist_accuracy.png, run.json)")
      ("mnist", po::value<std::string>()->default_value("/usr/local/share/nnspice/mnist"), "directory with the four MNIST IDX files")
      ("field", po::value<std::size_t>(&o.field)->default_value(o.field), "receptive field: 3 (784->30, data on e0, e3, e4) or 7 (784->70, all electrodes)")
      ("epochs", po::value<std::size_t>(&o.epochs)->default_value(o.epochs), "epochs (the paper: 80)")
      ("batch", po::value<std::size_t>(&o.batch)->default_value(o.batch), "minibatch size")
      ("lr", po::value<double>(&o.learning_rate)->default_value(o.learning_rate), "Adam learning rate (the paper: 2e-5 DNPU, 3e-4 baseline)")
      ("weight-decay", po::value<double>(&o.weight_decay)->default_value(o.weight_decay), "L2 weight decay of the linear layer")
      ("logit-scale", po::value<double>(&o.logit_scale)->default_value(o.logit_scale), "logit = output current (nA) x this")
      ("baseline", po::bool_switch(&o.baseline), "the NN baseline (ReLU units + biases, one linear output per field) instead of DNPUs")
      ("train-limit", count_value()->default_value(55000), "use the first N of the 55,000 training images (quick runs)")
      ("no-clamp", po::bool_switch(), "do not project the control voltages onto their ranges after each step (penalty only)")
      ("resume", po::bool_switch(), "continue the stopped run in --out from its checkpoint.bin (or extend it with more --epochs)")
      ("seed", seed_value(&o.seed)->default_value(o.seed), "random seed");
  po::variables_map vm;
  if (!parse_options(argc, argv, d, vm, "nnspice dnpu mnist --model FILE --out DIR",
                     "Single-layer MNIST of the seed paper: linear 784 -> 10*field, then 10 DNPU nodes (one per class), cross entropy.\n"
                     "Pixels in [-0.5, 0.5]; 55k train / 5k validation (the last 5k training images) / 10k test.\n"
                     "OUT/checkpoint.bin is written after every epoch; the same command with --resume continues a stopped run\n"
                     "(or extends it with more --epochs).")) return 0;
  o.clamp_controls = !vm["no-clamp"].as<bool>();
  o.validate();
  const bool resume = vm["resume"].as<bool>();
  if (file_exists(vm["out"].as<std::string>() + "/checkpoint.bin") && !resume)
    throw InputError(fmt::format("{}/checkpoint.bin exists: add --resume to continue that run, or choose a new --out", vm["out"].as<std::string>()));
  const SurrogateModel m = load_model(vm);
  const std::string dir = vm["mnist"].as<std::string>(), out = vm["out"].as<std::string>();
  const auto train_set = train::read_idx_split(dir, false);
  const auto test_set = train::read_idx_split(dir, true);
  if (train_set.n < 6000) throw InputError(fmt::format("{}: {} training images; need at least 6000 (5000 are validation)", dir, train_set.n));
  const std::size_t n_val = 5000, n_train = std::min(vm["train-limit"].as<std::size_t>(), train_set.n - n_val);
  if (n_train < vm["train-limit"].as<std::size_t>())
    fmt::print(stderr, "note: --train-limit {}: {} holds {} training images, 5000 of them for validation; training on {}\n",
               vm["train-limit"].as<std::size_t>(), dir, train_set.n, n_train);
  const std::size_t px = train_set.rows * train_set.cols;
  auto to_matrix = [&](const train::ImageSet& s, std::size_t first, std::size_t n, std::vector<int>& labels) {
    Eigen::MatrixXd x(static_cast<Eigen::Index>(px), static_cast<Eigen::Index>(n));
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t p = 0; p < px; ++p) x(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(i)) = s.pixels[(first + i) * px + p] / 255.0 - 0.5;
    labels.assign(s.labels.begin() + static_cast<std::ptrdiff_t>(first), s.labels.begin() + static_cast<std::ptrdiff_t>(first + n));
    return x;
  };
  std::vector<int> ytr, yval, yte;
  const Eigen::MatrixXd xtr = to_matrix(train_set, 0, n_train, ytr);
  const Eigen::MatrixXd xval = to_matrix(train_set, train_set.n - n_val, n_val, yval);
  const Eigen::MatrixXd xte = to_matrix(test_set, 0, test_set.n, yte);
  make_dirs(out);
  // a resumed run keeps the run.json of the run it continues (the checkpoint refuses other settings)
  if (!(resume && file_exists(out + "/checkpoint.bin")))
    write_run_json(out, {{"seed", o.seed}, {"config", {{"model", vm["model"].as<std::string>()}, {"field", o.field}, {"baseline", o.baseline},
                                                     {"epochs", o.epochs}, {"batch", o.batch}, {"learning_rate", o.learning_rate},
                                                     {"weight_decay", o.weight_decay}, {"logit_scale", o.logit_scale}, {"clamp_controls", o.clamp_controls},
                                                     {"train_images", n_train}}}});
  o.checkpoint = out + "/checkpoint.bin";
  const std::size_t nb_epoch = (n_train + o.batch - 1) / o.batch;
  Progress prog(o.baseline ? "mnist baseline batches" : "mnist dnpu batches", o.epochs * nb_epoch);
  const auto on_epoch = [&](std::size_t ep, const dnpu::EpochRecord& r, bool resumed) {
    if (resumed) prog.start_from(ep * nb_epoch);
    fmt::print("epoch {:3}{}: loss {:.4f}, train {:.2f} %, validation {:.2f} %\n", ep, resumed ? " (from checkpoint)" : "", r.loss,
               100 * r.train_accuracy, 100 * r.val_accuracy);
    std::fflush(stdout);
  };
  const auto res = dnpu::train_linear_dnpu(m, xtr, ytr, xval, yval, xte, yte, o,
                                           [&](std::size_t ep, std::size_t b, std::size_t nb) { prog.update(ep * nb + b); }, on_epoch);
  prog.finish();
  std::vector<double> rows;
  nlohmann::json hist = nlohmann::json::array();
  for (std::size_t e = 0; e < res.history.size(); ++e) {
    const auto& h = res.history[e];
    rows.insert(rows.end(), {static_cast<double>(e + 1), h.loss, 100 * h.train_accuracy, 100 * h.val_accuracy});
    hist.push_back({{"epoch", e + 1}, {"loss", h.loss}, {"train_accuracy", h.train_accuracy}, {"val_accuracy", h.val_accuracy}});
  }
  write_csv(out + "/history.csv", {"epoch", "loss", "train_accuracy_pct", "val_accuracy_pct"}, rows, 4);
  write_json(out + "/summary.json", {{"experiment", "mnist"}, {"variant", o.baseline ? "nn-baseline" : "dnpu"}, {"model", model_record(m)},
                                     {"field", o.field}, {"train_images", n_train}, {"test_accuracy", res.test_accuracy}, {"best_val_accuracy", res.best_val_accuracy},
                                     {"best_epoch", res.best_epoch}, {"linear_out_abs_p99_V", res.linear_out_abs_p99_V}, {"history", hist},
                                     {"elapsed_s", prog.elapsed_s()},
                                     {"options", {{"epochs", o.epochs}, {"batch", o.batch}, {"learning_rate", o.learning_rate}, {"weight_decay", o.weight_decay}, {"logit_scale", o.logit_scale}}},
                                     {"paper", {{"dnpu_field3", 0.947}, {"dnpu_field7", 0.961}, {"nn_field3", 0.945}, {"nn_field7", 0.960}}}});
  write_figure(out, "mnist_accuracy",
               "set datafile separator ','\nset xlabel 'epoch'\n"
               "set ylabel 'accuracy (%)'\nset grid\nset key bottom right\n"
               "plot '../history.csv' every ::1 using 1:3 with linespoints title 'train', '' every ::1 using 1:4 with linespoints title 'validation'",
               {}, {800, 500});
  fmt::print("{} field {}: test accuracy {:.2f} % (best validation {:.2f} % at epoch {}); |linear outputs| 99th percentile {:.3f} V\n",
             o.baseline ? "NN baseline" : "10 DNPUs", o.field, 100 * res.test_accuracy, 100 * res.best_val_accuracy, res.best_epoch, res.linear_out_abs_p99_V);
  return 0;
}

const Subcommand kSubs[] = {
    {"eval", "evaluate a surrogate on a CSV of electrode voltages -> output current (nA)", dnpu_eval},
    {"info", "show what the loader found in a surrogate file", dnpu_info},
    {"convert", "convert between brains-py .pt and the plain format", dnpu_convert},
    {"spice", "write the DNPU as an ngspice subcircuit (B-sources) and a demo netlist with a soma", dnpu_spice},
    {"capacity", "capacity / VC dimension of one DNPU node (seed experiment 1)", dnpu_capacity},
    {"mnist", "single-layer MNIST: linear 784 -> 10*field + 10 DNPUs, or the NN baseline (seed experiment 3)", dnpu_mnist},
    {"ring", "concentric-ring task: single DNPU vs 2-2-1 network (seed experiment 2)", dnpu_ring},
};

}  // namespace

int cmd_dnpu(int argc, char** argv) { return run_subcommand("dnpu", kSubs, argc, argv); }

}  // namespace nnspice::tools

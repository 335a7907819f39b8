// nnspice simulate: operating point(s) or a transient of a netlist in-process (libngspice).
// Input currents come from the command line or a file with one row per sample (one OP per row,
// spread over worker processes); probe currents are written as NPY + CSV with summary.json.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>

#include "cli_util.hpp"
#include "commands.hpp"
#include "net_inputs.hpp"
#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/progress.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/netlist/spice_text.hpp"
#include "nnspice/sim/parallel.hpp"
#include "nnspice/sim/session.hpp"

namespace nnspice::tools {
namespace {

struct Probe {
  std::string name;   // "vx2_5#branch"
  int layer = -1, index = -1;
};

// Lists the soma probes (VX<l>_<i>) and input sources (IIN<i>) of an nnspice netlist.
void scan_netlist(const std::string& text, std::vector<Probe>& probes, std::vector<Probe>& readouts, std::size_t& n_inputs) {
  static const std::regex probe_re(R"(^VX(\d+)_(\d+) )"), input_re(R"(^IIN(\d+) )"), out_re(R"(^VO(\d+) )");
  std::istringstream in(text);
  std::string line;
  n_inputs = 0;
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.empty() || (line[0] != 'V' && line[0] != 'I')) continue;
    if (std::regex_search(line, m, probe_re)) {
      probes.push_back({fmt::format("vx{}_{}#branch", m[1].str(), m[2].str()), std::stoi(m[1]), std::stoi(m[2])});
    } else if (std::regex_search(line, m, out_re)) {
      readouts.push_back({fmt::format("vo{}#branch", m[1].str()), 0, std::stoi(m[1])});
    } else if (std::regex_search(line, m, input_re)) {
      n_inputs = std::max(n_inputs, static_cast<std::size_t>(std::stoul(m[1]) + 1));
    }
  }
  std::sort(probes.begin(), probes.end(), [](const Probe& a, const Probe& b) { return std::tie(a.layer, a.index) < std::tie(b.layer, b.index); });
  std::sort(readouts.begin(), readouts.end(), [](const Probe& a, const Probe& b) { return a.index < b.index; });
}

std::vector<std::vector<double>> load_input_rows(const std::string& path, std::size_t n_inputs) {
  std::vector<std::vector<double>> rows;
  std::vector<double> data;
  std::size_t r = 0, c = 0;
  if (std::filesystem::path(path).extension() == ".npy") {
    NpyArray a = read_npy(path);
    if (a.shape.size() == 1) a.shape = {1, a.shape[0]};
    if (a.shape.size() != 2) throw InputError(fmt::format("{}: input currents must be a 2-D array (samples, inputs)", path));
    r = a.shape[0];
    c = a.shape[1];
    data = std::move(a.data);
  } else {
    CsvTable t = read_csv(path);
    r = t.rows;
    c = t.cols;
    data = std::move(t.data);
  }
  if (c != n_inputs) throw InputError(fmt::format("{}: {} columns, but the netlist has {} input sources (IIN0..IIN{})", path, c, n_inputs, n_inputs - 1));
  for (std::size_t i = 0; i < r; ++i) {
    rows.emplace_back(data.begin() + i * c, data.begin() + (i + 1) * c);
    for (std::size_t k = 0; k < c; ++k)
      if (!(rows.back()[k] >= 0 && rows.back()[k] <= 1e-3))
        throw InputError(fmt::format("{}: row {}, column {}: current {} A is outside 0..1e-3 A", path, i, k, rows.back()[k]));
  }
  return rows;
}

std::vector<std::pair<std::string, std::string>> parse_kv_options(const std::vector<std::string>& items) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : items) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) throw InputError(fmt::format("--option '{}': expected key=value, e.g. itl1=1000", s));
    out.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    netlist::spice_text::require_option("--option", out.back().first, out.back().second);
  }
  return out;
}

}  // namespace

int cmd_simulate(int argc, char** argv) {
  po::options_description o("Options");
  o.add_options()
    ("netlist,n", po::value<std::string>()->required(), "netlist file (.cir) written by `nnspice netlist` (or any ngspice netlist)")
    ("analysis,a", po::value<std::string>()->default_value("op"), "op | tran")
    ("inputs", po::value<std::string>(), "input currents in A for IIN0..: one value for all or a comma list")
    ("inputs-file", po::value<std::string>(), "CSV/NPY of input currents, one row per sample (one operating point per row)")
    ("tstop", po::value<double>()->default_value(15e-6), "transient: stop time in s")
    ("tstep", po::value<double>()->default_value(20e-9), "transient: output step in s")
    ("tmax", po::value<double>()->default_value(20e-9), "transient: maximum time step in s")
    ("option", po::value<std::vector<std::string>>()->composing(), "simulator option key=value (repeatable), e.g. --option itl1=1000")
    ("jobs,j", jobs_value()->default_value(1), "worker processes for --inputs-file (1..max(4 x cores, 256))")
    ("out,o", po::value<std::string>()->required(), "output directory");
  po::variables_map vm;
  if (!parse_options(argc, argv, o, vm, "nnspice simulate --netlist FILE [--analysis op|tran] [--inputs I | --inputs-file F] --out DIR",
                     "Simulates a netlist in-process with libngspice. Writes probe currents (the input current of every soma,\n"
                     "VX<l>_<i>, in A) as currents.npy + currents.csv (one row per sample; transients: one row per time point),\n"
                     "summary.json (output currents, predicted class = argmax of the last layer, Newton iterations) and run.json."))
    return 0;
  const std::string analysis = vm["analysis"].as<std::string>();
  if (analysis != "op" && analysis != "tran") throw InputError(fmt::format("--analysis '{}': expected op or tran", analysis));
  const double tstop = vm["tstop"].as<double>(), tstep = vm["tstep"].as<double>(), tmax = vm["tmax"].as<double>();
  if (analysis == "tran") {
    if (!(tstop > 0 && tstep > 0 && tstep <= tstop && tmax >= 0 && std::isfinite(tstop)))
      throw InputError(fmt::format("transient times: need 0 < tstep ({}) <= tstop ({}) and tmax ({}) >= 0", tstep, tstop, tmax));
    sim::check_transient_size(tstep, tstop, tmax, "--tstep", "--tstop", "--tmax");  // before any work
  }
  const std::string net_path = vm["netlist"].as<std::string>();
  const std::string text = read_file(net_path);
  std::vector<Probe> probes, readouts;
  std::size_t n_inputs = 0;
  scan_netlist(text, probes, readouts, n_inputs);
  if (vm.count("inputs") && vm.count("inputs-file")) throw InputError("give either --inputs or --inputs-file, not both");

  std::vector<std::vector<double>> samples;  // empty row = netlist's own input values
  if (vm.count("inputs")) {
    auto v = parse_current_list(vm["inputs"].as<std::string>(), "inputs");
    if (v.size() == 1) v.assign(n_inputs, v[0]);
    if (v.size() != n_inputs) throw InputError(fmt::format("--inputs: {} currents given, the netlist has {} input sources", v.size(), n_inputs));
    samples.push_back(v);
  } else if (vm.count("inputs-file")) {
    if (analysis != "op") throw InputError("--inputs-file is for --analysis op (one operating point per row)");
    samples = load_input_rows(vm["inputs-file"].as<std::string>(), n_inputs);
  } else {
    samples.emplace_back();
  }
  sim::SessionOptions so;
  if (vm.count("option")) so.options = parse_kv_options(vm["option"].as<std::vector<std::string>>());
  const std::string out = vm["out"].as<std::string>();
  make_dirs(out);

  std::vector<std::string> lines;
  {
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) lines.push_back(l);
  }
  auto job = [&](sim::Session& s, std::size_t k) -> sim::JobData {
    s.load(lines);
    for (std::size_t i = 0; i < samples[k].size(); ++i) s.alter(fmt::format("IIN{}", i), samples[k][i]);
    sim::JobData d;
    const sim::Vectors* v = nullptr;
    sim::OpResult opr;
    sim::TranResult tr;
    if (analysis == "op") {
      opr = s.op();
      v = &opr.vectors;
      d["newton_iterations"] = {static_cast<double>(opr.stats.newton_iterations)};
    } else {
      tr = s.tran(tstep, tstop, tmax);
      v = &tr.vectors;
      d["newton_iterations"] = {static_cast<double>(tr.stats.newton_iterations)};
      d["time"] = v->at("time");
      if (v->has("vdd#branch")) d["vdd#branch"] = v->at("vdd#branch");
    }
    for (const auto& p : probes) d[p.name] = v->at(p.name);
    for (const auto& p : readouts) d[p.name] = v->at(p.name);
    return d;
  };

  sim::ParallelOptions popt;
  popt.workers = samples.size() > 1 ? vm["jobs"].as<int>() : 1;
  popt.session = so;
  Progress progress("simulate", samples.size(), samples.size() > 1);
  popt.on_progress = [&](std::size_t done, std::size_t) { progress.update(done); };
  const auto t0 = std::chrono::steady_clock::now();
  const auto results = sim::run_parallel(samples.size(), job, popt);
  progress.finish();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::vector<std::string> header;
  for (const auto& p : probes) header.push_back(p.name.substr(0, p.name.find('#')));
  for (const auto& p : readouts) header.push_back(p.name.substr(0, p.name.find('#')));
  nlohmann::json summary = {{"netlist", net_path}, {"analysis", analysis}, {"samples", samples.size()}, {"wall_s", wall}};
  int failed = 0;
  long iters = 0;
  const int out_layer = probes.empty() ? -1 : probes.back().layer;
  nlohmann::json per_sample = nlohmann::json::array();
  std::vector<double> table;
  std::size_t rows = 0;
  for (std::size_t k = 0; k < results.size(); ++k) {
    const auto& r = results[k];
    if (!r.ok) {
      ++failed;
      per_sample.push_back({{"sample", k}, {"ok", false}, {"error", r.error}});
      fmt::print(stderr, "sample {}: simulation failed: {}\n", k, r.error);
      if (analysis == "op") {
        table.insert(table.end(), header.size(), std::nan(""));
        ++rows;
      }
      continue;
    }
    iters += static_cast<long>(r.data.at("newton_iterations")[0]);
    if (analysis == "op") {
      std::vector<double> outs;
      for (const auto& p : probes) {
        table.push_back(r.data.at(p.name)[0]);
        if (p.layer == out_layer) outs.push_back(r.data.at(p.name)[0]);
      }
      for (const auto& p : readouts) table.push_back(r.data.at(p.name)[0]);
      ++rows;
      const auto cls = std::max_element(outs.begin(), outs.end()) - outs.begin();
      per_sample.push_back({{"sample", k}, {"ok", true}, {"output_A", outs}, {"class", cls}, {"newton_iterations", r.data.at("newton_iterations")[0]}});
    } else {
      const auto& t = r.data.at("time");
      header.insert(header.begin(), "time");
      if (r.data.count("vdd#branch")) header.push_back("i_supply");
      for (std::size_t ti = 0; ti < t.size(); ++ti) {
        table.push_back(t[ti]);
        for (const auto& p : probes) table.push_back(r.data.at(p.name)[ti]);
        for (const auto& p : readouts) table.push_back(r.data.at(p.name)[ti]);
        if (r.data.count("vdd#branch")) table.push_back(-r.data.at("vdd#branch")[ti]);
      }
      rows = t.size();
      per_sample.push_back({{"sample", k}, {"ok", true}, {"time_points", t.size()}, {"newton_iterations", r.data.at("newton_iterations")[0]}});
    }
  }
  if (rows > 0) {
    write_npy(out + "/currents.npy", table, {rows, header.size()});
    write_csv(out + "/currents.csv", header, table, header.size());
  }
  summary["columns"] = header;
  summary["failed"] = failed;
  summary["newton_iterations"] = iters;
  summary["results"] = per_sample;
  summary["ngspice"] = sim::Session::ngspice_version();
  write_json(out + "/summary.json", summary);
  write_run_json(out, {{"netlist", net_path}, {"analysis", analysis}, {"ngspice", sim::Session::ngspice_version()}});
  if (analysis == "op" && samples.size() == 1 && failed == 0) {
    const auto& s0 = per_sample[0];
    fmt::print("output currents (A): {}\nclass: {}\n", s0["output_A"].dump(), s0["class"].dump());
  }
  fmt::print("{} sample(s), {} failed, {} Newton iterations, {:.2f} s -> {}\n", samples.size(), failed, iters, wall, out);
  return failed ? static_cast<int>(ExitCode::sim_failure) : 0;
}

}  // namespace nnspice::tools

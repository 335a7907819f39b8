#include "nnspice/dynamics/experiment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/progress.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/common/store.hpp"
#include "nnspice/dynamics/metrics.hpp"

namespace nnspice::dynamics {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

double nan() { return std::nan(""); }

json number(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }
double from_json(const json& j) { return j.is_number() ? j.get<double>() : nan(); }

json record_json(const PatternRecord& r) {
  return {{"index", r.index},
          {"from", r.from},
          {"ok", r.ok},
          {"error", r.error},
          {"label", r.label},
          {"mean_input_A", r.mean_input_A},
          {"asymptotic_class", r.m.asymptotic_class},
          {"final_class", r.m.final_class},
          {"time_to_output_s", number(r.m.time_to_output_s)},
          {"energy_tto_J", number(r.m.energy_tto_J)},
          {"energy_tto_inputs_J", number(r.m.energy_tto_inputs_J)},
          {"energy_window_J", number(r.m.energy_window_J)},
          {"energy_window_inputs_J", number(r.m.energy_window_inputs_J)},
          {"power_tto_W", number(r.m.power_tto_W)},
          {"power_window_W", number(r.m.power_window_W)},
          {"time_points", r.time_points},
          {"newton_iterations", r.newton_iterations},
          {"transients", r.transients},
          {"wall_s", r.wall_s},
          {"energy_curve_J", r.energy_curve_J}};
}

PatternRecord record_from_json(const json& j) {
  PatternRecord r;
  r.index = j.at("index").get<std::size_t>();
  r.from = j.at("from").get<std::size_t>();
  r.ok = j.at("ok").get<bool>();
  r.error = j.at("error").get<std::string>();
  r.label = j.at("label").get<int>();
  r.mean_input_A = j.at("mean_input_A").get<double>();
  r.m.asymptotic_class = j.at("asymptotic_class").get<int>();
  r.m.final_class = j.at("final_class").get<int>();
  r.m.time_to_output_s = from_json(j.at("time_to_output_s"));
  r.m.energy_tto_J = from_json(j.at("energy_tto_J"));
  r.m.energy_tto_inputs_J = from_json(j.at("energy_tto_inputs_J"));
  r.m.energy_window_J = from_json(j.at("energy_window_J"));
  r.m.energy_window_inputs_J = from_json(j.at("energy_window_inputs_J"));
  r.m.power_tto_W = from_json(j.at("power_tto_W"));
  r.m.power_window_W = from_json(j.at("power_window_W"));
  r.time_points = j.at("time_points").get<long>();
  r.newton_iterations = j.at("newton_iterations").get<long>();
  r.transients = j.at("transients").get<double>();
  r.wall_s = j.at("wall_s").get<double>();
  r.energy_curve_J = j.at("energy_curve_J").get<std::vector<double>>();
  return r;
}

json stats_json(const std::vector<double>& v, double scale = 1.0) {
  std::vector<double> s;
  for (double x : v) s.push_back(x * scale);
  const Stats st = statistics(s);
  return {{"n", st.n},        {"mean", number(st.mean)}, {"sd", number(st.sd)},         {"min", number(st.min)},
          {"p05", number(st.p05)}, {"p25", number(st.p25)}, {"median", number(st.median)}, {"p75", number(st.p75)},
          {"p95", number(st.p95)}, {"max", number(st.max)}};
}

std::string fig3_path(const std::string& dir) { return dir + "/fig3_traces.csv"; }

// The per-pattern checkpoint (a store JSON record): everything its numbers depend on.
const store::Kind kPatternKind{"dynamics-pattern", 1};

std::uint64_t pattern_inputs(const ExperimentConfig& cfg, std::size_t k, std::size_t ncurve) {
  const auto& p = cfg.chip.process;
  store::Inputs in;
  in.add("layers", cfg.chip.spec.str()).add("process", p.name).add("model_card", p.model_card).add("vdd_V", p.vdd_V).add("temp_C", p.temp_C);
  for (const auto& sz : p.sizes) in.add("w_m", sz.w_m).add("l_m", sz.l_m);
  for (const auto& [key, v] : p.ngspice_options) in.add(key, v);
  in.add("delvto", std::string_view(reinterpret_cast<const char*>(cfg.chip.chip.delvto_V.data()), cfg.chip.chip.delvto_V.size() * sizeof(double)));
  for (const auto& m : cfg.weights)
    in.add(fmt::format("w{}x{}", m.rows, m.cols), std::string_view(reinterpret_cast<const char*>(m.codes.data()), m.codes.size()));
  for (double x : cfg.patterns_A[cfg.from[k]]) in.add("from_A", x);
  for (double x : cfg.patterns_A[k]) in.add("to_A", x);
  const auto& o = cfg.sw;
  in.add("method", method_name(o.method)).add("t_stop_s", o.t_stop_s).add("t_max_s", o.t_max_s).add("t_step_s", o.t_step_s).add("ramp_s", o.ramp_s);
  in.add("chunk", static_cast<std::int64_t>(o.chunk)).add("asymptotic_op", static_cast<std::int64_t>(o.asymptotic_op));
  for (double c : o.gate_load.c_n_F) in.add("gate_c_n_F", c);
  for (double c : o.gate_load.c_p_F) in.add("gate_c_p_F", c);
  in.add("window_s", cfg.window_s).add("curve_points", static_cast<std::int64_t>(ncurve));
  in.add("label", static_cast<std::int64_t>(cfg.labels.empty() ? -1 : cfg.labels[k])).add("figure", static_cast<std::int64_t>(k == cfg.figure_pattern));
  return in.hash();
}

/// "" when a finished pattern's numbers are usable (finite energies, power and energy curve), else why not.
std::string check_record(const PatternRecord& r) {
  if (!r.ok) return "";
  for (double v : {r.m.energy_window_J, r.m.energy_window_inputs_J, r.m.power_window_W, r.mean_input_A, r.wall_s})
    if (!std::isfinite(v)) return fmt::format("pattern {}: a window energy, power or input mean is {}", r.index, v);
  for (std::size_t i = 0; i < r.energy_curve_J.size(); ++i)
    if (!std::isfinite(r.energy_curve_J[i])) return fmt::format("pattern {}: energy_curve_J[{}] = {}", r.index, i, r.energy_curve_J[i]);
  return "";
}

// Fig. 3 traces of the figure pattern: written as soon as that pattern finishes, read back on --resume.
void write_fig3(const std::string& dir, const ExperimentResult& res, std::size_t n_layers) {
  std::vector<std::string> header{"time_s"};
  std::vector<const std::vector<double>*> ys;
  for (std::size_t l = 0; l < res.fig_units_A.size(); ++l)
    for (std::size_t i = 0; i < res.fig_units_A[l].size(); ++i) {
      header.push_back(fmt::format("i{}_{}_A", l + 1, i));
      ys.push_back(&res.fig_units_A[l][i]);
    }
  for (std::size_t j = 0; j < res.fig_output_A.size(); ++j) {
    header.push_back(fmt::format("i{}_{}_A", n_layers - 1, j));
    ys.push_back(&res.fig_output_A[j]);
  }
  std::vector<double> t;
  for (std::size_t i = 0; i < res.fig_time_s.size(); ++i) {
    t.push_back(res.fig_time_s[i]);
    for (const auto* y : ys) t.push_back((*y)[i]);
  }
  write_csv(dir + "/fig3_traces.csv", header, t, header.size());
}

bool read_fig3(const std::string& dir, const netlist::NetworkSpec& spec, ExperimentResult& res) {
  const std::string path = dir + "/fig3_traces.csv";
  if (!file_exists(path)) return false;
  const CsvTable t = read_csv(path);
  std::size_t expect = 1;
  for (std::size_t l = 1; l < spec.layers.size(); ++l) expect += static_cast<std::size_t>(spec.layers[l]);
  if (t.cols != expect || t.rows == 0) return false;
  res.fig_time_s.clear();
  res.fig_units_A.assign(spec.layers.size() - 2, {});
  res.fig_output_A.clear();
  std::size_t c = 1;
  for (std::size_t r = 0; r < t.rows; ++r) res.fig_time_s.push_back(t.at(r, 0));
  for (std::size_t l = 1; l < spec.layers.size(); ++l)
    for (int i = 0; i < spec.layers[l]; ++i, ++c) {
      std::vector<double> y;
      for (std::size_t r = 0; r < t.rows; ++r) y.push_back(t.at(r, c));
      (l + 1 < spec.layers.size() ? res.fig_units_A[l - 1] : res.fig_output_A).push_back(std::move(y));
    }
  return true;
}

}  // namespace

std::vector<std::string> pattern_columns() {
  return {"index",          "from",          "ok",           "label",          "mean_input_A",     "asymptotic_class",
          "final_class",    "class_ok",      "reached",      "time_to_output_s", "energy_tto_J",   "energy_tto_inputs_J",
          "energy_window_J", "energy_window_inputs_J", "power_tto_W", "power_window_W", "time_points", "newton_iterations",
          "wall_s"};
}

json summarise(const std::vector<PatternRecord>& recs, std::size_t ops, double window_s, double vdd_V) {
  std::vector<double> tto, e_tto, e_tto_in, e_win, e_win_in, p_tto, p_win, topj, topj_in, pj_op, pj_op_win, pj_op_win_in, thr, wall, tp, it;
  std::size_t ok = 0, reached = 0, labelled = 0, asym_right = 0, final_right = 0, right_in_window = 0;
  json failures = json::array();
  const double dops = static_cast<double>(ops);
  for (const auto& r : recs) {
    if (!r.ok) {
      failures.push_back({{"index", r.index}, {"error", r.error}});
      continue;
    }
    ++ok;
    wall.push_back(r.wall_s);
    tp.push_back(static_cast<double>(r.time_points));
    it.push_back(static_cast<double>(r.newton_iterations));
    e_win.push_back(r.m.energy_window_J);
    e_win_in.push_back(r.m.energy_window_inputs_J);
    p_win.push_back(r.m.power_window_W);
    pj_op_win.push_back(r.m.energy_window_J / dops * 1e12);
    pj_op_win_in.push_back(r.m.energy_window_inputs_J / dops * 1e12);
    const bool got = r.m.time_to_output_s >= 0;
    if (got) {
      ++reached;
      tto.push_back(r.m.time_to_output_s);
      if (r.m.time_to_output_s > 0) {
        e_tto.push_back(r.m.energy_tto_J);
        e_tto_in.push_back(r.m.energy_tto_inputs_J);
        p_tto.push_back(r.m.power_tto_W);
        topj.push_back(dops / r.m.energy_tto_J * 1e-12);
        topj_in.push_back(dops / r.m.energy_tto_inputs_J * 1e-12);
        pj_op.push_back(r.m.energy_tto_J / dops * 1e12);
        thr.push_back(dops / r.m.time_to_output_s);
      }
    }
    if (r.label >= 0) {
      ++labelled;
      if (r.m.asymptotic_class == r.label) ++asym_right;
      if (r.m.final_class == r.label) ++final_right;
      if (got && r.m.asymptotic_class == r.label) ++right_in_window;
    }
  }
  auto frac = [](std::size_t a, std::size_t b) { return b ? json(static_cast<double>(a) / static_cast<double>(b)) : json(nullptr); };
  const double mean_e_win = statistics(e_win).mean;
  json s = {
      {"patterns", recs.size()},
      {"simulated", ok},
      {"failed", recs.size() - ok},
      {"failures", failures},
      {"operations_per_pattern", ops},
      {"window_s", window_s},
      {"vdd_V", vdd_V},
      {"reached_fraction", frac(reached, ok)},
      {"reached_fraction_note", "patterns whose output class equals the asymptotic class (DC op of the new pattern) from some time <= window_s to the end of the window"},
      {"time_to_output_s", stats_json(tto)},
      {"energy_to_output_J", stats_json(e_tto)},
      {"energy_to_output_with_inputs_J", stats_json(e_tto_in)},
      {"energy_per_op_to_output_pJ", stats_json(pj_op)},
      {"efficiency_to_output_TOp_per_J", stats_json(topj)},
      {"efficiency_to_output_with_inputs_TOp_per_J", stats_json(topj_in)},
      {"average_power_to_output_W", stats_json(p_tto)},
      {"throughput_to_output_op_per_s", stats_json(thr)},
      {"energy_window_J", stats_json(e_win)},
      {"energy_window_with_inputs_J", stats_json(e_win_in)},
      {"energy_per_op_window_pJ", stats_json(pj_op_win)},
      {"energy_per_op_window_with_inputs_pJ", stats_json(pj_op_win_in)},
      {"efficiency_window_TOp_per_J", number(mean_e_win > 0 ? dops / mean_e_win * 1e-12 : nan())},
      {"average_power_window_W", stats_json(p_win)},
      {"throughput_window_op_per_s", number(dops / window_s)},
      {"pattern_rate_window_Hz", number(1.0 / window_s)},
      {"wall_s_per_pattern", stats_json(wall)},
      {"time_points_per_pattern", stats_json(tp)},
      {"newton_iterations_per_pattern", stats_json(it)},
      {"energy_note", "energy = VDD x integral of the VDD supply current; '_with_inputs' adds VDD x the input-source currents "
                      "(as if the inputs were drawn from VDD as in the authors' code; our sources hang from ground)"}};
  if (labelled) {
    s["labelled"] = labelled;
    s["accuracy_asymptotic"] = frac(asym_right, labelled);
    s["accuracy_at_window_end"] = frac(final_right, labelled);
    s["correct_within_window_fraction"] = frac(right_in_window, labelled);
  }
  return s;
}

ExperimentResult run_experiment(const ExperimentConfig& cfg) {
  const std::size_t n = cfg.patterns_A.size();
  if (n == 0) throw InputError("no patterns to simulate");
  if (cfg.from.size() != n) throw InputError(fmt::format("{} 'from' indices for {} patterns", cfg.from.size(), n));
  for (std::size_t k = 0; k < n; ++k)
    if (cfg.from[k] >= n) throw InputError(fmt::format("pattern {}: settle pattern index {} >= {}", k, cfg.from[k], n));
  if (!cfg.labels.empty() && cfg.labels.size() != n) throw InputError(fmt::format("{} labels for {} patterns", cfg.labels.size(), n));
  if (!(cfg.window_s > 0 && cfg.window_s <= cfg.sw.t_stop_s * (1 + 1e-12)))
    throw InputError(fmt::format("window {} s must be > 0 and <= the transient length {} s", cfg.window_s, cfg.sw.t_stop_s));
  cfg.sw.validate();
  make_dirs(cfg.out_dir + "/patterns");
  const double vdd = cfg.chip.process.vdd_V;
  ExperimentResult res;
  const std::size_t ncurve = std::max<std::size_t>(2, cfg.energy_curve_points);
  for (std::size_t i = 1; i <= ncurve; ++i) res.run_time_s.push_back(cfg.window_s * static_cast<double>(i) / static_cast<double>(ncurve));

  SwitchOptions sw = cfg.sw;
  res.records.resize(n);
  const Exchange& ex = cfg.exchange;
  const bool root = ex.rank == 0;
  std::vector<std::size_t> todo;
  for (std::size_t k = 0; root && k < n; ++k) {  // under MPI rank 0 decides what a --resume keeps
    const std::string ck = fmt::format("{}/patterns/{}.json", cfg.out_dir, k);
    if (cfg.resume) {
      const auto rec = store::load_json_record(ck, kPatternKind, pattern_inputs(cfg, k, ncurve), [&](const json& j) {
        const PatternRecord r = record_from_json(j);
        if (r.index != k || r.from != cfg.from[k] || r.energy_curve_J.size() != ncurve) return std::string("another pattern or energy grid");
        return check_record(r);
      });
      if (rec) {
        res.records[k] = record_from_json(*rec.value);
        // The Fig. 3 traces count only when they are the ones this record was written with (their hash).
        const std::string fig = fig3_path(cfg.out_dir);
        if (k != cfg.figure_pattern || !res.records[k].ok ||
            (file_exists(fig) && rec.value->value("fig3_traces", std::string()) == hex64(fnv1a64(read_file(fig))) &&
             read_fig3(cfg.out_dir, cfg.chip.spec, res)))
          continue;
        store::notice(ck, "the Fig. 3 traces (fig3_traces.csv) are missing or unusable", fmt::format("simulating pattern {} again", k));
      } else if (!rec.missing()) {
        store::notice(ck, rec.reason, fmt::format("simulating pattern {} again", k));
      }
    }
    todo.push_back(k);
  }
  if (!cfg.resume && root) {  // a fresh run: checkpoints of an earlier run must not be mixed in by a later --resume
    for (const auto& e : fs::directory_iterator(cfg.out_dir + "/patterns"))
      if (e.path().extension() == ".json") fs::remove(e.path());
  }

  std::vector<char> from_checkpoint(n, 1);
  if (ex.distributed()) {  // rank 0's list; this exchange also keeps the others from writing before the clean-up above
    const json t = json::parse(ex.from_root(json(todo).dump()));
    todo = t.get<std::vector<std::size_t>>();
  }
  for (std::size_t k : todo) from_checkpoint[k] = 0;
  std::vector<std::size_t> mine;  // this rank's share of todo
  for (std::size_t i = 0; i < todo.size(); ++i)
    if (ex.owns(i)) mine.push_back(todo[i]);

  const auto& chip = cfg.chip;
  const auto& w = cfg.weights;
  auto job = [&](sim::Session& s, std::size_t k) -> sim::JobData {
    SwitchOptions o = sw;
    o.keep_hidden = (k == cfg.figure_pattern);
    const auto tr = simulate_switch(s, chip, w, cfg.patterns_A[cfg.from[k]], cfg.patterns_A[k], o);
    const auto m = measure_switch(tr, vdd, cfg.window_s);
    sim::JobData d;
    d["m"] = {static_cast<double>(m.asymptotic_class), static_cast<double>(m.final_class), m.time_to_output_s, m.energy_tto_J,
              m.energy_tto_inputs_J, m.energy_window_J, m.energy_window_inputs_J, m.power_tto_W, m.power_window_W};
    d["stats"] = {static_cast<double>(tr.time_points), static_cast<double>(tr.newton_iterations), static_cast<double>(tr.transients), tr.wall_s};
    std::vector<double> curve;
    for (double T : res.run_time_s) curve.push_back(vdd * integrate(tr.time_s, tr.supply_A, T));
    d["curve"] = curve;
    if (o.keep_hidden) {
      d["time"] = tr.time_s;
      for (std::size_t l = 0; l < tr.units_A.size(); ++l)
        for (std::size_t i = 0; i < tr.units_A[l].size(); ++i) d[fmt::format("u{}_{}", l + 1, i)] = tr.units_A[l][i];
      for (std::size_t k2 = 0; k2 < tr.output_A.size(); ++k2) d[fmt::format("o{}", k2)] = tr.output_A[k2];
    }
    return d;
  };

  // A finished pattern's checkpoint (with the hash of the Fig. 3 traces it was written with).
  auto store_record = [&](std::size_t k) {
    const PatternRecord& r = res.records[k];
    json rj = record_json(r);
    if (r.ok && k == cfg.figure_pattern && file_exists(fig3_path(cfg.out_dir))) rj["fig3_traces"] = hex64(fnv1a64(read_file(fig3_path(cfg.out_dir))));
    store::write_json_record(fmt::format("{}/patterns/{}.json", cfg.out_dir, k), kPatternKind, pattern_inputs(cfg, k, ncurve), rj);
  };
  Progress progress(fmt::format("dynamics {}", cfg.name), ex.distributed() ? mine.size() : n, cfg.progress && root);
  progress.start_from(ex.distributed() ? 0 : n - todo.size());
  sim::ParallelOptions popt = cfg.parallel;
  std::size_t done = ex.distributed() ? 0 : n - todo.size(), failed = 0;
  popt.on_progress = nullptr;
  popt.on_result = [&](std::size_t job_index, const sim::JobOutcome& out) {
    const std::size_t k = job_index;
    PatternRecord& r = res.records[k];
    r.index = k;
    r.from = cfg.from[k];
    r.label = cfg.labels.empty() ? -1 : cfg.labels[k];
    double sum = 0;
    for (double x : cfg.patterns_A[k]) sum += x;
    r.mean_input_A = sum / static_cast<double>(cfg.patterns_A[k].size());
    r.ok = out.ok;
    r.error = out.error;
    if (out.ok) {
      const auto& m = out.data.at("m");
      r.m.asymptotic_class = static_cast<int>(m[0]);
      r.m.final_class = static_cast<int>(m[1]);
      r.m.time_to_output_s = m[2];
      r.m.energy_tto_J = m[3];
      r.m.energy_tto_inputs_J = m[4];
      r.m.energy_window_J = m[5];
      r.m.energy_window_inputs_J = m[6];
      r.m.power_tto_W = m[7];
      r.m.power_window_W = m[8];
      const auto& st = out.data.at("stats");
      r.time_points = static_cast<long>(st[0]);
      r.newton_iterations = static_cast<long>(st[1]);
      r.transients = st[2];
      r.wall_s = st[3];
      r.energy_curve_J = out.data.at("curve");
      if (auto why = check_record(r); !why.empty()) {  // a NaN/Inf result is a failed pattern, never averaged
        r.ok = false;
        r.error = fmt::format("non-finite result: {}", why);
      }
    }
    if (r.ok) {
      if (k == cfg.figure_pattern && out.data.count("time")) {
        res.fig_time_s = out.data.at("time");
        for (std::size_t l = 1; l + 1 < chip.spec.layers.size(); ++l) {
          res.fig_units_A.emplace_back();
          for (int i = 0; i < chip.spec.layers[l]; ++i) res.fig_units_A.back().push_back(out.data.at(fmt::format("u{}_{}", l, i)));
        }
        for (int j = 0; j < chip.spec.layers.back(); ++j) res.fig_output_A.push_back(out.data.at(fmt::format("o{}", j)));
        write_fig3(cfg.out_dir, res, chip.spec.layers.size());
      }
    } else {
      ++failed;
      r.energy_curve_J.assign(ncurve, nan());
      fmt::print(stderr, "\npattern {} ({}): simulation failed: {}\n", k, cfg.name, r.error);
    }
    store_record(k);
    ++done;
    progress.update(done, r.ok ? (r.m.time_to_output_s >= 0 ? fmt::format("tto {:.2f} us", r.m.time_to_output_s * 1e6) : "not reached")
                               : "failed");
  };
  if (!mine.empty()) sim::run_parallel(mine, job, popt);
  progress.finish(fmt::format("{} failed", failed));

  if (ex.distributed()) {
    // Every rank sends what it holds (rank 0 also the patterns kept from checkpoints) and takes the others'.
    json msg = {{"records", json::array()}};
    for (std::size_t k = 0; k < n; ++k)
      if ((root && from_checkpoint[k]) || std::find(mine.begin(), mine.end(), k) != mine.end()) msg["records"].push_back(record_json(res.records[k]));
    if (!res.fig_time_s.empty()) msg["fig"] = {{"time", res.fig_time_s}, {"units", res.fig_units_A}, {"outputs", res.fig_output_A}};
    const auto all = ex.allgather(msg.dump());
    for (std::size_t r = 0; r < all.size(); ++r) {
      if (static_cast<int>(r) == ex.rank) continue;
      const json m = json::parse(all[r]);
      if (m.contains("fig")) {
        res.fig_time_s = m["fig"]["time"].get<std::vector<double>>();
        res.fig_units_A = m["fig"]["units"].get<std::vector<std::vector<std::vector<double>>>>();
        res.fig_output_A = m["fig"]["outputs"].get<std::vector<std::vector<double>>>();
        if (root) write_fig3(cfg.out_dir, res, chip.spec.layers.size());
      }
      for (const auto& j : m["records"]) {
        const PatternRecord rec = record_from_json(j);
        if (rec.index >= n) throw std::runtime_error(fmt::format("dynamics: rank {} sent pattern {} of {}", r, rec.index, n));
        res.records[rec.index] = rec;
      }
    }
    // Rank 0's folder holds every checkpoint (the others wrote theirs where they run).
    for (std::size_t i = 0; root && i < todo.size(); ++i)
      if (!ex.owns(i)) store_record(todo[i]);
  }
  if (!root) {
    res.summary = summarise(res.records, chip.spec.n_ops(), cfg.window_s, vdd);
    res.summary["name"] = cfg.name;
    res.summary["method"] = method_name(cfg.sw.method);
    return res;
  }

  // Tables.
  const auto cols = pattern_columns();
  std::vector<double> table;
  std::vector<double> curves;
  for (const auto& r : res.records) {
    const bool reached = r.ok && r.m.time_to_output_s >= 0;
    const double class_ok = r.label >= 0 && r.ok ? (r.m.asymptotic_class == r.label ? 1.0 : 0.0) : nan();
    table.insert(table.end(), {static_cast<double>(r.index), static_cast<double>(r.from), r.ok ? 1.0 : 0.0, static_cast<double>(r.label),
                               r.mean_input_A, r.ok ? static_cast<double>(r.m.asymptotic_class) : nan(),
                               r.ok ? static_cast<double>(r.m.final_class) : nan(), class_ok, reached ? 1.0 : 0.0,
                               reached ? r.m.time_to_output_s : nan(), r.ok ? r.m.energy_tto_J : nan(), r.ok ? r.m.energy_tto_inputs_J : nan(),
                               r.ok ? r.m.energy_window_J : nan(), r.ok ? r.m.energy_window_inputs_J : nan(), r.ok ? r.m.power_tto_W : nan(),
                               r.ok ? r.m.power_window_W : nan(), static_cast<double>(r.time_points), static_cast<double>(r.newton_iterations),
                               r.wall_s});
    auto c = r.energy_curve_J;
    c.resize(ncurve, nan());
    curves.insert(curves.end(), c.begin(), c.end());
  }
  write_csv(cfg.out_dir + "/patterns.csv", cols, table, cols.size());
  write_npy(cfg.out_dir + "/patterns.npy", table, {n, cols.size()});
  write_npy(cfg.out_dir + "/energy_curves.npy", curves, {n, ncurve});
  write_npy(cfg.out_dir + "/run_time_s.npy", res.run_time_s, {ncurve});
  res.summary = summarise(res.records, chip.spec.n_ops(), cfg.window_s, vdd);
  res.summary["name"] = cfg.name;
  res.summary["method"] = method_name(cfg.sw.method);
  return res;
}

}  // namespace nnspice::dynamics

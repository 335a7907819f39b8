#include "nnspice/report/run_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/progress.hpp"

namespace nnspice::report {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A stage's JSON file, or null when it is missing or not JSON (the report shows n/a for it).
json load(const std::string& path) {
  if (!file_exists(path)) return nullptr;
  try {
    return json::parse(read_file(path));
  } catch (const std::exception&) {
    return nullptr;
  }
}

double num(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN;
}

long count(const json& j, const char* key) {
  const double v = num(j, key);
  return std::isfinite(v) ? static_cast<long>(v) : 0;
}

Stat stat(const json& j, const char* key) {
  Stat s;
  if (!j.is_object() || !j.contains(key) || !j[key].is_object()) return s;
  const json& o = j[key];
  s.mean = num(o, "mean");
  s.sd = num(o, "sd");
  s.p05 = num(o, "p05");
  s.p50 = num(o, "median");
  s.p95 = num(o, "p95");
  s.min = num(o, "min");
  s.max = num(o, "max");
  s.n = count(o, "n");
  return s;
}

Audit audit(const std::string& stage, const json& a) {
  Audit r;
  r.stage = stage;
  if (!a.is_object()) return r;
  r.synapses = count(a, "synapses");
  r.worst_over_bound = num(a, "worst_error_over_bound");
  r.within_bound = a.value("within_bound", false);
  r.worst_at = a.value("worst_at", "");
  return r;
}

// ---- formatting ----
std::string pct(double v) { return std::isfinite(v) ? fmt::format("{:.2f} %", 100 * v) : "n/a"; }
std::string g3(double v) { return std::isfinite(v) ? fmt::format("{:.3g}", v) : "n/a"; }
std::string pm(double m, double sd, double scale, const char* unit, int digits = 2) {
  if (!std::isfinite(m)) return "n/a";
  if (!std::isfinite(sd)) return fmt::format("{:.{}f}{}", scale * m, digits, unit);
  return fmt::format("{:.{}f} ± {:.{}f}{}", scale * m, digits, scale * sd, digits, unit);
}
std::string duration(double s) { return std::isfinite(s) ? format_duration(s) : "n/a"; }
std::string current(double a) {
  if (!std::isfinite(a)) return "n/a";
  if (a >= 1e-6) return fmt::format("{:g} µA", a * 1e6);
  return fmt::format("{:g} nA", a * 1e9);
}
std::string rel(const std::string& run_dir, const std::string& path) { return fs::path(path).lexically_relative(run_dir).string(); }

const char* kAccuracyColumns[5] = {"ideal model", "chip model, ideal weights", "chip model, chip-aware weights", "circuit, ideal weights",
                                   "circuit, chip-aware weights"};

}  // namespace

std::string ExperimentPlan::chip_dir(long long k) const { return chips == 1 ? dir : fmt::format("{}/chip_{}", dir, k); }

ExperimentResults read_experiment(const ExperimentPlan& plan, const std::string& run_dir) {
  ExperimentResults r;
  r.plan = plan;
  const json th = load(plan.dir + "/train_homogeneous/summary.json");
  for (long long k = 0; k < plan.chips; ++k) {
    const std::string d = plan.chip_dir(k);
    ChipAccuracy c;
    c.seed = plan.chip_seed + static_cast<std::uint64_t>(k);
    const json ec = load(d + "/evaluate_chip/summary.json");
    c.accuracy = {num(th, "test_accuracy"), num(load(d + "/infer_homogeneous/summary.json"), "accuracy"), num(load(d + "/infer_chip/summary.json"), "accuracy"),
                  num(load(d + "/evaluate_homogeneous/summary.json"), "accuracy"), num(ec, "accuracy")};
    c.circuit_samples = count(ec, "evaluated");
    r.chips.push_back(c);
  }
  for (int q = 0; q < 5; ++q) {
    double s1 = 0, s2 = 0;
    long n = 0;
    for (const auto& c : r.chips)
      if (std::isfinite(c.accuracy[static_cast<std::size_t>(q)])) {
        const double a = c.accuracy[static_cast<std::size_t>(q)];
        s1 += a, s2 += a * a, ++n;
      }
    Stat& s = r.accuracy_over_chips[static_cast<std::size_t>(q)];
    s.n = n;
    if (n > 0) s.mean = s1 / static_cast<double>(n);
    if (n > 1) s.sd = std::sqrt(std::max(0.0, (s2 - static_cast<double>(n) * s.mean * s.mean) / static_cast<double>(n - 1)));
  }
  const std::string d0 = plan.chip_dir(0);
  const json ch = load(d0 + "/characterize/summary.json");
  if (ch.is_object() && ch.contains("per_layer") && ch["per_layer"].is_array())
    for (const auto& l : ch["per_layer"]) {
      LayerCalibration c;
      c.layer = static_cast<int>(count(l, "layer"));
      c.neurons = count(l, "neurons");
      c.slope = stat(l, "slope_normalised");
      c.negative_gain = stat(l, "negative_gain");
      c.slope_fit_rel_rms = num(l, "slope_fit_rel_rms");
      r.calibration.push_back(c);
    }
  if (ch.is_object() && ch.contains("engine_audit")) r.audits.push_back(audit("characterize", ch["engine_audit"]));
  for (const char* st : {"evaluate_homogeneous", "evaluate_chip"}) {
    const json e = load(d0 + "/" + st + "/summary.json");
    if (e.is_object() && e.contains("engine_audit")) r.audits.push_back(audit(st, e["engine_audit"]));
  }
  const json dy = load(d0 + "/dynamics/summary.json");
  if (dy.is_object()) {
    r.dynamics_method = dy.value("method", "");
    r.operations_per_pattern = count(dy, "operations_per_pattern");
    if (dy.contains("tabulated_model") && dy["tabulated_model"].is_object() && dy["tabulated_model"].contains("engine_audit"))
      r.audits.push_back(audit("dynamics", dy["tabulated_model"]["engine_audit"]));
    if (dy.contains("levels") && dy["levels"].is_array())
      for (const auto& l : dy["levels"]) {
        DynamicsLevel v;
        v.mean_input_A = num(l, "mean_input_A");
        v.patterns = count(l, "patterns");
        v.failed = count(l, "failed");
        v.accuracy_asymptotic = num(l, "accuracy_asymptotic");
        v.reached_fraction = num(l, "correct_within_window_fraction");
        v.time_to_output_s = stat(l, "time_to_output_s");
        v.energy_per_op_pJ = stat(l, "energy_per_op_to_output_pJ");
        v.efficiency_TOp_per_J = stat(l, "efficiency_to_output_TOp_per_J");
        v.power_W = stat(l, "average_power_to_output_W");
        v.efficiency_window_TOp_per_J = num(l, "efficiency_window_TOp_per_J");
        r.dynamics.push_back(v);
      }
  }
  // Stage times: every stage.json under the experiment (OUT/name/<stage>, OUT/name/chip_k/<stage>).
  std::error_code ec;
  std::vector<std::string> stages;
  for (auto it = fs::recursive_directory_iterator(plan.dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > 2) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && it->path().filename() == "stage.json") stages.push_back(it->path().parent_path().string());
  }
  std::sort(stages.begin(), stages.end());
  for (const auto& s : stages) {
    const json j = load(s + "/stage.json");
    const double w = j.is_object() && j.contains("payload") ? num(j["payload"], "wall_s") : kNaN;
    r.times.push_back({rel(run_dir, s), w});
  }
  return r;
}

Document run_report(const RunInfo& info, const std::vector<ExperimentResults>& experiments) {
  Document doc;
  doc.title = "nnspice run report";
  const std::string& out = info.run_dir;
  {
    Section s{"Overview", 2, {}};
    s.blocks.push_back(Paragraph{fmt::format("Config: `{}` (copied to `config.yaml`); total wall time {}. Every number below comes from a stage "
                                             "folder next to this file; their `summary.json` files keep the raw values.",
                                             info.config_source, duration(info.wall_s))});
    Table t{{"experiment", "data set", "network", "chips", "chip model", "circuit, chip-aware weights"}, {}, ""};
    for (const auto& e : experiments) {
      const Stat& c = e.accuracy_over_chips[4];
      t.rows.push_back({e.plan.name, e.plan.dataset, e.plan.layers, std::to_string(e.plan.chips), e.plan.chip_model,
                        e.plan.chips > 1 ? pm(c.mean, c.sd, 100, " %") : pct(c.mean)});
    }
    s.blocks.push_back(t);
    doc.sections.push_back(std::move(s));
  }
  for (const auto& e : experiments) {
    const ExperimentPlan& x = e.plan;
    Section s;
    s.heading = fmt::format("{}: {} on {} {} chip{} (seed{} {}{})", x.name, x.dataset, x.chips == 1 ? "a" : std::to_string(x.chips), x.layers,
                            x.chips == 1 ? "" : "s", x.chips == 1 ? "" : "s", x.chip_seed,
                            x.chips == 1 ? "" : fmt::format("…{}", x.chip_seed + static_cast<std::uint64_t>(x.chips) - 1));
    s.blocks.push_back(Paragraph{fmt::format("Behavioural chip model (training and the chip-model columns): {}.", x.chip_model)});
    Table acc{{"chip seed"}, {}, "Test accuracy. Ideal model: the homogeneous 3-bit network; chip model: the behavioural model of the measured "
                                "chip; circuit: the chip's circuit solved at DC for every test sample."};
    for (const char* c : kAccuracyColumns) acc.header.push_back(c);
    acc.header.push_back("circuit samples");
    for (const auto& c : e.chips) {
      std::vector<std::string> row{std::to_string(c.seed)};
      for (double a : c.accuracy) row.push_back(pct(a));
      row.push_back(std::to_string(c.circuit_samples));
      acc.rows.push_back(row);
    }
    if (x.chips > 1) {
      std::vector<std::string> row{"mean ± sd"};
      for (const auto& st : e.accuracy_over_chips) row.push_back(pm(st.mean, st.sd, 100, " %"));
      row.push_back("");
      acc.rows.push_back(row);
    }
    s.blocks.push_back(acc);
    Figures f;
    auto add_image = [&](const std::string& path, const std::string& caption) {
      if (file_exists(path)) f.images.push_back({rel(out, path), caption});
    };
    add_image(x.dir + "/accuracy.png", "Test accuracy per model and weight set" + std::string(x.chips > 1 ? " (mean ± sd over chips)" : ""));
    if (x.chips > 1) add_image(x.dir + "/chips_histogram.png", "Circuit-level accuracy over chips");
    const std::string d0 = x.chip_dir(0);
    add_image(d0 + "/characterize/slopes.png", fmt::format("Measured slopes, chip {}", x.chip_seed));
    add_image(d0 + "/train_chip/learning_curve.png", fmt::format("Chip-aware training, chip {}", x.chip_seed));
    if (!f.images.empty()) s.blocks.push_back(f);
    doc.sections.push_back(std::move(s));

    if (!e.calibration.empty()) {
      Section c{fmt::format("{}: measured mismatch (chip {})", x.name, x.chip_seed), 3, {}};
      Table t{{"layer", "neurons", "slope sd", "slope min … max", "negative gain mean ± sd", "slope fit rel. rms"}, {}, 
              "Slopes normalised to mean 1 per layer; the negative gain is the ratio of a neuron's response to negative and positive weights."};
      for (const auto& l : e.calibration)
        t.rows.push_back({std::to_string(l.layer), std::to_string(l.neurons), g3(l.slope.sd), fmt::format("{} … {}", g3(l.slope.min), g3(l.slope.max)),
                          pm(l.negative_gain.mean, l.negative_gain.sd, 1, "", 3), g3(l.slope_fit_rel_rms)});
      c.blocks.push_back(t);
      doc.sections.push_back(std::move(c));
    }
    if (!e.dynamics.empty()) {
      Section c{fmt::format("{}: time to output and energy (chip {}, {} transients, {} operations per pattern)", x.name, x.chip_seed, e.dynamics_method,
                            e.operations_per_pattern),
                3, {}};
      Table t{{"mean input", "patterns", "class right (asymptotic)", "right within the window", "time to output", "p05 / p50 / p95",
               "energy per op to output", "TOp/J (to output)", "TOp/J (window)", "power to output"},
              {},
              "Time to output: after a switch from another test pattern, until the output class stays at its final value. Energy: VDD × "
              "supply current (input sources excluded). TOp/J to output = 1 / (mean energy per operation)."};
      for (const auto& l : e.dynamics) {
        const Stat& tt = l.time_to_output_s;
        t.rows.push_back({current(l.mean_input_A), fmt::format("{}{}", l.patterns, l.failed ? fmt::format(" ({} failed)", l.failed) : ""),
                          pct(l.accuracy_asymptotic), pct(l.reached_fraction), pm(tt.mean, tt.sd, 1e6, " µs"),
                          std::isfinite(tt.p05) ? fmt::format("{:.2f} / {:.2f} / {:.2f} µs", 1e6 * tt.p05, 1e6 * tt.p50, 1e6 * tt.p95) : "n/a",
                          pm(l.energy_per_op_pJ.mean, l.energy_per_op_pJ.sd, 1, " pJ", 3),
                          std::isfinite(l.energy_per_op_pJ.mean) && l.energy_per_op_pJ.mean > 0 ? fmt::format("{:.3g}", 1 / l.energy_per_op_pJ.mean) : "n/a",
                          g3(l.efficiency_window_TOp_per_J), pm(l.power_W.mean, l.power_W.sd, 1e6, " µW", 1)});
      }
      c.blocks.push_back(t);
      Figures df;
      std::vector<std::string> pngs;
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(d0 + "/dynamics", ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const auto& p = it->path();
        if (p.extension() == ".png" && p.parent_path().filename() != "figures" && p.string().find("/validate_") == std::string::npos)
          pngs.push_back(p.string());
      }
      std::sort(pngs.begin(), pngs.end());
      for (const auto& p : pngs) {
        const std::string stem = fs::path(p).stem().string(), level = fs::path(p).parent_path().filename().string();
        std::string what = stem.rfind("fig3", 0) == 0           ? "Soma input currents after a switch (paper Fig. 3)"
                           : stem == "fig4_energy_runtime"      ? "Energy per operation vs run time (paper Fig. 4)"
                           : stem == "fig4_tto_power"           ? "Time to output vs average power (paper Fig. 4)"
                                                                : stem;
        if (level.rfind("level_", 0) == 0) what += ", " + level.substr(6);
        df.images.push_back({rel(out, p), what});
      }
      if (!df.images.empty()) c.blocks.push_back(df);
      doc.sections.push_back(std::move(c));
    }
    if (!e.audits.empty() || !e.times.empty()) {
      Section c{fmt::format("{}: fidelity audit and stage times", x.name), 3, {}};
      if (!e.audits.empty()) {
        Table t{{"stage", "synapses re-tabulated by ngspice", "worst error / (0.5 % + 20 pA)", "within the bound", "worst point"}, {},
                "The native engine's self-audit (docs/dc_engine.md): sampled synapses re-tabulated with ngspice during the run and compared point "
                "by point."};
        for (const auto& a : e.audits)
          t.rows.push_back({a.stage, std::to_string(a.synapses), g3(a.worst_over_bound), a.within_bound ? "yes" : "**NO**", a.worst_at});
        c.blocks.push_back(t);
      }
      if (!e.times.empty()) {
        Table t{{"stage", "wall time"}, {}, ""};
        for (const auto& st : e.times) t.rows.push_back({st.stage, duration(st.wall_s)});
        c.blocks.push_back(t);
      }
      doc.sections.push_back(std::move(c));
    }
  }
  // Against the paper: Binas et al., Table 1 and §3.5, beside this run's numbers.
  {
    Section s{"Against the paper", 2, {}};
    s.blocks.push_back(Paragraph{"Binas et al., \"Precise deep neural network computation on imprecise low-power analog hardware\" (2016): "
                                 "their numbers (Table 1, §3.5) beside this run's. Their MNIST network is 196-100-50-10 at 15 nA mean input; "
                                 "the network of each row here is named."});
    Table t{{"quantity", "paper", "this run"}, {}, "n/a: the stage did not run in this config."};
    for (const auto& e : experiments) {
      const auto& a = e.accuracy_over_chips;
      auto acc = [&](int q) { return e.plan.chips > 1 ? pm(a[static_cast<std::size_t>(q)].mean, a[static_cast<std::size_t>(q)].sd, 100, " %") : pct(a[static_cast<std::size_t>(q)].mean); };
      const std::string net = fmt::format("{} {}", e.plan.dataset, e.plan.layers);
      if (e.plan.dataset == "mnist") {
        t.rows.push_back({fmt::format("MNIST, homogeneous 3-bit model ({})", net), "97.6 ± 0.1 % (196-100-50-10)", acc(0)});
        t.rows.push_back({fmt::format("MNIST, trained on the chip's measured parameters, behavioural ({})", net), "97.6 ± 0.2 %", acc(2)});
        t.rows.push_back({fmt::format("MNIST, circuit level, chip-aware weights ({})", net), "98.0 % (SPICE, 500 images)",
                          fmt::format("{} ({} images)", acc(4), e.chips.empty() ? 0 : e.chips[0].circuit_samples)});
        for (const auto& l : e.dynamics)
          if (std::abs(l.mean_input_A - 15e-9) < 1e-12) {
            t.rows.push_back({fmt::format("time to output at 15 nA ({})", net), "8.5 ± 2.3 µs", pm(l.time_to_output_s.mean, l.time_to_output_s.sd, 1e6, " µs")});
            t.rows.push_back({fmt::format("patterns right within 15 µs ({})", net), "> 99 %", pct(l.reached_fraction)});
            t.rows.push_back({fmt::format("energy per operation at 15 nA ({})", net), "0.12 pJ = 7.97 TOp/J",
                              std::isfinite(l.energy_per_op_pJ.mean) && l.energy_per_op_pJ.mean > 0
                                  ? fmt::format("{:.3g} pJ = {:.3g} TOp/J (to output)", l.energy_per_op_pJ.mean, 1 / l.energy_per_op_pJ.mean)
                                  : "n/a"});
          }
      } else if (e.plan.dataset == "iris") {
        t.rows.push_back({fmt::format("Iris on a chip ({})", net), "100 % (fabricated 4-7-3 prototype)", acc(4) + " (circuit level, chip-aware)"});
      } else if (e.plan.dataset == "fsdd") {
        t.rows.push_back({fmt::format("spoken digits ({}; paper: TIDIGITS)", net), "88.0 ± 3.8 %", acc(2) + " (chip model), " + acc(4) + " (circuit)"});
      }
    }
    s.blocks.push_back(t);
    doc.sections.push_back(std::move(s));
  }
  {
    Section s{"Config, seeds and versions", 2, {}};
    s.blocks.push_back(Paragraph{fmt::format("nnspice {}, {}, host `{}`, started {}. Command: `{}`. Chip and data seeds are in the config "
                                             "below; each stage's `run.json` records its own seed, command and versions.",
                                             info.nnspice_version, info.ngspice_version, info.host, info.time_utc, info.command_line)});
    s.blocks.push_back(Code{info.config_text});
    doc.sections.push_back(std::move(s));
  }
  return doc;
}

void write_run_report(const RunInfo& info, const std::vector<ExperimentResults>& experiments) {
  const Document doc = run_report(info, experiments);
  write_file_atomic(info.run_dir + "/report.md", to_markdown(doc));
  write_file_atomic(info.run_dir + "/report.html", to_html(doc, info.run_dir));
}

}  // namespace nnspice::report

// Parsing and validation of `nnspice sweep` configs (docs/sweep.md).
#include "sweep_config.hpp"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "nnspice/common/error.hpp"
#include "nnspice/common/yaml_util.hpp"
#include "nnspice/engine/device_tables.hpp"
#include "nnspice/netlist/network.hpp"

namespace nnspice::tools {
namespace {


const std::vector<AxisRule> kAxes = {
    {"temp_C", "evaluation (and transient) temperature in C; characterise and train at the sweep's corner unless training: recalibrated",
     engine::kTableMinTemp_C, engine::kTableMaxTemp_C, false},
    {"vdd_V", "evaluation (and transient) supply in V; as temp_C", 0.5, 4.75, false},
    {"input_mean_A", "mean input current of the circuit-level evaluation and of the transients (A)", 1e-12, 1e-5, false},
    {"a_vt_scale", "Pelgrom A_VT of every device class x this factor (a derived process file per value)", 1e-3, 100, false},
    {"area_scale", "every transistor's W and L x sqrt(this factor): area x factor, W/L kept (a derived process file)", 1e-3, 1e3, false},
    {"weight_bits", "magnitude bits of every synapse, 1..6 (codes ±(2^B - 1); mirrors binary-scaled from mirror_lsb; a derived process)", 1, 6, false},
    {"layers", "the network, e.g. 196-50-10 (same inputs and outputs as experiment.layers)", 0, 0, true},
    {"training", "nominal (characterised and trained at the sweep's corner) | recalibrated (characterised at the point's corner) | "
                 "corner_aware (trained against the sweep's corner and experiment.train.corners)", 0, 0, true},
};

const AxisRule* find_axis(const std::string& name) {
  for (const auto& a : kAxes)
    if (name == a.name) return &a;
  return nullptr;
}

std::string fmt_value(double v) { return fmt::format("{}", v); }

}  // namespace

const std::vector<AxisRule>& sweep_axes() { return kAxes; }

Sweep parse_sweep(const std::string& text, const std::string& file) {
  Sweep s;
  s.source = file;
  s.text = text;
  const YAML::Node root = parse_yaml(text, file);
  YamlMap m(root, file, "");
  m.check_keys({"out", "process", "jobs", "temp_C", "vdd_V", "target_accuracy", "experiment", "axes"});
  s.run.source = file;
  s.run.text = text;
  s.run.out = "out/sweep";
  read_run_settings(m, s.run);
  s.target = m.get_double("target_accuracy", 0.96);
  if (!(s.target > 0 && s.target <= 1)) m.fail("target_accuracy", "expected a fraction in (0, 1], e.g. 0.96");
  if (!m.has("experiment") || !root["experiment"].IsMap())
    throw InputError(m.where("experiment"), "experiment: expected a map: one experiment of `nnspice run` (dataset, layers, chips, characterize, ...)");
  const YamlMap e = m.get_map("experiment");
  e.check_keys(experiment_keys({}));
  s.base = parse_experiment(e, s.run.corner);
  s.base.name = "p";

  const YAML::Node ax = root["axes"];
  if (!ax || !ax.IsMap() || ax.size() == 0)
    throw InputError(m.where("axes"), "axes: expected a non-empty map of axis: [values], e.g. {temp_C: [-40, 27, 85]}");
  const YamlMap am = m.get_map("axes");
  std::size_t points = 1;
  const auto base_layers = netlist::NetworkSpec::parse(s.base.layers).layers;
  for (auto it = ax.begin(); it != ax.end(); ++it) {
    const std::string name = it->first.Scalar();
    const AxisRule* rule = find_axis(name);
    if (!rule) {
      std::string known;
      for (const auto& a : kAxes) known += (known.empty() ? "" : ", ") + std::string(a.name);
      if (name == "bits") am.fail(name, "the axis is called weight_bits");
      if (name == "chip_seed" || name == "chips")
        am.fail(name, "chips are not an axis: every point is a Monte Carlo over experiment.chips chips (seeds experiment.chip_seed, +1, ...)");
      throw InputError(am.where(name), fmt::format("axes: unknown axis '{}' (known: {})", name, known));
    }
    const YAML::Node values = it->second;
    if (!values.IsSequence() || values.size() == 0) am.fail(name, "expected a non-empty list of values");
    if (values.size() > kMaxValuesPerAxis) am.fail(name, fmt::format("{} values: at most {} per axis", values.size(), kMaxValuesPerAxis));
    Axis a;
    a.name = name;
    std::set<std::string> seen;
    for (const auto& v : values) {
      const std::string where = fmt::format("axes.{}", name);
      if (!v.IsScalar()) throw InputError(yaml_where(v, file), fmt::format("{}: expected a scalar value", where));
      const std::string t = v.Scalar();
      auto bad = [&](const std::string& why) { throw InputError(yaml_where(v, file), fmt::format("{}: value '{}': {}", where, t, why)); };
      if (rule->text) {
        if (name == "layers") {
          std::vector<int> l;
          try {
            l = netlist::NetworkSpec::parse(t, where).layers;
          } catch (const InputError& err) {
            bad(err.what());
          }
          if (l.front() != base_layers.front() || l.back() != base_layers.back())
            bad(fmt::format("the data set needs {} inputs and {} outputs, as experiment.layers {}", base_layers.front(), base_layers.back(), s.base.layers));
        } else if (t != "nominal" && t != "recalibrated" && t != "corner_aware") {
          bad("expected nominal, recalibrated or corner_aware");
        } else if (t == "corner_aware" && s.base.train_corners.empty()) {
          bad("corner_aware needs the corners to train against: experiment.train.corners, e.g. [{temp_C: -40}, {temp_C: 85}]");
        }
        a.text.push_back(t);
      } else {
        double d = 0;
        if (!YAML::convert<double>::decode(v, d) || !std::isfinite(d)) bad("not a number");
        if (!(d >= rule->lo && d <= rule->hi)) bad(fmt::format("outside {} .. {} ({})", rule->lo, rule->hi, rule->meaning));
        if (name == "weight_bits" && d != std::round(d)) bad("not a whole number of bits");
        a.number.push_back(d);
        a.text.push_back(fmt_value(d));
      }
      if (!seen.insert(a.text.back()).second) bad("given twice");
    }
    points *= a.text.size();
    if (points > kMaxSweepPoints) am.fail(name, fmt::format("the grid has more than {} points", kMaxSweepPoints));
    s.axes.push_back(std::move(a));
  }
  // Bound before work: every chip of every point is ~7 stages of its own.
  if (static_cast<double>(points) * static_cast<double>(s.base.chips) > static_cast<double>(kMaxSweepChips))
    throw InputError(e.where("chips"), fmt::format("experiment.chips = {} x {} points = {} chips: a sweep evaluates at most {} chips", s.base.chips, points,
                                                   static_cast<double>(points) * static_cast<double>(s.base.chips), kMaxSweepChips));
  return s;
}


}  // namespace nnspice::tools

// Parsing and validation of `nnspice run` configs (split from cmd_run.cpp so the fuzz target
// tests/fuzz/fuzz_run_config.cpp can exercise exactly the parser the command uses).
#include "run_config.hpp"

#include <fmt/format.h>

#include <map>

#include "nnspice/common/error.hpp"
#include "nnspice/common/yaml_util.hpp"
#include "nnspice/engine/device_tables.hpp"
#include "nnspice/engine/method.hpp"
#include "nnspice/netlist/network.hpp"

namespace nnspice::tools {

bool is_synapse_model(const std::string& value) { return value == "none" || value == "7" || value == "bits" || value == "all"; }

// temp_C / vdd_V of a map, over `inherited`: the bounds of --temp-C / --vdd-V (engine::kTableMinTemp_C ..).
StageCorner read_corner(const YamlMap& m, StageCorner inherited) {
  if (m.has("temp_C")) {
    const double t = m.get_double("temp_C", 27);
    if (!(t >= engine::kTableMinTemp_C && t <= engine::kTableMaxTemp_C))
      m.fail("temp_C", fmt::format("expected {} .. {} C (the cards' temperature models and the device tables)", engine::kTableMinTemp_C,
                                   engine::kTableMaxTemp_C));
    inherited.temp_C = t;
  }
  if (m.has("vdd_V")) {
    const double v = m.get_double("vdd_V", 1.8);
    if (!(v >= 0.5 && v <= 4.75)) m.fail("vdd_V", "expected 0.5 .. 4.75 V");
    inherited.vdd_V = v;
  }
  return inherited;
}

std::vector<std::string> experiment_keys(std::vector<std::string> more) {
  for (const char* k : {"dataset", "layers", "chip_seed", "data_seed", "chips", "mnist_dir", "fsdd_dir", "iris_csv", "process", "characterize", "train",
                        "evaluate", "dynamics"})
    more.emplace_back(k);
  return more;
}

Experiment parse_experiment(const YamlMap& e, const StageCorner& corner) {
  Experiment x;
  x.process = e.get_string("process", "");
  x.dataset = e.get_string("dataset");
  if (x.dataset != "mnist" && x.dataset != "iris" && x.dataset != "fsdd") e.fail("dataset", "expected mnist, iris or fsdd");
  x.layers = e.get_string("layers");
  try {
    netlist::NetworkSpec::parse(x.layers, "layers");
  } catch (const InputError& err) {
    e.fail("layers", err.what());
  }
  const long long cs = e.get_int("chip_seed", 7), ds = e.get_int("data_seed", 1);
  if (cs < 0) e.fail("chip_seed", "expected >= 0");
  if (ds < 0) e.fail("data_seed", "expected >= 0");
  x.chip_seed = static_cast<std::uint64_t>(cs);
  x.chips = e.get_int("chips", 1);
  if (x.chips < 1 || x.chips > 10000) e.fail("chips", "expected 1..10000 (Monte Carlo over chips)");
  x.data_seed = static_cast<std::uint64_t>(ds);
  x.mnist_dir = e.get_string("mnist_dir", "");
  x.fsdd_dir = e.get_string("fsdd_dir", "");
  x.iris_csv = e.get_string("iris_csv", "");
  if (x.dataset == "fsdd" && x.fsdd_dir.empty()) e.fail("fsdd_dir", "the FSDD data set needs fsdd_dir (the folder with recordings/)");

  const YamlMap ch = e.get_map("characterize");
  ch.check_keys({"method", "routings", "synapses", "temp_C", "vdd_V"});
  x.char_corner = read_corner(ch, corner);
  x.char_method = ch.get_string("method", x.char_method);
  if (!engine::is_dc_method(x.char_method)) ch.fail("method", "expected auto, full, decomposed or decomposed-ngspice");
  x.routings = ch.get_int("routings", 10);
  if (x.routings < 1 || x.routings > 10000) ch.fail("routings", "expected 1..10000");
  x.char_synapses = ch.get_string("synapses", x.char_synapses);
  if (!is_synapse_model(x.char_synapses))
    ch.fail("synapses", "expected none (per-neuron model), 7 (every synapse at +7 and -7), bits or all (gains per code)");

  const YamlMap tr = e.get_map("train");
  tr.check_keys({"epochs", "lr", "train_limit", "corners"});
  if (tr.has("corners")) {
    const YAML::Node l = tr.node()["corners"];
    if (!l.IsSequence() || l.size() == 0 || l.size() > 15)
      tr.fail("corners", "expected a list of 1..15 corners, e.g. [{temp_C: -40}, {temp_C: 85}] (corner-aware training)");
    for (std::size_t j = 0; j < l.size(); ++j) {
      const std::string where = fmt::format("{}{}train.corners[{}]", e.context(), e.context().empty() ? "" : ".", j);
      if (!l[j].IsMap() || l[j].size() == 0) throw InputError(yaml_where(l[j], e.file()), where + ": expected a map with temp_C and/or vdd_V");
      const YamlMap cm(l[j], e.file(), where);
      cm.check_keys({"temp_C", "vdd_V"});
      x.train_corners.push_back(read_corner(cm, x.char_corner));
    }
  }
  x.train_epochs = tr.get_int("epochs", -1);
  if (tr.has("epochs") && (x.train_epochs < 1 || x.train_epochs > 100000)) tr.fail("epochs", "expected 1..100000");
  x.train_lr = tr.get_double("lr", -1);
  if (tr.has("lr") && !(x.train_lr > 0 && x.train_lr < 1)) tr.fail("lr", "expected 0 < lr < 1");
  x.train_limit = tr.get_int("train_limit", 0);
  if (x.train_limit < 0) tr.fail("train_limit", "expected >= 0");

  const YamlMap ev = e.get_map("evaluate");
  ev.check_keys({"method", "limit", "input_mean_A", "temp_C", "vdd_V"});
  x.eval_corner = read_corner(ev, corner);
  x.eval_method = ev.get_string("method", x.eval_method);
  if (!engine::is_dc_method(x.eval_method)) ev.fail("method", "expected auto, full, decomposed or decomposed-ngspice");
  x.eval_limit = ev.get_int("limit", 0);
  if (x.eval_limit < 0) ev.fail("limit", "expected >= 0 (0 = the whole test set)");
  x.eval_input_mean = ev.get_double("input_mean_A", 0);
  if (ev.has("input_mean_A") && !(x.eval_input_mean > 0 && x.eval_input_mean <= 1e-5)) ev.fail("input_mean_A", "expected 0 < input_mean_A <= 1e-5");

  x.dyn_corner = corner;
  if (e.has("dynamics") && e.node()["dynamics"].IsScalar()) {
    x.dynamics = e.get_bool("dynamics", true);
  } else {
    const YamlMap dy = e.get_map("dynamics");
    dy.check_keys({"count", "mean_inputs_A", "method", "tmax_s", "chunk", "temp_C", "vdd_V"});
    x.dyn_corner = read_corner(dy, corner);
    x.dyn_count = dy.get_int("count", 10);
    if (x.dyn_count < 1 || x.dyn_count > 100000) dy.fail("count", "expected 1..100000");
    x.dyn_method = dy.get_string("method", x.dyn_method);
    x.dyn_tmax = dy.get_double("tmax_s", 0);
    if (dy.has("tmax_s") && !(x.dyn_tmax >= 1e-12 && x.dyn_tmax <= 1e-6)) dy.fail("tmax_s", "expected a maximum time step in [1e-12, 1e-6] s");
    x.dyn_chunk = dy.get_int("chunk", 0);
    if (x.dyn_chunk < 0) dy.fail("chunk", "expected >= 0 (0 = whole layer)");
    if (x.dyn_method != "full" && x.dyn_method != "layerwise" && x.dyn_method != "tabulated" && x.dyn_method != "auto")
      dy.fail("method", "expected full, layerwise, tabulated or auto");
    if (dy.has("mean_inputs_A")) {
      const YAML::Node l = dy.node()["mean_inputs_A"];
      if (!l.IsSequence() || l.size() == 0) dy.fail("mean_inputs_A", "expected a list of currents in A, e.g. [1.5e-8, 4.5e-8]");
      x.dyn_levels.clear();
      for (const auto& v : l) {
        double d;
        if (!v.IsScalar() || !YAML::convert<double>::decode(v, d) || !(d > 0 && d <= 1e-5))
          throw InputError(yaml_where(v, e.file()), fmt::format("{}{}dynamics.mean_inputs_A: '{}' is not a current in (0, 1e-5] A", e.context(),
                                                                e.context().empty() ? "" : ".", v.IsScalar() ? v.Scalar() : "(non-scalar)"));
        x.dyn_levels.push_back(d);
      }
    }
  }
  return x;
}

void read_run_settings(const YamlMap& m, RunConfig& c) {
  c.corner = read_corner(m, {});
  c.out = m.get_string("out", c.out);
  c.process = m.get_string("process", "");
  c.jobs = static_cast<int>(m.get_int("jobs", 2));
  if (c.jobs < 1 || c.jobs > 256) m.fail("jobs", "expected 1..256");
}

RunConfig parse_run_config(const std::string& text, const std::string& name) {
  RunConfig c;
  c.source = name;
  c.text = text;
  const YAML::Node root = parse_yaml(text, name);
  YamlMap m(root, name, "");
  m.check_keys({"out", "process", "jobs", "temp_C", "vdd_V", "experiments"});
  read_run_settings(m, c);
  const YAML::Node ex = root["experiments"];
  if (!ex || !ex.IsSequence() || ex.size() == 0)
    throw InputError(m.where("experiments"), "experiments: expected a non-empty list of experiments");
  std::map<std::string, int> seen;
  for (std::size_t k = 0; k < ex.size(); ++k) {
    YamlMap e(ex[k], name, fmt::format("experiments[{}]", k));
    e.check_keys(experiment_keys({"name"}));
    const std::string x_name = e.get_string("name");
    if (x_name.empty() || x_name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos)
      e.fail("name", "expected letters, digits, '-' or '_' (it names a folder)");
    if (seen[x_name]++) e.fail("name", "names must be unique");
    Experiment x = parse_experiment(e, c.corner);
    x.name = x_name;
    c.experiments.push_back(x);
  }
  return c;
}

}  // namespace nnspice::tools

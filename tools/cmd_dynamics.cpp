// nnspice dynamics: the paper's pattern-switch experiment (circuits.md §6) on a chip — time to output
// and energy per operation from transients with the synapse parasitics, at one or more mean input
// levels; per-pattern tables, summary.json and the figures of the paper's Fig. 3 and 4.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "cli_util.hpp"
#include "mpi_env.hpp"
#include "commands.hpp"
#include "net_inputs.hpp"
#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/dynamics/experiment.hpp"
#include "nnspice/dynamics/figures.hpp"
#include "nnspice/dynamics/metrics.hpp"
#include "nnspice/dynamics/tabulated.hpp"
#include "nnspice/engine/decomposed_dc.hpp"
#include "nnspice/engine/method.hpp"
#if __has_include("nnspice/train/dataset.hpp")
#include "nnspice/train/dataset.hpp"
#define NNSPICE_DYNAMICS_HAVE_TRAIN 1
#endif

namespace nnspice::tools {
namespace {

using nlohmann::json;

std::string level_name(double mean_A) {
  const double na = mean_A * 1e9;
  return std::fabs(na - std::round(na)) < 1e-6 ? fmt::format("{}nA", std::llround(na)) : fmt::format("{:.3g}nA", na);
}

struct Patterns {
  std::vector<std::vector<double>> x;  // raw features (any scale) or currents (A)
  std::vector<int> labels;
  std::string source;
  bool in_amperes = false;
};

Patterns load_pattern_file(const std::string& path, std::size_t n0) {
  Patterns p;
  std::vector<double> data;
  std::size_t rows = 0, cols = 0;
  if (std::filesystem::path(path).extension() == ".npy") {
    NpyArray a = read_npy(path);
    if (a.shape.size() == 1) a.shape = {1, a.shape[0]};
    if (a.shape.size() != 2) throw InputError(fmt::format("{}: patterns must be a 2-D array (samples, N0)", path));
    rows = a.shape[0];
    cols = a.shape[1];
    data = std::move(a.data);
  } else {
    CsvTable t = read_csv(path);
    rows = t.rows;
    cols = t.cols;
    data = std::move(t.data);
  }
  if (cols != n0) throw InputError(fmt::format("{}: {} columns, the network has {} inputs", path, cols, n0));
  if (rows == 0) throw InputError(fmt::format("{}: no patterns", path));
  for (std::size_t r = 0; r < rows; ++r) {
    p.x.emplace_back(data.begin() + static_cast<long>(r * cols), data.begin() + static_cast<long>((r + 1) * cols));
    for (std::size_t c = 0; c < cols; ++c)
      if (!std::isfinite(p.x.back()[c]) || p.x.back()[c] < 0)
        throw InputError(fmt::format("{}: row {}, column {}: value {} (patterns are non-negative input currents)", path, r, c, p.x.back()[c]));
  }
  p.source = path;
  return p;
}

std::vector<int> load_labels(const std::string& path, std::size_t n, int n_classes) {
  std::vector<double> v;
  if (std::filesystem::path(path).extension() == ".npy") {
    v = read_npy(path).data;
  } else {
    const CsvTable t = read_csv(path);
    if (t.cols != 1) throw InputError(fmt::format("{}: labels need one column, found {}", path, t.cols));
    v = t.data;
  }
  if (v.size() != n) throw InputError(fmt::format("{}: {} labels for {} patterns", path, v.size(), n));
  std::vector<int> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!(v[i] >= 0 && v[i] < 1e6 && v[i] == std::floor(v[i])))
      throw InputError(fmt::format("{}: label {} = {} is not a class index (integer >= 0)", path, i, v[i]));
    if (v[i] >= n_classes)  // never predicted: the accuracy would silently count it wrong
      throw InputError(fmt::format("{}: label {} = {}: outside the class range 0..{} of the network's {} outputs", path, i, v[i], n_classes - 1, n_classes));
    out.push_back(static_cast<int>(v[i]));
  }
  return out;
}

}  // namespace

int cmd_dynamics(int argc, char** argv) {
  po::options_description o("Options");
  add_network_options(o);
  o.add_options()
    ("patterns", po::value<std::string>(), "CSV/NPY of patterns (samples x N0): input currents in A, or any non-negative scale with --mean-input")
    ("labels", po::value<std::string>(), "CSV/NPY of the patterns' classes (for accuracy)")
    ("dataset", po::value<std::string>(), "iris | mnist: the test split, preprocessed as `nnspice train` does")
    ("mnist", po::value<std::string>(), "MNIST IDX directory (default $NNSPICE_MNIST_DIR, else /usr/local/share/nnspice/mnist)")
    ("iris-csv", po::value<std::string>(), "Iris CSV (default: the shipped data/datasets/iris.csv)")
    ("data-seed", seed_value()->default_value(1), "seed of the data set split (Iris: must match training)")
    ("random-patterns", count_value(), "N random patterns (uniform features, seeded by --pattern-seed) instead of a data set")
    ("pattern-seed", seed_value()->default_value(1), "seed of --random-patterns and of the settle-pattern choice")
    ("count,n", count_value(), "simulate only the first N patterns")
    ("mean-input", po::value<std::string>()->default_value("15e-9,45e-9"), "mean input current per input (A) each pattern is scaled to; a comma list runs one level each; 'none' = patterns are in A")
    ("t-stop", po::value<std::string>(), "transient length per level (s); default 15e-6 below 30 nA mean input, else 7e-6")
    ("window", po::value<std::string>(), "evaluation window per level (s; correct within / energy per pattern); default = --t-stop")
    ("tmax", po::value<double>()->default_value(20e-9), "maximum time step (s); 1e-7 gave times to output within 1 % of 2e-8 on 4-7-3 at 2x fewer Newton iterations (docs/dynamics.md)")
    ("tstep", po::value<double>(), "output time step (s), also the layer-wise driver grid (breakpoints); default = --tmax")
    ("ramp", po::value<double>()->default_value(1e-9), "input ramp from pattern A to B (s)")
    ("method", po::value<std::string>()->default_value("auto"), "full | layerwise | tabulated | auto (full below 20,000 transistors, else tabulated)")
    ("audit", po::value<std::size_t>()->default_value(20), "tabulated (native engine): synapses per layer re-tabulated by ngspice and compared "
                                                           "point by point (summary.json tabulated_model.engine_audit; 0 = off)")
    ("table-cache", po::value<std::string>()->default_value(""), "tabulated: folder of synapse tables of this chip, shared with "
     "`nnspice evaluate`/`characterize --table-cache` (reused and extended)")
    ("chunk", po::value<std::size_t>()->default_value(0), "layerwise: post-neurons per stage netlist (0 = whole layer)")
    ("asymptotic", po::value<std::string>()->default_value("op"), "op (DC operating point of the new pattern) | final (last transient sample)")
    ("from", po::value<std::string>()->default_value("random"), "pattern settled on before each switch: random (another pattern) | previous")
    ("validate", po::value<std::size_t>()->default_value(0), "also run the first N patterns with a reference method and compare (validation.json)")
    ("validate-method", po::value<std::string>(), "reference of --validate: full | layerwise | tabulated (default: full, or layerwise when --method is full)")
    ("figure-pattern", po::value<std::size_t>()->default_value(0), "pattern whose unit currents are plotted (Fig. 3)")
    ("jobs,j", jobs_value()->default_value(1), "worker processes (1..max(4 x cores, 256))")
    ("timeout", po::value<double>()->default_value(0), "wall-clock limit per pattern in s (0 = none)")
    ("resume", po::bool_switch(), "reuse finished patterns from an earlier run into the same --out")
    ("no-progress", po::bool_switch(), "no progress line")
    ("log-stages", po::bool_switch(), "print one line per ngspice transient (stage, elements, time points, Newton iterations, seconds)")
    ("out,o", po::value<std::string>()->required(), "output directory");
  po::variables_map vm;
  if (!parse_options(argc, argv, o, vm,
                     "nnspice dynamics --layers 4-7-3 [--chip FILE] [--weights DIR] (--dataset iris|mnist | --patterns F | --random-patterns N) --out DIR",
                     "The paper's pattern-switch experiment: settle on one pattern, switch the input currents to the pattern under\n"
                     "test (1 ns ramp), transient with the 11 fF/synapse parasitics; time to output = time after which the output\n"
                     "class (argmax of the output soma currents) equals the asymptotic class (DC op of the new pattern) for good;\n"
                     "energy = VDD x integral of the supply current from the switch to the time to output (also reported with\n"
                     "the input currents counted as drawn from VDD); ops = sum N_l N_l+1. Writes per level DIR/level_<I>/:\n"
                     "patterns.csv/.npy, energy_curves.npy, summary.json, fig3_transient.png; and DIR/summary.json, run.json,\n"
                     "fig4_tto_power.png, fig4_energy_runtime.png. A failed transient is recorded for its pattern; the run goes on.\n"
      "Methods: full (the whole netlist in ngspice), layerwise (one ngspice transient per weight layer), tabulated\n"
      "(node equations from the chip's DC tables and calibrated node charges Q(V); seconds per pattern at\n"
      "196-100-50-10; validated against full with --validate, docs/dynamics.md).\n"
      "Under MPI (mpirun -np K nnspice dynamics ...) the ranks split the patterns and the tables; the results are those\n"
      "of one process, rank 0 writes them."))
    return 0;

  NetworkInputs net = resolve_network_inputs(vm);
  const std::size_t n0 = static_cast<std::size_t>(net.spec.layers[0]);
  const int n_sources = static_cast<int>(vm.count("patterns")) + static_cast<int>(vm.count("dataset")) + static_cast<int>(vm.count("random-patterns"));
  if (n_sources != 1) throw InputError("give exactly one of --patterns FILE, --dataset iris|mnist, --random-patterns N");

  Patterns pat;
  if (vm.count("patterns")) {
    pat = load_pattern_file(vm["patterns"].as<std::string>(), n0);
    if (vm.count("labels")) pat.labels = load_labels(vm["labels"].as<std::string>(), pat.x.size(), net.spec.layers.back());
  } else if (vm.count("dataset")) {
    if (vm.count("labels")) throw InputError("--labels is for --patterns (a data set brings its labels)");
#ifndef NNSPICE_DYNAMICS_HAVE_TRAIN
    throw InputError("--dataset: this nnspice was built without the train library; give --patterns FILE instead");
#else
    train::DatasetOptions d;
    d.name = vm["dataset"].as<std::string>();
    if (d.name != "iris" && d.name != "mnist") throw InputError(fmt::format("--dataset '{}': expected iris or mnist", d.name));
    if (vm.count("mnist")) d.mnist_dir = vm["mnist"].as<std::string>();
    if (vm.count("iris-csv")) d.iris_csv = vm["iris-csv"].as<std::string>();
    d.seed = vm["data-seed"].as<std::uint64_t>();
    if (vm.count("count")) d.test_limit = vm["count"].as<std::size_t>();
    const train::DataSplits s = train::load_dataset(d);
    if (s.test.features() != n0)
      throw InputError(fmt::format("--dataset {}: {} features, the network has {} inputs", d.name, s.test.features(), n0));
    for (std::size_t k = 0; k < s.test.size(); ++k) {
      std::vector<double> row(n0);
      for (std::size_t i = 0; i < n0; ++i) row[i] = s.test.x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k));
      pat.x.push_back(row);
      pat.labels.push_back(s.test.y[k]);
    }
    pat.source = fmt::format("{} test split (seed {})", d.name, d.seed);
#endif
  } else {
    const std::size_t n = vm["random-patterns"].as<std::size_t>();
    if (n < 1 || n > 1000000) throw InputError(fmt::format("--random-patterns {}: need 1..1000000", n));
    Rng rng = Rng::stream(vm["pattern-seed"].as<std::uint64_t>(), "dynamics-patterns");
    for (std::size_t k = 0; k < n; ++k) {
      std::vector<double> row(n0);
      for (double& x : row) x = rng.uniform();
      pat.x.push_back(row);
    }
    pat.source = fmt::format("random uniform features (seed {})", vm["pattern-seed"].as<std::uint64_t>());
  }
  if (vm.count("count")) {
    const std::size_t c = vm["count"].as<std::size_t>();
    if (c < 1) throw InputError("--count must be >= 1");
    if (pat.x.size() > c) {
      pat.x.resize(c);
      if (!pat.labels.empty()) pat.labels.resize(c);
    }
  }
  const std::size_t n = pat.x.size();

  // Levels.
  std::vector<double> levels;
  const std::string mi = vm["mean-input"].as<std::string>();
  if (mi == "none") {
    levels.push_back(0);  // patterns are in A
  } else {
    levels = parse_number_list(mi, "mean-input");
    for (double x : levels)
      if (!(x > 0 && x <= 1e-4)) throw InputError(fmt::format("--mean-input {} A: need 0 < I <= 1e-4", x));
  }
  auto per_level = [&](const char* option, std::vector<double> dflt) {
    if (!vm.count(option)) return dflt;
    auto v = parse_number_list(vm[option].as<std::string>(), option);
    if (v.size() == 1) v.assign(levels.size(), v[0]);
    if (v.size() != levels.size()) throw InputError(fmt::format("--{}: {} values for {} input levels", option, v.size(), levels.size()));
    return v;
  };
  std::vector<double> dstop;
  for (double x : levels) dstop.push_back(x > 0 && x >= 30e-9 ? 7e-6 : 15e-6);
  const auto t_stop = per_level("t-stop", dstop);
  const auto window = per_level("window", t_stop);

  dynamics::SwitchOptions sw;
  sw.t_max_s = vm["tmax"].as<double>();
  sw.t_step_s = vm.count("tstep") ? vm["tstep"].as<double>() : sw.t_max_s;
  sw.ramp_s = vm["ramp"].as<double>();
  sw.chunk = vm["chunk"].as<std::size_t>();
  sw.log_stages = vm["log-stages"].as<bool>();
  const std::string asym = vm["asymptotic"].as<std::string>();
  if (asym != "op" && asym != "final") throw InputError(fmt::format("--asymptotic '{}': expected op or final", asym));
  sw.asymptotic_op = asym == "op";
  const std::string method = vm["method"].as<std::string>();
  const std::size_t n_fets = netlist::count_transistors(net.spec);
  sw.method = method == "auto" ? (engine::use_fast_engine(net.spec) ? dynamics::Method::tabulated : dynamics::Method::full) : dynamics::parse_method(method);
  const dynamics::Method reference =
      vm.count("validate-method") ? dynamics::parse_method(vm["validate-method"].as<std::string>())
                                  : (sw.method == dynamics::Method::full ? dynamics::Method::layerwise : dynamics::Method::full);
  if (vm["validate"].as<std::size_t>() > 0 && reference == sw.method)
    throw InputError(fmt::format("--validate-method {}: the reference must differ from --method", dynamics::method_name(reference)));
  for (std::size_t k = 0; k < levels.size(); ++k) {
    auto s2 = sw;
    s2.t_stop_s = t_stop[k];
    s2.validate();
    if (!(window[k] > 0 && window[k] <= t_stop[k])) throw InputError(fmt::format("--window {} s: need 0 < window <= t-stop ({} s)", window[k], t_stop[k]));
  }
  const std::string from = vm["from"].as<std::string>();
  if (from != "random" && from != "previous") throw InputError(fmt::format("--from '{}': expected random or previous", from));
  const std::size_t n_validate = std::min(vm["validate"].as<std::size_t>(), n);
  // Not silently clamped to the last pattern (issue 17, class 5): a figure of another pattern than asked for.
  if (vm["figure-pattern"].as<std::size_t>() >= n)
    throw InputError(fmt::format("--figure-pattern = {}: must be < {} (the number of patterns)", vm["figure-pattern"].as<std::size_t>(), n));
  const double timeout = vm["timeout"].as<double>();
  if (!(timeout >= 0)) throw InputError(fmt::format("--timeout {}: must be >= 0", timeout));

  std::vector<std::size_t> from_idx(n, 0);
  {
    Rng rng = Rng::stream(vm["pattern-seed"].as<std::uint64_t>(), "dynamics-from");
    for (std::size_t k = 0; k < n; ++k) {
      if (n == 1) break;
      if (from == "previous") {
        from_idx[k] = (k + n - 1) % n;
      } else {
        std::size_t j = static_cast<std::size_t>(rng.below(n - 1));
        from_idx[k] = j >= k ? j + 1 : j;
      }
    }
  }

  const std::string out = vm["out"].as<std::string>();
  make_dirs(out);
  // Under MPI every rank runs this whole command; the patterns (and the tabulation) are dealt out, every rank ends
  // with the same results, and rank 0 alone prints and writes.
  MpiEnv& mpi = MpiEnv::instance();
  const bool root = mpi.rank() == 0;
  if (!root && !std::freopen("/dev/null", "w", stdout)) throw std::runtime_error("cannot silence stdout of MPI rank");
  sim::NetworkChip chip{net.spec, net.process, net.chip};
  sim::ParallelOptions par;
  par.workers = vm["jobs"].as<int>();
  par.job_timeout_s = timeout;
  const bool progress = !vm["no-progress"].as<bool>();

  auto needs_gate_load = [&](dynamics::Method m) { return m == dynamics::Method::layerwise; };
  dynamics::GateLoad gate_load;
  bool have_gate_load = false;
  auto ensure_gate_load = [&]() {
    if (have_gate_load) return;
    sim::ParallelOptions p1;
    p1.workers = 1;
    auto res = sim::run_parallel(1, [&](sim::Session& s, std::size_t) {
      const auto g = dynamics::calibrate_gate_load(s, net.process);
      sim::JobData d;
      d["n"] = std::vector<double>(g.c_n_F.begin(), g.c_n_F.end());
      d["p"] = std::vector<double>(g.c_p_F.begin(), g.c_p_F.end());
      d["v"] = {g.v_n_lo_V, g.v_n_hi_V, g.v_p_lo_V, g.v_p_hi_V};
      return d;
    }, p1);
    if (!res[0].ok) throw sim::SimError("gate-load calibration failed: " + res[0].error);
    gate_load.c_n_F = res[0].data.at("n");
    gate_load.c_p_F = res[0].data.at("p");
    const auto& v = res[0].data.at("v");
    gate_load.v_n_lo_V = v[0], gate_load.v_n_hi_V = v[1], gate_load.v_p_lo_V = v[2], gate_load.v_p_hi_V = v[3];
    have_gate_load = true;
    std::string cn, cp;
    for (std::size_t k = 0; k < gate_load.c_n_F.size(); ++k) cn += fmt::format(" {:.2f}", gate_load.c_n_F[k] * 1e15), cp += fmt::format(" {:.2f}", gate_load.c_p_F[k] * 1e15);
    fmt::print("gate load per synapse (fF), codes -{}..{}: Vn{}\n                                          Vp{}\n", gate_load.max_code(), gate_load.max_code(), cn, cp);
  };
  auto gate_json = [&]() {
    return have_gate_load ? json{{"c_n_F", gate_load.c_n_F}, {"c_p_F", gate_load.c_p_F}, {"v_n_range_V", {gate_load.v_n_lo_V, gate_load.v_n_hi_V}},
                                 {"v_p_range_V", {gate_load.v_p_lo_V, gate_load.v_p_hi_V}}}
                          : json(nullptr);
  };

  // The tabulated model: the chip's DC tables for these weights and the node capacitances.
  std::shared_ptr<const dynamics::TabulatedModel> tab_model;
  json tab_json = nullptr;
  auto ensure_tabulated = [&]() {
    if (tab_model) return;
    engine::DecomposedOptions dopt;
    dopt.parallel = par;
    dopt.parallel.job_timeout_s = 0;
    dopt.cache_dir = vm["table-cache"].as<std::string>();
    dopt.progress = progress && root;
    const Exchange ex = mpi.exchange();
    if (ex.distributed()) dopt.chunk_owner = [ex](std::size_t c) { return ex.owns(c); };
    auto solver = std::make_shared<engine::DecomposedSolver>(chip, dopt);
    solver->tabulate(net.weights);
    if (ex.distributed()) {
      const auto all = ex.allgather(solver->export_tables());
      for (int k = 0; k < ex.size; ++k)
        if (k != ex.rank) solver->import_tables(all[static_cast<std::size_t>(k)]);
    }
    engine::DecomposedSolver::Audit audit;
    if (root) {  // the audit goes into rank 0's summary only
      audit = solver->audit(net.weights, vm["audit"].as<std::size_t>());
      engine::report_audit(audit, "dynamics");
    }
    const auto& st = solver->stats();
    sim::ParallelOptions p1;
    p1.workers = 1;
    auto res = sim::run_parallel(1, [&](sim::Session& s, std::size_t) {
      sim::JobData d;
      d["caps"] = dynamics::calibrate_node_caps(s, net.process).pack();
      return d;
    }, p1);
    if (!res[0].ok) throw sim::SimError("node-charge calibration failed: " + res[0].error);
    const dynamics::NodeCaps caps = dynamics::NodeCaps::unpack(res[0].data.at("caps"));
    tab_model = std::make_shared<dynamics::TabulatedModel>(solver, caps);
    // Reported as ΔQ/ΔV over the calibration span (a nominal soma at 1-100 nA); the model uses the curves.
    auto mean = [](const dynamics::ChargeCurve& cv, const std::array<double, 2>& sp) { return cv.mean(sp[0], sp[1]); };
    std::vector<double> c_n, c_p, c_o, m_n, m_p;
    for (std::size_t k = 0; k < caps.out.size(); ++k) {
      c_n.push_back(mean(caps.gate_n[k], caps.span_n_V));
      c_p.push_back(mean(caps.gate_p[k], caps.span_p_V));
      c_o.push_back(mean(caps.out[k], caps.span_g_V));
      m_n.push_back(mean(caps.couple_n[k], caps.span_n_V));
      m_p.push_back(mean(caps.couple_p[k], caps.span_p_V));
    }
    auto slopes = [](const std::vector<double>& v, bool reversed) {  // in order of rising current
      std::string t;
      for (std::size_t k = 0; k < v.size(); ++k) t += fmt::format(" {:.3f}", v[reversed ? v.size() - 1 - k : k]);
      return t;
    };
    auto row = [](const std::vector<double>& v) {
      std::string t;
      for (double x : v) t += fmt::format(" {:.2f}", x * 1e15);
      return t;
    };
    const double cg = mean(caps.soma_g, caps.span_g_V), cpp = mean(caps.soma_p, caps.span_p_V), cnn = mean(caps.soma_n, caps.span_n_V),
                 cgo = mean(caps.output_g, caps.span_g_V),
                 cgp = mean(caps.soma_gp, caps.span_g_V), cpn = mean(caps.soma_pn, caps.span_p_V);
    fmt::print("tables: {} synapse tables ({} method; {} ngspice sweep jobs, {} from the cache, {:.0f} s)\n"
               "device charge per synapse (fF, mean over 1-100 nA; the model uses Q(V)), codes -K..K: Vn{}\n"
               "                                            Vp{}\n"
               "                                            out{}\n"
               "                           coupling out-Vn{}\n"
               "                           coupling out-Vp{}\n"
               "soma nodes (fF): input {:.2f}, Vp {:.2f}, Vn {:.2f}, output soma + sink {:.2f}; coupling input-Vp {:.2f}, Vp-Vn {:.2f}\n"
               "Early slopes (1/V, 0.1 nA .. 1 uA): M1{}; M3{}\n",
               st.synapse_tables, engine::synapse_tables_name(dopt.synapse_tables), st.sweep_jobs, st.cached_jobs, st.tabulate_s, row(c_n), row(c_p),
               row(c_o), row(m_n), row(m_p), cg * 1e15, cpp * 1e15, cnn * 1e15, cgo * 1e15, cgp * 1e15, cpn * 1e15,
               slopes(caps.early.m1_per_V, false), slopes(caps.early.m3_per_V, true));
    auto curve = [](const dynamics::ChargeCurve& cv) { return json{{"v0_V", cv.v0_V}, {"dv_V", cv.dv_V}, {"c_F", cv.c_F}}; };
    auto curves = [&](const std::vector<dynamics::ChargeCurve>& v) {
      json a = json::array();
      for (const auto& cv : v) a.push_back(curve(cv));
      return a;
    };
    tab_json = {{"gate_c_n_F", c_n}, {"gate_c_p_F", c_p}, {"out_F", c_o},
                {"soma_g_F", cg}, {"soma_p_F", cpp}, {"soma_n_F", cnn}, {"output_g_F", cgo},
                {"couple_n_F", m_n}, {"couple_p_F", m_p}, {"soma_gp_F", cgp}, {"soma_pn_F", cpn},
                {"charge_curves", {{"out", curves(caps.out)}, {"gate_n", curves(caps.gate_n)}, {"gate_p", curves(caps.gate_p)},
                                   {"soma_g", curve(caps.soma_g)}, {"soma_p", curve(caps.soma_p)}, {"soma_n", curve(caps.soma_n)},
                                   {"output_g", curve(caps.output_g)}, {"couple_n", curves(caps.couple_n)},
                                   {"couple_p", curves(caps.couple_p)}, {"soma_gp", curve(caps.soma_gp)}, {"soma_pn", curve(caps.soma_pn)}}},
                {"early_slopes", {{"g_V", caps.early.g_V}, {"m1_per_V", caps.early.m1_per_V}, {"p_V", caps.early.p_V}, {"m3_per_V", caps.early.m3_per_V}}},
                {"synapse_tables", st.synapse_tables}, {"sweep_jobs", st.sweep_jobs}, {"cached_jobs", st.cached_jobs},
                {"tabulate_s", st.tabulate_s}, {"table_cache", dopt.cache_dir}, {"engine", engine::to_json(st, dopt.synapse_tables)},
                {"engine_audit", engine::to_json(audit)}};
  };
  auto prepare = [&](dynamics::SwitchOptions& o) {
    if (needs_gate_load(o.method)) {
      ensure_gate_load();
      o.gate_load = gate_load;
    }
    if (o.method == dynamics::Method::tabulated) {
      ensure_tabulated();
      o.tabulated = tab_model;
    }
  };

  auto scaled = [&](double level) {
    std::vector<std::vector<double>> x = pat.x;
    if (level > 0) {
      for (std::size_t k = 0; k < x.size(); ++k) {
        double sum = 0;
        for (double v : x[k]) sum += v;
        if (!(sum > 0)) throw InputError(fmt::format("pattern {} is all zero: it cannot be scaled to a mean input of {} A", k, level));
        for (double& v : x[k]) v *= level * static_cast<double>(n0) / sum;
      }
    }
    for (std::size_t k = 0; k < x.size(); ++k)
      for (std::size_t i = 0; i < n0; ++i)
        if (x[k][i] > 1e-3)
          throw InputError(fmt::format("pattern {}, input {}: {} A is above 1e-3 A (use --mean-input to scale the patterns)", k, i, x[k][i]));
    return x;
  };

  json levels_json = json::array();
  std::vector<dynamics::LevelSeries> series;
  const double ops = static_cast<double>(net.spec.n_ops());
  fmt::print("network {} ({} transistors, {} ops/pattern), chip {}, weights {}, {} patterns from {}, method {}\n", net.spec.str(), n_fets,
             net.spec.n_ops(), net.chip_from_file ? net.chip_path : fmt::format("seed {}", net.chip.seed), net.weights_source, n, pat.source,
             dynamics::method_name(sw.method));
  for (std::size_t li = 0; li < levels.size(); ++li) {
    const std::string name = levels[li] > 0 ? level_name(levels[li]) : "as_given";
    dynamics::ExperimentConfig cfg;
    cfg.chip = chip;
    cfg.weights = net.weights;
    cfg.patterns_A = scaled(levels[li]);
    cfg.labels = pat.labels;
    cfg.from = from_idx;
    cfg.sw = sw;
    cfg.sw.t_stop_s = t_stop[li];
    cfg.window_s = window[li];
    cfg.parallel = par;
    cfg.out_dir = out + "/level_" + name;
    cfg.resume = vm["resume"].as<bool>();
    cfg.figure_pattern = vm["figure-pattern"].as<std::size_t>();
    cfg.progress = progress;
    cfg.name = name;
    cfg.exchange = mpi.exchange();
    prepare(cfg.sw);
    const auto res = dynamics::run_experiment(cfg);
    json summary = res.summary;
    summary["mean_input_A"] = levels[li] > 0 ? json(levels[li]) : json(nullptr);
    summary["t_stop_s"] = t_stop[li];
    summary["t_max_s"] = sw.t_max_s;
    summary["gate_load"] = gate_json();
    summary["tabulated_model"] = tab_json;
    if (root) write_json(cfg.out_dir + "/summary.json", summary);
    if (root) write_run_json(cfg.out_dir, {{"network", net.describe()}, {"level", name}, {"method", dynamics::method_name(sw.method)}, {"mpi_ranks", mpi.size()}});
    if (root) dynamics::plot_unit_traces(cfg.out_dir, "fig3_transient", res.fig_time_s,
                               [&] {
                                 auto u = res.fig_units_A;
                                 if (!res.fig_output_A.empty()) u.push_back(res.fig_output_A);
                                 return u;
                               }(),
                               fmt::format("{} chip, {} mean input: pattern {} after switching from pattern {}", net.spec.str(), name,
                                           cfg.figure_pattern, from_idx[cfg.figure_pattern]));
    dynamics::LevelSeries ls;
    ls.name = levels[li] > 0 ? fmt::format("{:g} nA", levels[li] * 1e9) : "as given";
    ls.run_time_s = res.run_time_s;
    ls.curve_mean_J.assign(res.run_time_s.size(), 0);
    ls.curve_sd_J.assign(res.run_time_s.size(), 0);
    for (std::size_t t = 0; t < res.run_time_s.size(); ++t) {
      std::vector<double> col;
      for (const auto& r : res.records)
        if (r.ok && t < r.energy_curve_J.size()) col.push_back(r.energy_curve_J[t]);
      const auto st = dynamics::statistics(col);
      ls.curve_mean_J[t] = st.mean;
      ls.curve_sd_J[t] = st.sd;
    }
    for (const auto& r : res.records)
      if (r.ok && r.m.time_to_output_s > 0) {
        ls.tto_s.push_back(r.m.time_to_output_s);
        ls.power_W.push_back(r.m.power_tto_W);
        ls.energy_tto_J.push_back(r.m.energy_tto_J);
      }
    series.push_back(ls);
    levels_json.push_back(summary);
    const auto& tt = summary["time_to_output_s"];
    fmt::print("{}: {} patterns, {} failed; reached {:.1f} %; time to output {:.3g} +- {:.3g} us; {:.3g} TOp/J to output ({:.3g} pJ/op); "
               "{:.3g} pJ/op over {:.3g} us\n",
               name, n, summary["failed"].get<std::size_t>(), 100 * summary["reached_fraction"].get<double>(),
               tt["mean"].is_number() ? tt["mean"].get<double>() * 1e6 : NAN, tt["sd"].is_number() ? tt["sd"].get<double>() * 1e6 : NAN,
               summary["efficiency_to_output_TOp_per_J"]["mean"].is_number() ? summary["efficiency_to_output_TOp_per_J"]["mean"].get<double>() : NAN,
               summary["energy_per_op_to_output_pJ"]["mean"].is_number() ? summary["energy_per_op_to_output_pJ"]["mean"].get<double>() : NAN,
               summary["energy_per_op_window_pJ"]["mean"].is_number() ? summary["energy_per_op_window_pJ"]["mean"].get<double>() : NAN,
               window[li] * 1e6);
    if (summary.contains("accuracy_asymptotic"))
      fmt::print("{}: accuracy (asymptotic class) {:.1f} %, correct within the window {:.1f} %\n", name,
                 100 * summary["accuracy_asymptotic"].get<double>(), 100 * summary["correct_within_window_fraction"].get<double>());
  }
  if (root) dynamics::plot_tto_vs_power(out, "fig4_tto_power", series, fmt::format("{} chip: time to output vs average power", net.spec.str()));
  if (root) dynamics::plot_energy_vs_runtime(out, "fig4_energy_runtime", series, ops, fmt::format("{} chip: energy per operation vs run time", net.spec.str()));

  // Validation of the method against the other one on the first patterns (first level).
  json validation = nullptr;
  if (n_validate > 0) {
    const dynamics::Method other = reference;
    const std::string mname = dynamics::method_name(sw.method), rname = dynamics::method_name(reference);
    json rows = json::array();
    std::vector<std::vector<dynamics::PatternRecord>> recs;
    for (dynamics::Method m : {sw.method, other}) {
      dynamics::ExperimentConfig cfg;
      cfg.chip = chip;
      cfg.weights = net.weights;
      cfg.patterns_A = scaled(levels[0]);
      cfg.patterns_A.resize(n_validate);
      cfg.labels.clear();
      cfg.from.assign(from_idx.begin(), from_idx.begin() + static_cast<long>(n_validate));
      for (auto& f : cfg.from) f = std::min(f, n_validate - 1);  // settle patterns must be among the validated ones
      if (n_validate > 1)
        for (std::size_t k = 0; k < n_validate; ++k)
          if (cfg.from[k] == k) cfg.from[k] = (k + 1) % n_validate;
      cfg.patterns_A.resize(n_validate);
      cfg.sw = sw;
      cfg.sw.method = m;
      cfg.sw.t_stop_s = t_stop[0];
      cfg.window_s = window[0];
      cfg.parallel = par;
      cfg.out_dir = out + "/validate_" + dynamics::method_name(m);
      cfg.figure_pattern = std::numeric_limits<std::size_t>::max();
      cfg.progress = progress;
      cfg.name = std::string("validate ") + dynamics::method_name(m);
      cfg.exchange = mpi.exchange();
      prepare(cfg.sw);
      recs.push_back(dynamics::run_experiment(cfg).records);
    }
    std::vector<double> rel, erel, erel_tto;
    std::size_t same_class = 0;
    for (std::size_t k = 0; k < n_validate; ++k) {
      const auto& a = recs[0][k];
      const auto& b = recs[1][k];
      json row = {{"pattern", k}, {"ok", a.ok && b.ok}};
      if (a.ok && b.ok) {
        // a: this run's method, b: the reference.
        const double ta = a.m.time_to_output_s, tb = b.m.time_to_output_s;
        row["tto_" + mname + "_s"] = ta;
        row["tto_" + rname + "_s"] = tb;
        row["energy_tto_" + mname + "_J"] = a.m.energy_tto_J;
        row["energy_tto_" + rname + "_J"] = b.m.energy_tto_J;
        row["energy_window_" + mname + "_J"] = a.m.energy_window_J;
        row["energy_window_" + rname + "_J"] = b.m.energy_window_J;
        row["class_" + mname] = a.m.asymptotic_class;
        row["class_" + rname] = b.m.asymptotic_class;
        row["wall_" + mname + "_s"] = a.wall_s;
        row["wall_" + rname + "_s"] = b.wall_s;
        same_class += a.m.asymptotic_class == b.m.asymptotic_class;
        if (tb > 0 && ta >= 0) {
          row["tto_rel_diff"] = (ta - tb) / tb;
          rel.push_back(std::fabs(ta - tb) / tb);
        }
        if (b.m.energy_window_J > 0) {
          row["energy_window_rel_diff"] = (a.m.energy_window_J - b.m.energy_window_J) / b.m.energy_window_J;
          erel.push_back(std::fabs(a.m.energy_window_J - b.m.energy_window_J) / b.m.energy_window_J);
        }
        if (b.m.energy_tto_J > 0 && a.m.energy_tto_J > 0) erel_tto.push_back(std::fabs(a.m.energy_tto_J - b.m.energy_tto_J) / b.m.energy_tto_J);
      }
      rows.push_back(row);
    }
    const auto st = dynamics::statistics(rel);
    validation = {{"patterns", n_validate},
                  {"level", levels[0] > 0 ? level_name(levels[0]) : "as_given"},
                  {"same_asymptotic_class", same_class},
                  {"tto_abs_rel_diff", {{"n", st.n}, {"mean", st.n ? json(st.mean) : json(nullptr)}, {"max", st.n ? json(st.max) : json(nullptr)}}},
                  {"method", mname},
                  {"reference", rname},
                  {"within_5_percent", std::count_if(rel.begin(), rel.end(), [](double r) { return r <= 0.05; })},
                  {"energy_window_abs_rel_diff", {{"mean", erel.empty() ? json(nullptr) : json(dynamics::statistics(erel).mean)},
                                                  {"max", erel.empty() ? json(nullptr) : json(dynamics::statistics(erel).max)}}},
                  {"energy_tto_abs_rel_diff", {{"mean", erel_tto.empty() ? json(nullptr) : json(dynamics::statistics(erel_tto).mean)},
                                               {"max", erel_tto.empty() ? json(nullptr) : json(dynamics::statistics(erel_tto).max)}}},
                  {"rows", rows}};
    if (root) write_json(out + "/validation.json", validation);
    fmt::print("validation ({} vs {}, {} patterns): |rel. diff of time to output| mean {:.2f} %, max {:.2f} % over {} patterns with time to output > 0; "
               "same asymptotic class {}/{}; window energy |rel. diff| mean {:.2f} %\n",
               mname, rname, n_validate, st.n ? 100 * st.mean : NAN, st.n ? 100 * st.max : NAN, st.n, same_class, n_validate,
               erel.empty() ? NAN : 100 * dynamics::statistics(erel).mean);
  }

  json top = {{"network", net.describe()},
              {"transistors", n_fets},
              {"operations_per_pattern", net.spec.n_ops()},
              {"patterns", n},
              {"pattern_source", pat.source},
              {"method", dynamics::method_name(sw.method)},
              {"chunk", sw.chunk},
              {"asymptotic", asym},
              {"from", from},
              {"ramp_s", sw.ramp_s},
              {"t_max_s", sw.t_max_s},
              {"t_step_s", sw.t_step_s},
              {"gate_load", gate_json()},
              {"tabulated_model", tab_json},
              {"ngspice", sim::Session::ngspice_version()},
              {"levels", levels_json},
              {"validation", validation}};
  std::size_t failed = 0;
  for (const auto& l : levels_json) failed += l["failed"].get<std::size_t>();
  if (!root) return failed == 0 ? 0 : static_cast<int>(ExitCode::sim_failure);
  write_json(out + "/summary.json", top);
  write_run_json(out, {{"network", net.describe()},
                       {"mpi_ranks", mpi.size()},
                       {"seed", net.chip.seed},
                       {"config", {{"method", dynamics::method_name(sw.method)}, {"levels_A", levels}, {"t_stop_s", t_stop}, {"window_s", window},
                                   {"t_max_s", sw.t_max_s}, {"t_step_s", sw.t_step_s}, {"ramp_s", sw.ramp_s}, {"chunk", sw.chunk},
                                   {"from", from}, {"pattern_seed", vm["pattern-seed"].as<std::uint64_t>()}, {"patterns", pat.source}}},
                       {"ngspice", sim::Session::ngspice_version()}});
  fmt::print("-> {}\n", out);
  return failed == 0 ? 0 : static_cast<int>(ExitCode::sim_failure);
}

}  // namespace nnspice::tools

// nnspice characterize: measure a chip (circuits.md §4, docs/characterize.md): random one-to-one routings
// at code +7 over a sweep of equal input currents -> per-neuron slopes (normalised per layer), the
// negative-weight gain per neuron, optionally every synapse's gain (--synapses) and the ground-truth
// comparison (--ground-truth). Checkpointed: --resume continues a killed run.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "cli_util.hpp"
#include "mpi_env.hpp"
#include "nnspice/engine/method.hpp"
#include "commands.hpp"
#include "net_inputs.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/measure/characterize.hpp"
#include "nnspice/measure/outputs.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/sim/session.hpp"

namespace nnspice::tools {
namespace {

/// "LO:HI:N" (N levels, linear) or a comma list of currents in A.
std::vector<double> parse_levels(const std::string& text, const std::string& option) {
  const auto c1 = text.find(':');
  if (c1 == std::string::npos) return parse_current_list(text, option);
  const auto c2 = text.find(':', c1 + 1);
  if (c2 == std::string::npos)
    throw InputError(fmt::format("--{} = '{}': expected LO:HI:N (e.g. 2e-9:76e-9:5) or a comma list of currents in A", option, text));
  const auto lo = parse_current_list(text.substr(0, c1), option);
  const auto hi = parse_current_list(text.substr(c1 + 1, c2 - c1 - 1), option);
  const std::string ns = text.substr(c2 + 1);
  int n = 0;
  try {
    std::size_t pos = 0;
    n = std::stoi(ns, &pos);
    if (pos != ns.size()) n = 0;
  } catch (const std::exception&) {
    n = 0;
  }
  if (lo.size() != 1 || hi.size() != 1 || n < 1 || n > 1000)
    throw InputError(fmt::format("--{} = '{}': expected LO:HI:N with N in 1..1000", option, text));
  if (!(hi[0] >= lo[0])) throw InputError(fmt::format("--{} = '{}': HI must be >= LO", option, text));
  std::vector<double> v;
  for (int k = 0; k < n; ++k) v.push_back(n == 1 ? lo[0] : lo[0] + (hi[0] - lo[0]) * k / (n - 1));
  return v;
}

std::vector<std::size_t> parse_counts(const std::string& text, const std::string& option) {
  std::vector<std::size_t> v;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::size_t pos = 0;
    long long x = -1;
    try {
      x = std::stoll(part, &pos);
    } catch (const std::exception&) {
      pos = 0;
    }
    if (part.empty() || pos != part.size() || x < 1)
      throw InputError(fmt::format("--{}: '{}' is not a positive integer (expected e.g. 5,10,20,40)", option, part));
    v.push_back(static_cast<std::size_t>(x));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return v;
}

}  // namespace

int cmd_characterize(int argc, char** argv) {
  po::options_description o("Options");
  o.add_options()
    ("layers,l", po::value<std::string>()->required(), "layer sizes, e.g. 4-7-3")
    ("process,p", po::value<std::string>()->default_value(""), "process YAML (default: the shipped tsmc180.yaml)")
    ("seed,s", seed_value()->default_value(1), "chip seed: the mismatch draw (ignored with --chip)")
    ("chip", po::value<std::string>(), "chip file (chip.csv, e.g. from `nnspice netlist`) to characterise instead of drawing from --seed")
    ("no-mismatch", po::bool_switch(), "ideal chip: all threshold shifts 0")
    ("out,o", po::value<std::string>()->required(), "output directory")
    ("method", po::value<std::string>()->default_value("auto"), engine::kDcMethodHelp)
    ("audit", po::value<std::size_t>()->default_value(20), "decomposed (native engine): synapses per layer re-tabulated by ngspice after the run and "
                                                           "compared point by point (summary.json engine_audit; 0 = off)")
    ("workers,j", jobs_value()->default_value(2), "simulator worker processes (1..max(4 x cores, 256))")
    ("routings,R", po::value<std::size_t>()->default_value(10), "random one-to-one routings at code +7 (the paper's procedure)")
    ("levels", po::value<std::string>()->default_value("2e-9:76e-9:5"), "equal input currents per routing: LO:HI:N or a comma list (A)")
    ("negative-routings", po::value<std::size_t>()->default_value(4), "positive+negative routings per weight layer (even)")
    ("negative-levels", po::value<std::string>()->default_value("1e-8,2e-8,4e-8"), "input current of the negative sources (A)")
    ("negative-ratio", po::value<double>()->default_value(4.0), "input current of positive / negative sources (input layer)")
    ("negative-fanin", po::value<int>()->default_value(4), "+7 inputs of a positive source in a hidden layer (a negative source gets 1)")
    ("synapses", po::bool_switch(), "per-synapse calibration: every synapse at +7 and -7 (synapse_gain_pos/neg_<l>.npy, referenced by "
                                    "calibration.json for nnspice train); slopes from all synapses")
    ("synapse-codes", po::value<std::string>()->default_value("7"), "with --synapses/--ground-truth: codes of the per-synapse gains: 7 (+7 "
                                                                     "and -7) | bits (also ±1, ±2, ±4 measured, ±3, ±5, ±6 as sums of their "
                                                                     "bits) | all (every code measured); bits/all write "
                                                                     "synapse_gain_code_pos/neg_<l>.npy, shape (7, post, pre)")
    ("ground-truth", po::bool_switch(), "measure every synapse too and compare the routing estimates with it (r, max relative error)")
    ("ground-truth-routings", po::value<std::string>()->default_value("5,10,20,40"), "routing counts compared in --ground-truth mode")
    ("fit", po::value<std::string>()->default_value("pooled"), "slope per neuron: pooled (one fit over all its points, the paper) | synapse-mean (mean of per-synapse fits)")
    ("evaluate", po::value<std::size_t>()->default_value(0), "with --synapses/--ground-truth: N random weight sets x 5 input vectors, predicted with per-layer, per-neuron and per-synapse calibration vs simulated")
    ("routing-seed", seed_value()->default_value(1), "seed of the random routings (not the chip)")
    ("resume", po::bool_switch(), "continue a run in --out: finished operating points are taken from its ops.jsonl")
    ("overwrite", po::bool_switch(), "discard a checkpoint (ops.jsonl) already in --out")
    ("table-cache", po::value<std::string>()->default_value(""), "decomposed: folder of ngspice synapse tables, shared with other runs of the "
                                                                  "same chip (evaluate); default OUT/decomposed_tables")
    ("no-progress", po::bool_switch(), "no progress line on stderr");
  add_corner_options(o);
  po::variables_map vm;
  if (!parse_options(argc, argv, o, vm, "nnspice characterize --layers 4-7-3 [--seed 7 | --chip chip.csv] --out DIR [options]",
                     "Measures a chip like the paper: random one-to-one routings at weight code +7, all inputs equal and swept,\n"
                     "one DC operating point per (routing, level); per neuron a through-origin fit of its routed post-neuron's\n"
                     "input current against its own, normalised to mean 1 per layer; the negative-weight gain per neuron from\n"
                     "positive+negative vs positive-only connections. Writes calibration.json (the trainer's format),\n"
                     "slopes_<l>.npy, negative_gain_<l>.npy, raw currents, summary.json, run.json and slopes.png.\n"
                     "Operating points are checkpointed in DIR/ops.jsonl; --resume continues a killed run.\n"
                     "Under MPI (mpirun -np K nnspice characterize ...) the ranks split the operating points; the results are those\n"
                     "of one process, rank 0 writes them."))
    return 0;

  const auto process = resolve_process(vm);
  const auto spec = netlist::NetworkSpec::parse(vm["layers"].as<std::string>()).for_process(process);
  mismatch::Chip chip;
  std::string chip_name;
  if (vm.count("chip")) {
    if (vm["no-mismatch"].as<bool>()) throw InputError("--chip and --no-mismatch exclude each other");
    chip_name = vm["chip"].as<std::string>();
    chip = mismatch::load_chip(chip_name, &spec);
  } else if (vm["no-mismatch"].as<bool>()) {
    chip = mismatch::ideal_chip(spec);
    chip_name = "ideal (no mismatch)";
  } else {
    chip = mismatch::draw_chip(spec, process, vm["seed"].as<std::uint64_t>());
    chip_name = fmt::format("drawn from seed {} ({})", chip.seed, process.name);
  }

  measure::CharacterizeOptions opt;
  opt.routings = vm["routings"].as<std::size_t>();
  opt.levels_A = parse_levels(vm["levels"].as<std::string>(), "levels");
  opt.negative_routings = vm["negative-routings"].as<std::size_t>();
  opt.negative_levels_A = parse_levels(vm["negative-levels"].as<std::string>(), "negative-levels");
  opt.negative.high_ratio = vm["negative-ratio"].as<double>();
  opt.negative.high_fanin = vm["negative-fanin"].as<int>();
  opt.synapses = vm["synapses"].as<bool>();
  opt.ground_truth = vm["ground-truth"].as<bool>();
  opt.synapse_codes = measure::parse_synapse_codes(vm["synapse-codes"].as<std::string>());
  opt.ground_truth_routings = parse_counts(vm["ground-truth-routings"].as<std::string>(), "ground-truth-routings");
  opt.seed = vm["routing-seed"].as<std::uint64_t>();
  opt.fit = measure::parse_fit_kind(vm["fit"].as<std::string>());
  opt.validate(spec);
  if (vm["evaluate"].as<std::size_t>() > 0 && !opt.synapses && !opt.ground_truth)
    throw InputError("--evaluate needs the per-synapse measurement: add --synapses (or --ground-truth)");
  if (vm["evaluate"].as<std::size_t>() > 1000) throw InputError("--evaluate: at most 1000 weight sets");

  const std::string out = vm["out"].as<std::string>();
  const bool resume = vm["resume"].as<bool>();
  if (resume && vm["overwrite"].as<bool>()) throw InputError("--resume and --overwrite exclude each other");
  make_dirs(out);
  const std::string log_path = out + "/ops.jsonl";
  if (!resume && !vm["overwrite"].as<bool>() && file_exists(log_path) && !read_file(log_path).empty())
    throw InputError(fmt::format("--out {}: holds the checkpoint of an earlier characterisation ({}); pass --resume to continue it or "
                                 "--overwrite to start again", out, log_path));
  if (resume && !file_exists(log_path))
    fmt::print(stderr, "note: --resume: no checkpoint {} yet; starting from the beginning\n", log_path);

  const std::string method = engine::resolve_dc_method(vm["method"].as<std::string>(), spec);
  const nlohmann::json config = {{"layers", spec.layers},
                                 {"process", process.name},
                                 {"model_card", process.model_card},
                                 {"chip", chip_name},
                                 {"chip_seed", chip.seed},
                                 {"method", method},
                                 {"workers", vm["workers"].as<int>()},
                                 {"routings", opt.routings},
                                 {"levels_A", opt.levels_A},
                                 {"negative_routings", opt.negative_routings},
                                 {"negative_levels_A", opt.negative_levels_A},
                                 {"negative_ratio", opt.negative.high_ratio},
                                 {"negative_fanin", opt.negative.high_fanin},
                                 {"synapses", opt.synapses},
                                 {"ground_truth", opt.ground_truth},
                                 {"synapse_codes", measure::synapse_codes_name(opt.synapse_codes)},
                                 {"ground_truth_routings", opt.ground_truth_routings},
                                 {"routing_seed", opt.seed},
                                 {"fit", measure::fit_kind_name(opt.fit)},
                                 {"evaluate", vm["evaluate"].as<std::size_t>()},
                                 {"resume", resume}};
  MpiEnv& mpi = MpiEnv::instance();
  const nlohmann::json record = {
      {"seed", chip.seed}, {"config", config}, {"mpi_ranks", mpi.size()}, {"versions", {{"ngspice", sim::Session::ngspice_version()}}}};
  // Under MPI every rank runs the same measurement; its operating points are dealt out (OpRunner) and rank 0 writes.
  mpi.barrier();  // every rank has checked --out before rank 0 starts the log
  if (mpi.rank() == 0) write_run_json(out, record);

  measure::RunnerOptions ro;
  ro.method = method;
  ro.workers = vm["workers"].as<int>();
  ro.log_path = log_path;
  ro.table_cache_dir = vm["table-cache"].as<std::string>().empty() ? out + "/decomposed_tables" : vm["table-cache"].as<std::string>();
  ro.resume = resume;
  ro.progress = !vm["no-progress"].as<bool>();
  ro.exchange = mpi.exchange();
  const auto t0 = std::chrono::steady_clock::now();
  measure::OpRunner runner(sim::NetworkChip{spec, process, chip}, ro);
  measure::Characterization c;
  try {
    c = measure::characterize(spec, runner, opt);
  } catch (const NumericalError& e) {  // no calibration: the failures file names the cause (the simulator's text)
    if (mpi.rank() == 0) write_json(out + "/failures.json", {{"error", e.what()}});
    throw;
  }
  const std::size_t n_eval = vm["evaluate"].as<std::size_t>();
  nlohmann::json evaluation;
  if (n_eval > 0) evaluation = measure::evaluate_models(spec, runner, c, n_eval, 5, opt.seed);
  if (mpi.rank() != 0) return c.failed_ops ? static_cast<int>(ExitCode::sim_failure) : 0;
  c.runner = runner.stats();  // counts include the evaluation's operating points
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  measure::write_characterization(out, c, chip_name, chip.seed);
  auto summary = measure::summary_json(c);
  summary["chip"] = chip_name;
  summary["chip_seed"] = chip.seed;
  summary["process"] = process.name;
  summary["temp_C"] = process.temp_C;
  summary["vdd_V"] = process.vdd_V;
  summary["wall_s"] = wall;
  summary["workers"] = ro.workers;
  summary["mpi_ranks"] = mpi.size();
  if (!evaluation.is_null()) summary["evaluation"] = evaluation;
  // The self-audit covers every code: a seeded random weight set, its synapses' tables against ngspice.
  const auto audit = runner.engine_audit(netlist::random_weights(spec, chip.seed + 1), vm["audit"].as<std::size_t>());
  if (!audit.is_null()) summary["engine_audit"] = audit;
  summary["solver"] = runner.solver_details();  // decomposed: table sweeps and their Newton iterations
  write_json(out + "/summary.json", summary);
  measure::plot_slopes(out, c);
  write_run_json(out, record);

  fmt::print("characterised {} ({}) with {}: {} operating points ({} simulated, {} from checkpoint, {} failed), {} Newton iterations, {:.1f} s\n",
             spec.str(), chip_name, c.method, c.runner.ops_total, c.runner.ops_simulated, c.runner.ops_from_log, c.failed_ops,
             c.runner.newton_iterations, wall);
  const auto details = runner.solver_details();
  if (details.contains("native"))
    fmt::print("  native engine: {} synapse tables, {} synapse points, {} Newton iterations, {} device evaluations, {:.1f} s; device tables {} "
               "in {:.1f} s; {} Kirchhoff solves; peak memory {:.0f} MB\n",
               details["synapse_tables"].get<std::size_t>(), details["native"]["synapse_points"].get<std::size_t>(),
               details["native"]["newton_iterations"].get<long>(), details["native"]["device_evaluations"].get<long>(), details["tabulate_s"].get<double>(),
               details["native"]["device_tables"]["built"].get<bool>() ? "built" : "from the cache", details["native"]["device_tables"]["seconds"].get<double>(),
               details["kirchhoff_solves"].get<std::size_t>(), details["peak_memory_MB"].get<double>());
  else if (details.contains("table_sweep_jobs"))
    fmt::print("  decomposed tables: {} synapse tables from {} ngspice sweep jobs ({} points, {} Newton iterations, {:.1f} s); {} Kirchhoff solves\n",
               details["synapse_tables"].get<std::size_t>(), details["table_sweep_jobs"].get<std::size_t>(),
               details["table_sweep_points"].get<std::size_t>(), details["table_newton_iterations"].get<long>(),
               details["tabulate_s"].get<double>(), details["kirchhoff_solves"].get<std::size_t>());
  for (std::size_t l = 0; l < spec.n_weight_layers(); ++l) {
    const auto s = measure::stats(c.slopes_raw[l]);
    const auto sn = measure::stats(c.slopes[l]);
    const auto g = measure::stats(c.negative_gain[l]);
    fmt::print("  layer {} ({:>3} neurons): raw slope mean {:.4f}, normalised sd {:.4f} [{:.3f}, {:.3f}]; negative gain mean {:.3f} sd {:.3f}\n",
               l, spec.layers[l], s.mean, sn.sd, sn.min, sn.max, g.mean, g.sd);
  }
  auto num = [](const nlohmann::json& v) { return v.is_number() ? v.get<double>() : std::nan(""); };
  if (!c.ground_truth.is_null())
    for (const char* key : {"slopes", "slopes_synapse_mean"})
      for (const auto& cmp : c.ground_truth[key])
        for (const auto& e : cmp["layers"])
          fmt::print("  ground truth ({:<12}) R = {:>3}, layer {}: r = {:.4f}, max rel err {:.4f} = sampling (max {:.4f}, expected ~{:.4f}, "
                     "{:.0f} % within 2 expected) + current dependence (max {:.4f})\n",
                     cmp["fit"].get<std::string>(), cmp["routings"].get<std::size_t>(), e["layer"].get<std::size_t>(), num(e["r"]),
                     num(e["max_rel_err"]), num(e["max_sampling_err"]), num(e["expected_rel_err_mean"]), 100 * num(e["within_2_expected"]),
                     num(e["max_current_dependence_err"]));
  if (c.have_codes)
    for (std::size_t l = 0; l < spec.n_weight_layers(); ++l) {
      std::string line;
      const auto& pl = summary["per_layer"][l];
      for (std::size_t k = 0; k < pl["synapse_gain_code_pos"].size(); ++k)
        line += fmt::format(" {}:{:.3f}/{:.3f}", k + 1, num(pl["synapse_gain_code_pos"][k]["sd"]), num(pl["synapse_gain_code_neg"][k]["sd"]));
      fmt::print("  layer {} per-code gain sd over synapses (code: +/-):{}\n", l, line);
    }
  if (c.have_codes && !c.additivity.is_null())
    for (const auto& e : c.additivity)
      for (const auto& le : e["layers"])
        fmt::print("  code {} vs sum of its bits, layer {}: max |rel dev| +{:.4f} / -{:.4f}\n", e["code"].get<int>(), le["layer"].get<std::size_t>(),
                   num(le["pos"]["max_abs"]), num(le["neg"]["max_abs"]));
  if (!evaluation.is_null())
    for (const auto& e : evaluation["layers"])
      fmt::print("  prediction of layer {} post-neuron currents ({} values), rms / max error relative to rms current: per layer {:.4f} / {:.4f}, per neuron "
                 "{:.4f} / {:.4f}, per synapse {:.4f} / {:.4f}\n",
                 e["layer"].get<std::size_t>() + 1, e["post_neurons_compared"].get<std::size_t>(), num(e["per_layer"]["rms_rel_err"]),
                 num(e["per_layer"]["max_rel_err"]), num(e["per_neuron"]["rms_rel_err"]), num(e["per_neuron"]["max_rel_err"]),
                 num(e["per_synapse"]["rms_rel_err"]), num(e["per_synapse"]["max_rel_err"]));
  if (!evaluation.is_null() && c.have_codes)
    for (const auto& e : evaluation["layers"])
      fmt::print("  prediction of layer {} with codes 1..7: per synapse (±7 gains, linear in code) {:.4f} / {:.4f}, per code {:.4f} / {:.4f}\n",
                 e["layer"].get<std::size_t>() + 1, num(e["per_synapse"]["rms_rel_err"]), num(e["per_synapse"]["max_rel_err"]),
                 num(e["per_code"]["rms_rel_err"]), num(e["per_code"]["max_rel_err"]));
  fmt::print("-> {}/calibration.json, summary.json, slopes.png\n", out);
  if (c.have_synapses) {
    const std::string why = measure::synapse_gains_unusable(c);
    if (why.empty())
      fmt::print("  calibration.json references the per-synapse gains: nnspice train / infer use them (--synapse-gains false: per-neuron model)\n");
    else
      fmt::print(stderr, "nnspice characterize: per-synapse gains not referenced in calibration.json: {}\n", why);
  }
  if (c.failed_ops) {
    write_json(out + "/failures.json", {{"operating_points_failed", c.failed_ops}, {"reasons", measure::failure_reasons_json(c)}});
    fmt::print(stderr, "nnspice characterize: {} (left out of the fits; {}/failures.json); rerun with --resume to retry them\n",
               measure::describe_failures(c), out);
    return static_cast<int>(ExitCode::sim_failure);
  }
  std::error_code ec;
  std::filesystem::remove(out + "/failures.json", ec);  // of an earlier, failed run in the same folder
  return 0;
}

}  // namespace nnspice::tools

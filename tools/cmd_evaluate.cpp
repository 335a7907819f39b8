// nnspice evaluate: circuit-level accuracy of a programmed chip on a data set (every test sample),
// through the decomposed DC engine or full-netlist ngspice operating points; resumable; runs the same
// under `mpirun -np K` (ranks share the tabulation and the samples; results identical).
#include <fmt/format.h>

#include <filesystem>

#include "cli_util.hpp"
#include "nnspice/engine/method.hpp"
#include "commands.hpp"
#include "mpi_env.hpp"
#include "net_inputs.hpp"
#include "run_config.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/evaluate/evaluate.hpp"
#include "nnspice/sim/session.hpp"

namespace nnspice::tools {

int cmd_evaluate(int argc, char** argv) {
  MpiEnv& mpi = MpiEnv::instance();
  po::options_description o("Options");
  o.add_options()
    ("layers,l", po::value<std::string>()->required(), "layer sizes, e.g. 196-100-50-10")
    ("weights,w", po::value<std::vector<std::string>>()->multitoken(), "weight codes: a directory of weights_<l>.npy or one file per layer")
    ("chip", po::value<std::string>(), "chip file (chip.csv); default: drawn from --seed")
    ("seed,s", seed_value()->default_value(1), "chip seed when --chip is absent")
    ("process,p", po::value<std::string>()->default_value(""), "process YAML (default: the shipped tsmc180.yaml)")
    ("dataset,d", po::value<std::string>()->default_value("mnist"), "mnist | fsdd | iris")
    ("mnist", po::value<std::string>()->default_value(""), "MNIST directory (IDX files)")
    ("fsdd", po::value<std::string>()->default_value(""), "FSDD directory")
    ("iris", po::value<std::string>()->default_value(""), "Iris CSV (default: the shipped one)")
    ("pixels", po::value<std::string>()->default_value("checkerboard"), "MNIST input pixels: checkerboard | most_active")
    ("data-seed", seed_value()->default_value(1), "seed of the data set's splits (Iris) — use the training run's")
    ("limit", count_value(), "evaluate only the first N test samples (default: all)")
    ("input-mean", po::value<double>()->default_value(0), "mean input current per input neuron in A (0 = 15e-9; Iris 1e-7)")
    ("method", po::value<std::string>()->default_value("auto"), engine::kDcMethodHelp)
    ("jobs,j", jobs_value()->default_value(default_jobs()), "worker processes per rank (default: the cores; 1..max(4 x cores, 256))")
    ("block", po::value<std::size_t>()->default_value(500), "samples per checkpoint")
    ("audit", po::value<std::size_t>()->default_value(20), "decomposed (native engine): synapses per layer re-tabulated by ngspice during the run and "
                                                           "compared point by point (summary.json engine_audit; 0 = off)")
    ("table-cache", po::value<std::string>()->default_value(""), "decomposed: folder of synapse tables, shared with other runs of the same "
                                                                  "chip (characterize, evaluate); default OUT/tables")
    ("resume", po::bool_switch(), "continue an interrupted evaluation in --out")
    ("chips", po::value<int>()->default_value(1), "Monte Carlo: draw N chips (seeds --seed, --seed+1, ...) and run characterise -> train -> "
                                                   "evaluate for each (through `nnspice run`; --weights is then not used)")
    ("train-epochs", po::value<int>()->default_value(0), "Monte Carlo: training epochs per chip (0 = the data set's default)")
    ("synapse-codes", po::value<std::string>()->default_value("none"),
     "Monte Carlo: behavioural model of each chip: none (per-neuron slopes) | 7 | bits | all (every synapse measured: "
     "characterize --synapses --synapse-codes; docs/dc_engine.md)")
    ("reference", po::value<std::string>(), "compare the output currents with another evaluation's OUT (e.g. --method full on the same chip, "
                                            "weights and samples): writes fidelity.json; tolerance 0.5 % + 20 pA per current; exit 1 when outside it")
    ("out,o", po::value<std::string>()->required(), "output directory");
  add_corner_options(o);
  po::variables_map vm;
  if (!parse_options(argc, argv, o, vm, "nnspice evaluate --layers L --weights DIR --chip chip.csv --dataset mnist --out DIR",
                     "Programs the chip with the weight codes, applies every test sample as input currents (each sample scaled\n"
                     "to --input-mean per input) and computes the circuit-level output currents and class. Writes outputs.npy,\n"
                     "predicted.npy, labels.npy, confusion.csv, summary.json (accuracy, failures, timings), run.json; with the decomposed\n"
                     "engine also outputs_error_estimate.npy (its own error estimate per current; summary.json engine_error_estimate).\n"
                     "Under MPI (mpirun -np K nnspice evaluate ...) the ranks split tabulation and samples; rank 0 writes."))
    return 0;
  const auto spec = netlist::NetworkSpec::parse(vm["layers"].as<std::string>());
  const int chips = vm["chips"].as<int>();
  if (chips < 1 || chips > 10000) throw InputError(fmt::format("--chips = {}: expected 1..10000", chips));
  const std::string syn_codes = vm["synapse-codes"].as<std::string>();
  if (!is_synapse_model(syn_codes))
    throw InputError(fmt::format("--synapse-codes = '{}': expected none, 7, bits or all", syn_codes));
  if (syn_codes != "none" && chips == 1)
    throw InputError("--synapse-codes applies to the Monte Carlo's characterisations (--chips N > 1); for one chip run "
                     "characterize --synapses --synapse-codes, train and evaluate --weights");
  if (chips > 1) {
    // Monte Carlo over chips = a `nnspice run` of one experiment with `chips: N` and no transients.
    if (mpi.size() > 1) throw InputError("--chips runs stages as child processes; start it without mpirun");
    const std::string out = vm["out"].as<std::string>();
    make_dirs(out);
    std::string cfg = fmt::format("# written by: {}\nout: {}\njobs: {}\nexperiments:\n  - name: montecarlo\n    dataset: {}\n    layers: {}\n"
                                  "    chip_seed: {}\n    data_seed: {}\n    chips: {}\n    dynamics: false\n",
                                  command_line(), out, std::min(256, vm["jobs"].as<int>()), vm["dataset"].as<std::string>(),
                                  spec.str(), vm["seed"].as<std::uint64_t>(), vm["data-seed"].as<std::uint64_t>(), chips);
    if (!vm["mnist"].as<std::string>().empty()) cfg += fmt::format("    mnist_dir: {}\n", vm["mnist"].as<std::string>());
    if (!vm["fsdd"].as<std::string>().empty()) cfg += fmt::format("    fsdd_dir: {}\n", vm["fsdd"].as<std::string>());
    if (!vm["iris"].as<std::string>().empty()) cfg += fmt::format("    iris_csv: {}\n", vm["iris"].as<std::string>());
    cfg += fmt::format("    characterize: {{method: {}, synapses: {}}}\n", engine::use_fast_engine(spec) ? "decomposed" : "full", syn_codes);
    if (vm["train-epochs"].as<int>() > 0) cfg += fmt::format("    train: {{epochs: {}}}\n", vm["train-epochs"].as<int>());
    cfg += fmt::format("    evaluate: {{method: {}", vm["method"].as<std::string>());
    if (vm.count("limit")) cfg += fmt::format(", limit: {}", vm["limit"].as<std::size_t>());
    if (vm["input-mean"].as<double>() > 0) cfg += fmt::format(", input_mean_A: {}", vm["input-mean"].as<double>());
    cfg += "}\n";
    if (!vm["process"].as<std::string>().empty()) cfg += fmt::format("process: {}\n", vm["process"].as<std::string>());
    if (vm.count("temp-C")) cfg += fmt::format("temp_C: {}\n", vm["temp-C"].as<double>());
    if (vm.count("vdd-V")) cfg += fmt::format("vdd_V: {}\n", vm["vdd-V"].as<double>());
    const std::string cfg_path = out + "/montecarlo.yaml";
    if (!(vm["resume"].as<bool>() && file_exists(cfg_path))) write_file_atomic(cfg_path, cfg);
    std::vector<std::string> args = {"nnspice run", cfg_path, "--out", out};
    if (vm["resume"].as<bool>()) args.push_back("--resume");
    std::vector<char*> av;
    for (auto& a : args) av.push_back(a.data());
    return cmd_run(static_cast<int>(av.size()), av.data());
  }
  if (!vm.count("weights")) throw InputError("--weights is required (unless --chips N > 1 trains weights for each chip)");
  if (vm.count("reference")) {
    const std::string ref = vm["reference"].as<std::string>(), out = vm["out"].as<std::string>();
    if (!file_exists(ref + "/outputs.npy"))
      throw InputError(fmt::format("--reference: {}/outputs.npy does not exist (give the --out of a finished evaluation)", ref));
    std::error_code ec;
    if (std::filesystem::exists(out) && std::filesystem::equivalent(ref, out, ec))
      throw InputError(fmt::format("--reference {} is the --out of this run: it would be compared with itself", ref));
  }
  sim::NetworkChip chip;
  chip.process = resolve_process(vm);
  chip.spec = spec.for_process(chip.process);
  std::string chip_src;
  if (vm.count("chip")) {
    chip_src = vm["chip"].as<std::string>();
    chip.chip = mismatch::load_chip(chip_src, &chip.spec);
  } else {
    chip.chip = mismatch::draw_chip(chip.spec, chip.process, vm["seed"].as<std::uint64_t>());
    chip_src = fmt::format("seed {}", chip.chip.seed);
  }
  const auto weights = netlist::load_weights(vm["weights"].as<std::vector<std::string>>(), chip.spec);

  train::DatasetOptions dopt;
  dopt.name = vm["dataset"].as<std::string>();
  dopt.mnist_dir = vm["mnist"].as<std::string>();
  dopt.fsdd_dir = vm["fsdd"].as<std::string>();
  dopt.iris_csv = vm["iris"].as<std::string>();
  dopt.pixels = vm["pixels"].as<std::string>();
  dopt.seed = vm["data-seed"].as<std::uint64_t>();
  dopt.test_limit = vm.count("limit") ? vm["limit"].as<std::size_t>() : 0;  // 0 = all
  const auto splits = train::load_dataset(dopt);

  evaluate::EvalOptions eo;
  eo.method = engine::resolve_dc_method(vm["method"].as<std::string>(), chip.spec);
  double mean = vm["input-mean"].as<double>();
  if (mean == 0) mean = dopt.name == "iris" ? 1e-7 : 15e-9;
  eo.input_mean_A = mean;
  eo.block = vm["block"].as<std::size_t>();
  eo.out_dir = vm["out"].as<std::string>();
  eo.resume = vm["resume"].as<bool>();
  eo.decomposed.cache_dir = vm["table-cache"].as<std::string>();
  eo.parallel.workers = vm["jobs"].as<int>();
  eo.audit_synapses = vm["audit"].as<std::size_t>();
  eo.exchange = mpi.exchange();
  if (mpi.rank() == 0) make_dirs(eo.out_dir);
  mpi.barrier();

  const auto r = evaluate::evaluate_chip(chip, weights, splits.test, eo);
  if (mpi.rank() != 0) return r.failed ? static_cast<int>(ExitCode::sim_failure) : 0;

  evaluate::write_eval_outputs(r, splits.test.n_classes, eo.out_dir);
  nlohmann::json summary = {{"layers", spec.layers}, {"weight_bits", chip.spec.weight_bits},   {"chip", chip_src},       {"process", chip.process.name},
                            {"dataset", splits.info},  {"samples", r.samples},   {"evaluated", r.evaluated},
                            {"correct", r.correct},    {"failed", r.failed},     {"accuracy", r.accuracy()},
                            {"input_mean_A", mean},    {"stats", r.stats},       {"errors", r.errors},
                            {"temp_C", chip.process.temp_C}, {"vdd_V", chip.process.vdd_V}};
  if (r.stats.contains("engine_audit")) summary["engine_audit"] = r.stats["engine_audit"];
  write_json(eo.out_dir + "/summary.json", summary);
  write_run_json(eo.out_dir, {{"layers", spec.layers}, {"chip", chip_src}, {"seed", chip.chip.seed}, {"process", chip.process.source}, {"temp_C", chip.process.temp_C}, {"vdd_V", chip.process.vdd_V},
                              {"weights", vm["weights"].as<std::vector<std::string>>()}, {"dataset", splits.info}, {"method", eo.method},
                              {"input_mean_A", mean}, {"mpi_ranks", mpi.size()}, {"ngspice", sim::Session::ngspice_version()}});
  fmt::print("{} ({} chip {}): {}/{} correct = {:.2f} % at circuit level ({} failed, method {}, {} rank(s)) -> {}\n", dopt.name, spec.str(),
             chip_src, r.correct, r.evaluated, 100.0 * r.accuracy(), r.failed, eo.method, mpi.size(), eo.out_dir);
  if (r.stats.contains("engine") && r.stats["engine"].contains("native")) {
    const auto& e = r.stats["engine"];
    const auto& n = e["native"];
    fmt::print("  native engine: {} synapse tables, {} new synapse points, {} Newton iterations, {} device evaluations, tabulation {:.1f} s "
               "(device tables {} in {:.1f} s); {} Kirchhoff solves in {:.1f} s; peak memory {:.0f} MB\n",
               e["synapse_tables"].get<std::size_t>(), n["synapse_points"].get<std::size_t>(), n["newton_iterations"].get<long>(),
               n["device_evaluations"].get<long>(), e["tabulate_s"].get<double>(), n["device_tables"]["built"].get<bool>() ? "built" : "loaded",
               n["device_tables"]["seconds"].get<double>(), e["kirchhoff_solves"].get<std::size_t>(), e["kirchhoff_solve_s"].get<double>(),
               e["peak_memory_MB"].get<double>());
  }
  for (std::size_t k = 0; k < std::min<std::size_t>(r.errors.size(), 5); ++k) fmt::print(stderr, "  {}\n", r.errors[k]);
  if (vm.count("reference")) {
    const auto f = evaluate::compare_with_reference(r, vm["reference"].as<std::string>());
    nlohmann::json j = f.to_json();
    j["reference"] = vm["reference"].as<std::string>();
    j["method"] = eo.method;
    write_json(eo.out_dir + "/fidelity.json", j);
    fmt::print("vs {}: {}/{} samples compared, same class {}/{}; max relative error {:.3g} (|I| > {:.0f} pA), worst error / (0.5 % + 20 pA) = {:.3f} "
               "(sample {}, output {}) -> {}\n",
               vm["reference"].as<std::string>(), f.compared, f.samples, f.same_class, f.compared, f.max_rel_error, f.floor_A * 1e12, f.worst_ratio,
               f.worst_sample, f.worst_output, f.within() ? "within tolerance" : "OUTSIDE tolerance");
    if (f.outside > 0)
      fmt::print("  {} output current(s) outside the tolerance, {} of them covered by the engine's own error estimate (outputs_error_estimate.npy)\n",
                 f.outside, f.outside_flagged);
    if (!f.within() && !r.failed) return static_cast<int>(ExitCode::failure);
  }
  return r.failed ? static_cast<int>(ExitCode::sim_failure) : 0;
}

}  // namespace nnspice::tools

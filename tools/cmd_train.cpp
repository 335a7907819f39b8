// nnspice train: a 3-bit + sign network for one chip (its calibration) or the homogeneous model →
// weights_<l>.npy (integer codes), summary.json, learning_curve.png, checkpoint.bin, run.json.
#include <fmt/format.h>

#include <utility>

#include <Eigen/Core>

#include "cli_util.hpp"
#include "commands.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/progress.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/common/store.hpp"
#include "nnspice/train/config.hpp"
#include "nnspice/train/weights_io.hpp"
#include "train_cli.hpp"

namespace nnspice::tools {

int cmd_train(int argc, char** argv) {
  // Defaults in the help come from TrainConfig::defaults_for / TrainOptions (the values the code uses).
  using train::TrainConfig;
  const auto dflt = [](auto field) {
    return "default " + per_dataset_default([&](const TrainConfig& c) { return fmt::format("{}", field(c)); });
  };
  const std::string h_layers = "network, e.g. 196-100-50-10 (" + dflt([](const TrainConfig& c) { return train::format_layers(c.train.layers); }) + ")";
  const std::string h_epochs = "epochs (" + dflt([](const TrainConfig& c) { return c.train.epochs; }) + ")";
  const std::string h_lr = "Adam learning rate (" + dflt([](const TrainConfig& c) { return c.train.learning_rate; }) + ")";
  const std::string h_schedule = "constant | cosine (decays to lr_final_fraction = " +
                                 per_dataset_default([](const TrainConfig& c) { return fmt::format("{}", c.train.lr_final_fraction); }) + " of --lr over the epochs; " +
                                 dflt([](const TrainConfig& c) { return c.train.lr_schedule; }) + ")";
  const std::string h_batch = "mini-batch size (" + dflt([](const TrainConfig& c) { return c.train.batch_size; }) + ")";
  const std::string h_loss = "mse (paper) | weighted_mse (authors' code) | cross_entropy (" +
                             dflt([](const TrainConfig& c) { return train::loss_name(c.train.loss); }) + ")";
  const std::string h_leak = "surrogate ReLU slope below threshold in the backward pass only, all units (" +
                             dflt([](const TrainConfig& c) { return c.train.relu_leak; }) + ")";
  const std::string h_eps = "Adam epsilon (" + dflt([](const TrainConfig& c) { return c.train.adam_eps; }) + ")";
  const std::string h_init = "initial master weights ~ U(-r, r) (" + dflt([](const TrainConfig& c) { return c.train.init_range; }) + ")";
  const std::string h_l1n = "L1 penalty on negative weights (" + dflt([](const TrainConfig& c) { return c.train.l1_negative; }) + ")";
  const std::string h_l1a = "L1 penalty on hidden activations (" + dflt([](const TrainConfig& c) { return c.train.l1_activity; }) + ")";
  const std::string h_revive = "dead-output recovery: a dead output unit trains with --revive-leak, then its incoming weights are "
                               "re-drawn (" + dflt([](const TrainConfig& c) { return c.train.revive_dead; }) + ")";
  const std::string h_dead = "an output unit active on fewer than this fraction of the monitoring samples is dead (" +
                             dflt([](const TrainConfig& c) { return c.train.dead_fraction; }) + ")";
  const std::string h_rleak = "surrogate ReLU slope of a dead output unit while it is dead (" +
                              dflt([](const TrainConfig& c) { return c.train.revive_leak; }) + ")";
  const std::string h_rpat = "epochs a unit stays dead with the slope before its incoming weights are re-drawn (" +
                             dflt([](const TrainConfig& c) { return c.train.revive_patience; }) + ")";
  const std::string h_step = "value of weight code +1 (" + dflt([](const TrainConfig& c) { return c.train.grid.step; }) +
                             "; with B != 3 weight bits x 7 / (2^B - 1), the same range in finer steps)";
  const std::string h_threads = "threads for the matrix products (" + dflt([](const TrainConfig& c) { return c.train.threads; }) + ")";
  const std::string h_out = "output directory (" + dflt([](const TrainConfig& c) { return c.out; }) + ")";
  po::options_description o("Options");
  add_dataset_options(o);
  o.add_options()
    ("layers", po::value<std::string>(), h_layers.c_str())
    ("calibration", po::value<std::string>(), "calibration.json of the chip (slopes, negative gains, optional per-synapse gains); default: homogeneous model")
    ("corner-calibration", po::value<std::vector<std::string>>()->composing(),
     "corner-aware training: another calibration.json (the chip measured at another temperature or supply, e.g. "
     "characterize --temp-C 85; or another chip) trained against together with --calibration, mean loss; repeat for more "
     "(at most 15); accuracies reported per calibration")
    ("negative-gain", po::value<double>(), "homogeneous model only: gain of negative weights (default 1)")
    ("epochs", po::value<int>(), h_epochs.c_str())
    ("lr", po::value<double>(), h_lr.c_str())
    ("lr-schedule", po::value<std::string>(), h_schedule.c_str())
    ("batch", po::value<int>(), h_batch.c_str())
    ("loss", po::value<std::string>(), h_loss.c_str())
    ("target-scale", po::value<double>(), "height of the one-hot target of mse / weighted_mse (default: 3 for weighted_mse, 1 for mse)")
    ("adam-eps", po::value<double>(), h_eps.c_str())
    ("init-range", po::value<double>(), h_init.c_str())
    ("l1-negative", po::value<double>(), h_l1n.c_str())
    ("l1-activity", po::value<double>(), h_l1a.c_str())
    ("relu-leak", po::value<double>(), h_leak.c_str())
    ("revive-dead", po::value<bool>(), h_revive.c_str())
    ("dead-fraction", po::value<double>(), h_dead.c_str())
    ("revive-leak", po::value<double>(), h_rleak.c_str())
    ("revive-patience", po::value<int>(), h_rpat.c_str())
    ("quantize", po::value<bool>(), "3-bit + sign weights (true, default) or float weights (false)")
    ("weight-step", po::value<double>(), h_step.c_str())
    ("weight-bits", po::value<int>(), "magnitude bits of the synapses, 1..6 (codes ±(2^B - 1)): the calibration's, else 3; YAML weight_bits")
    ("patience", po::value<int>(), "early stopping: epochs without validation improvement (0 = off, default; needs --validation)")
    ("threads", jobs_value(), h_threads.c_str())
    ("out,o", po::value<std::string>(), h_out.c_str())
    ("plot", po::value<bool>(), "write learning_curve.png (default true)")
    ("resume", po::bool_switch(), "continue from OUT/checkpoint.bin (same configuration; --epochs may grow)")
    ("quiet,q", po::bool_switch(), "no progress line");
  po::variables_map vm;
  const std::string about =
                     "Trains a bias-free ReLU network y = s * relu(W x) with fixed per-neuron slopes s from a chip's calibration\n"
                     "(docs/conventions.md) and 3-bit + sign weights (dual-copy rounding, straight-through gradients), Adam.\n"
                     "A calibration with per-synapse gains (nnspice characterize --synapses) is used per synapse unless\n"
                     "--synapse-gains false.\n"
                     "Writes OUT/weights_<l>.npy (int32 codes -7..7, shape (N_out, N_in)), summary.json, learning_curve.png,\n"
                     "checkpoint.bin (every epoch; --resume continues bit-identically), calibration.json, run.json.\n"
                     "See docs/training.md for the data sets, preprocessing and defaults.\n"
                     "Defaults per data set (--dataset, or dataset: in --config; flags and YAML keys override them):\n" +
                     per_dataset_defaults_table() +
                     "Dead output units (active on < --dead-fraction of a monitoring subset of the training set) and all-zero\n"
                     "outputs are checked every epoch, recovered (--revive-dead) and counted in summary.json; a final model\n"
                     "with a dead output unit is reported on stderr and marked \"collapsed\": true.";
  if (!parse_options(argc, argv, o, vm, "nnspice train [--config train.yaml] [--dataset mnist|fsdd|iris] [options] --out DIR",
                     about))
    return 0;
  train::TrainConfig cfg = resolve_train_config(vm, true);
  train::Calibration cal = cfg.calibration.empty() ? train::homogeneous_calibration(cfg.train.layers, cfg.negative_gain)
                                                   : train::read_calibration(cfg.calibration, cfg.synapse_gains);
  cal.check_matches(cfg.train.layers);
  // Weight bits: the chip's (its calibration's), or --weight-bits for the homogeneous model; codes ±(2^B - 1).
  if (cfg.calibration.empty()) cal.weight_bits = cfg.weight_bits ? cfg.weight_bits : 3;
  else if (cfg.weight_bits && cfg.weight_bits != cal.weight_bits)
    throw InputError(fmt::format("--weight-bits (YAML weight_bits) = {}, but {} is the calibration of a chip with {}-bit synapses", cfg.weight_bits,
                                 cfg.calibration, cal.weight_bits));
  std::vector<train::Calibration> cals{cal};
  for (const auto& f : cfg.corner_calibrations) {
    cals.push_back(train::read_calibration(f, cfg.synapse_gains));
    cals.back().check_matches(cfg.train.layers);
    if (cals.back().weight_bits != cal.weight_bits)
      throw InputError(fmt::format("{}: a chip with {}-bit synapses; the training is for {} bits", f, cals.back().weight_bits, cal.weight_bits));
  }
  if (cal.weight_bits != 3 && cfg.train.grid.max_code == 7) cfg.train.grid.max_code = cal.max_code();
  // The same weight range at every bit count (more bits = finer steps), unless the step was given.
  if (cal.weight_bits != 3 && !cfg.weight_step_given) cfg.train.grid.step *= 7.0 / cal.max_code();
  if (cfg.train.grid.max_code > cal.max_code())
    throw InputError(fmt::format("max_code = {}: the chip's {}-bit synapses have codes up to ±{}", cfg.train.grid.max_code, cal.weight_bits, cal.max_code()));
  cfg.weight_bits = cal.weight_bits;
  const bool quiet = vm["quiet"].as<bool>();
  const std::string model = cfg.calibration.empty()    ? std::string("homogeneous")
                            : cal.has_synapse_gains() ? "chip (" + cfg.calibration + ", per-synapse gains)"
                            : !cfg.synapse_gains      ? "chip (" + cfg.calibration + ", per-neuron model: synapse_gains false)"
                                                      : "chip (" + cfg.calibration + ")";
  const std::string corners = cals.size() == 1 ? std::string() : fmt::format(" + {} corner calibration(s), corner-aware", cals.size() - 1);

  if (!quiet) fmt::print(stderr, "loading {} ...\n", cfg.data.name);
  const train::DataSplits data = train::load_dataset(cfg.data);
  if (!quiet)
    fmt::print(stderr, "{}: {} train / {} validation / {} test samples, {} features; network {}, {} model\n",
               cfg.data.name, data.train.size(), data.validation.size(), data.test.size(), data.train.features(),
               train::format_layers(cfg.train.layers), model + corners);

  make_dirs(cfg.out);
  nlohmann::json record = {{"seed", cfg.train.seed}, {"config", cfg.to_json()}, {"dataset", data.info},
                           {"eigen_version", fmt::format("{}.{}.{}", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION)}};
  record["dataset"].erase("selected_pixels");
  write_run_json(cfg.out, record);

  train::TrainHooks hooks;
  hooks.checkpoint_path = cfg.out + "/checkpoint.bin";
  hooks.resume = vm["resume"].as<bool>();
  hooks.progress = !quiet;
  hooks.on_notice = [](const std::string& line) { fmt::print("{}\n", line); };
  const train::TrainResult r = train::train_network(cfg.train, cals, data, hooks);
  // (train_network refuses a model with NaN/Inf outputs: NumericalError, exit 1, nothing written)

  const auto files = train::write_weight_codes(cfg.out, r.net);
  // With the weights (not before training: a refused --resume must not replace the calibration they were trained on).
  train::write_calibration(cfg.out + "/calibration.json", cal);
  nlohmann::json curve = nlohmann::json::array(), recoveries = nlohmann::json::array();
  double epoch_s = 0;
  int epochs_with_dead = 0;
  for (const auto& e : r.history) {
    curve.push_back({{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"train_accuracy", e.train_accuracy},
                     {"validation_accuracy", e.validation_accuracy}, {"test_accuracy", e.test_accuracy},
                     {"seconds", e.seconds}, {"dead_outputs", e.dead_outputs}, {"zero_outputs", e.zero_outputs},
                     {"revived", e.revived}});
    epoch_s += e.seconds;
    for (int j : e.revived) recoveries.push_back({{"epoch", e.epoch}, {"unit", j}, {"action", "reinitialised incoming weights"}});
    if (!e.dead_outputs.empty()) ++epochs_with_dead;
  }
  const bool collapsed = r.collapsed();
  nlohmann::json health = {
      {"monitor_samples", r.monitor_samples},
      {"dead_fraction", cfg.train.dead_fraction},
      {"revive_dead", cfg.train.revive_dead},
      {"epochs_with_dead_outputs", epochs_with_dead},
      {"recoveries", recoveries},
      {"dead_outputs_train", r.train_health.dead_units},
      {"dead_outputs_test", r.test_health.dead_units},
      {"all_zero_outputs_train", r.train_health.all_zero_samples},
      {"all_zero_outputs_test", r.test_health.all_zero_samples},
      {"collapsed", collapsed}};
  nlohmann::json summary = {
      {"dataset", cfg.data.name},
      {"layers", cfg.train.layers},
      {"calibration", cfg.calibration.empty() ? "homogeneous" : cfg.calibration},
      {"quantized", cfg.train.quantize},
      {"synapse_gains_used", cal.has_synapse_gains()},
      {"synapse_code_gains_used", cal.has_code_gains()},
      {"seed", cfg.train.seed},
      {"train_accuracy", r.train_accuracy},
      {"validation_accuracy", r.validation_accuracy < 0 ? nlohmann::json(nullptr) : nlohmann::json(r.validation_accuracy)},
      {"test_accuracy", r.test_accuracy < 0 ? nlohmann::json(nullptr) : nlohmann::json(r.test_accuracy)},
      {"epochs_run", r.epochs_run},
      {"selected_epoch", r.selected_epoch},
      {"stopped_early", r.stopped_early},
      {"wall_s", r.wall_s},
      {"mean_epoch_s", r.history.empty() ? 0.0 : epoch_s / static_cast<double>(r.history.size())},
      {"train_samples", data.train.size()},
      {"validation_samples", data.validation.size()},
      {"test_samples", data.test.size()},
      {"weights", files},
      {"collapsed", collapsed},
      {"output_health", health},
      {"options", cfg.to_json()},
      {"curve", curve}};
  if (cals.size() > 1) {
    // Corner-aware: the accuracies above are means over the calibrations; here each one's.
    nlohmann::json per = nlohmann::json::array();
    auto at = [](const std::vector<double>& v, std::size_t k) { return k < v.size() ? nlohmann::json(v[k]) : nlohmann::json(nullptr); };
    for (std::size_t k = 0; k < cals.size(); ++k)
      per.push_back({{"calibration", k == 0 ? cfg.calibration : cfg.corner_calibrations[k - 1]},
                     {"calibration_fnv1a64", hex64(fnv1a64(read_file(k == 0 ? cfg.calibration : cfg.corner_calibrations[k - 1])))},
                     {"chip", cals[k].chip},
                     {"train_accuracy", at(r.train_accuracies, k)},
                     {"validation_accuracy", at(r.validation_accuracies, k)},
                     {"test_accuracy", at(r.test_accuracies, k)}});
    summary["corner_calibrations"] = cfg.corner_calibrations;
    summary["corners"] = per;
    summary["accuracies_are"] = "means over the calibrations (corners)";
  }
  write_json(cfg.out + "/summary.json", summary);
  if (cfg.plot)
    train::plot_learning_curve(cfg.out, r.history,
                               fmt::format("{} {} ({}), seed {}", cfg.data.name, train::format_layers(cfg.train.layers),
                                           cfg.calibration.empty()      ? "homogeneous"
                                           : cal.has_synapse_gains() ? "chip slopes + synapse gains"
                                                                     : "chip slopes",
                                           cfg.train.seed));
  if (collapsed) {
    std::string units;
    for (int j : r.train_health.dead_units) units += fmt::format(" {}", j);
    std::string test_units;
    for (int j : r.test_health.dead_units) test_units += fmt::format(" {}", j);
    fmt::print(stderr,
               "WARNING: the trained network has collapsed: dead output unit(s) on the training set:{}; on the test set:{}; "
               "{} of {} test samples give all-zero outputs. Its accuracy is not a result of this configuration "
               "(summary.json: \"collapsed\": true).\n",
               units.empty() ? " none" : units, test_units.empty() ? " none" : test_units, r.test_health.all_zero_samples,
               r.test_health.samples);
  }
  fmt::print("{}: test accuracy {:.2f} %, train {:.2f} %{} after {} epochs (selected epoch {}), {}\n", cfg.out,
             100 * r.test_accuracy, 100 * r.train_accuracy,
             r.validation_accuracy >= 0 ? fmt::format(", validation {:.2f} %", 100 * r.validation_accuracy) : "",
             r.epochs_run, r.selected_epoch, format_duration(r.wall_s));
  for (std::size_t k = 0; cals.size() > 1 && k < cals.size() && k < r.test_accuracies.size(); ++k)
    fmt::print("{}: test accuracy with {}: {:.2f} %\n", cfg.out, k == 0 ? cfg.calibration : cfg.corner_calibrations[k - 1],
               100 * r.test_accuracies[k]);
  fmt::print("{}: output health: {} dead output unit(s), {} of {} test samples with all-zero outputs, {} recovery(ies) in {} "
             "epoch(s) with dead outputs{}\n",
             cfg.out, r.train_health.dead_units.size(), r.test_health.all_zero_samples, r.test_health.samples,
             recoveries.size(), epochs_with_dead, collapsed ? " — COLLAPSED" : "");
  return 0;
}

}  // namespace nnspice::tools

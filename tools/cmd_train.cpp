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
#include "nnspice/train/config.hpp"
#include "nnspice/train/weights_io.hpp"
#include "train_cli.hpp"

namespace nnspice::tools {

int cmd_train(int argc, char** argv) {
  po::options_description o("Options");
  add_dataset_options(o);
  o.add_options()
    ("layers", po::value<std::string>(), "network, e.g. 196-100-50-10 (defaults: mnist 196-100-50-10, fsdd 132-100-50-10, iris 4-7-3)")
    ("calibration", po::value<std::string>(), "calibration.json of the chip (slopes, negative gains, optional per-synapse gains); default: homogeneous model")
    ("negative-gain", po::value<double>(), "homogeneous model only: gain of negative weights (default 1)")
    ("epochs", po::value<int>(), "epochs (mnist 50, fsdd 200, iris 300)")
    ("lr", po::value<double>(), "Adam learning rate (mnist/fsdd 0.001, iris 0.01)")
    ("lr-schedule", po::value<std::string>(), "constant | cosine (decays to 2 % of --lr over the epochs)")
    ("batch", po::value<int>(), "mini-batch size (mnist/fsdd 200, iris 10)")
    ("loss", po::value<std::string>(), "weighted_mse (authors' code; default) | mse (paper) | cross_entropy")
    ("target-scale", po::value<double>(), "height of the one-hot target (default 3 for weighted_mse, 1 for mse)")
    ("adam-eps", po::value<double>(), "Adam epsilon (default 1e-6)")
    ("init-range", po::value<double>(), "initial master weights ~ U(-r, r) (default 0.5)")
    ("l1-negative", po::value<double>(), "L1 penalty on negative weights (default 1e-6)")
    ("l1-activity", po::value<double>(), "L1 penalty on hidden activations (default 0)")
    ("relu-leak", po::value<double>(), "surrogate ReLU slope below threshold in the backward pass only (revives dead units; default 0)")
    ("quantize", po::value<bool>(), "3-bit + sign weights (true, default) or float weights (false)")
    ("weight-step", po::value<double>(), "value of weight code +1 (default 0.25)")
    ("patience", po::value<int>(), "early stopping: epochs without validation improvement (0 = off; needs --validation)")
    ("threads", jobs_value(), "threads for the matrix products (default 2)")
    ("out,o", po::value<std::string>(), "output directory (default runs/train)")
    ("plot", po::value<bool>(), "write learning_curve.png (default true)")
    ("resume", po::bool_switch(), "continue from OUT/checkpoint.bin (same configuration; --epochs may grow)")
    ("quiet,q", po::bool_switch(), "no progress line");
  po::variables_map vm;
  if (!parse_options(argc, argv, o, vm, "nnspice train [--config train.yaml] [--dataset mnist|fsdd|iris] [options] --out DIR",
                     "Trains a bias-free ReLU network y = s * relu(W x) with fixed per-neuron slopes s from a chip's calibration\n"
                     "(docs/conventions.md) and 3-bit + sign weights (dual-copy rounding, straight-through gradients), Adam.\n"
                     "A calibration with per-synapse gains (nnspice characterize --synapses) is used per synapse unless\n"
                     "--synapse-gains false.\n"
                     "Writes OUT/weights_<l>.npy (int32 codes -7..7, shape (N_out, N_in)), summary.json, learning_curve.png,\n"
                     "checkpoint.bin (every epoch; --resume continues bit-identically), calibration.json, run.json.\n"
                     "See docs/training.md for the data sets, preprocessing and defaults."))
    return 0;
  const train::TrainConfig cfg = resolve_train_config(vm, true);
  train::Calibration cal = cfg.calibration.empty() ? train::homogeneous_calibration(cfg.train.layers, cfg.negative_gain)
                                                   : train::read_calibration(cfg.calibration, cfg.synapse_gains);
  cal.check_matches(cfg.train.layers);
  const bool quiet = vm["quiet"].as<bool>();
  const std::string model = cfg.calibration.empty()    ? std::string("homogeneous")
                            : cal.has_synapse_gains() ? "chip (" + cfg.calibration + ", per-synapse gains)"
                            : !cfg.synapse_gains      ? "chip (" + cfg.calibration + ", per-neuron model: synapse_gains false)"
                                                      : "chip (" + cfg.calibration + ")";

  if (!quiet) fmt::print(stderr, "loading {} ...\n", cfg.data.name);
  const train::DataSplits data = train::load_dataset(cfg.data);
  if (!quiet)
    fmt::print(stderr, "{}: {} train / {} validation / {} test samples, {} features; network {}, {} model\n",
               cfg.data.name, data.train.size(), data.validation.size(), data.test.size(), data.train.features(),
               train::format_layers(cfg.train.layers), model);

  make_dirs(cfg.out);
  nlohmann::json record = {{"seed", cfg.train.seed}, {"config", cfg.to_json()}, {"dataset", data.info},
                           {"eigen_version", fmt::format("{}.{}.{}", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION)}};
  record["dataset"].erase("selected_pixels");
  write_run_json(cfg.out, record);

  train::TrainHooks hooks;
  hooks.checkpoint_path = cfg.out + "/checkpoint.bin";
  hooks.resume = vm["resume"].as<bool>();
  hooks.progress = !quiet;
  const train::TrainResult r = train::train_network(cfg.train, cal, data, hooks);
  // A model with NaN/Inf outputs has no accuracy (issue 17, class 4): a failure, never a result.
  for (const auto& [name, set] : {std::pair<const char*, const train::Dataset*>{"train", &data.train}, {"validation", &data.validation}, {"test", &data.test}})
    if (const train::NonFinite bad = train::non_finite_samples(train::outputs(r.net, *set)); bad.count > 0)
      throw NumericalError(fmt::format("{}: the trained model gives NaN/Inf outputs for {} of {} samples of the {} set (first: sample {}): no accuracy "
                                       "(weights not written)", cfg.out, bad.count, set->size(), name, bad.first));

  const auto files = train::write_weight_codes(cfg.out, r.net);
  // With the weights (not before training: a refused --resume must not replace the calibration they were trained on).
  train::write_calibration(cfg.out + "/calibration.json", cal);
  nlohmann::json curve = nlohmann::json::array();
  double epoch_s = 0;
  for (const auto& e : r.history) {
    curve.push_back({{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"train_accuracy", e.train_accuracy},
                     {"validation_accuracy", e.validation_accuracy}, {"test_accuracy", e.test_accuracy},
                     {"seconds", e.seconds}});
    epoch_s += e.seconds;
  }
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
      {"options", cfg.to_json()},
      {"curve", curve}};
  write_json(cfg.out + "/summary.json", summary);
  if (cfg.plot)
    train::plot_learning_curve(cfg.out, r.history,
                               fmt::format("{} {} ({}), seed {}", cfg.data.name, train::format_layers(cfg.train.layers),
                                           cfg.calibration.empty()      ? "homogeneous"
                                           : cal.has_synapse_gains() ? "chip slopes + synapse gains"
                                                                     : "chip slopes",
                                           cfg.train.seed));
  fmt::print("{}: test accuracy {:.2f} %, train {:.2f} %{} after {} epochs (selected epoch {}), {}\n", cfg.out,
             100 * r.test_accuracy, 100 * r.train_accuracy,
             r.validation_accuracy >= 0 ? fmt::format(", validation {:.2f} %", 100 * r.validation_accuracy) : "",
             r.epochs_run, r.selected_epoch, format_duration(r.wall_s));
  return 0;
}

}  // namespace nnspice::tools

#include "train_cli.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "nnspice/common/error.hpp"

namespace nnspice::tools {

std::string per_dataset_default(const std::function<std::string(const train::TrainConfig&)>& field) {
  std::vector<std::string> v;
  for (const char* ds : {"mnist", "fsdd", "iris"}) v.push_back(field(train::TrainConfig::defaults_for(ds)));
  if (v[0] == v[1] && v[1] == v[2]) return v[0];
  return fmt::format("mnist {}, fsdd {}, iris {}", v[0], v[1], v[2]);
}

std::string per_dataset_defaults_table() {
  std::string s;
  for (const char* ds : {"mnist", "fsdd", "iris"}) {
    const train::TrainConfig c = train::TrainConfig::defaults_for(ds);
    const train::TrainOptions& t = c.train;
    s += fmt::format("  {}: layers {}, loss {}, lr {}, lr_schedule {}, epochs {}, batch {}, relu_leak {}, augment {}\n", ds,
                     train::format_layers(t.layers), train::loss_name(t.loss), t.learning_rate, t.lr_schedule, t.epochs,
                     t.batch_size, t.relu_leak, c.data.augment);
  }
  return s;
}

void add_dataset_options(po::options_description& o) {
  const std::string augment = "FSDD: add hop-stretched copies (x0.8 0.9 1.1 1.3) of the training set (true|false; default " +
                              per_dataset_default([](const train::TrainConfig& c) { return fmt::format("{}", c.data.augment); }) + ")";
  o.add_options()
    ("config,c", po::value<std::string>(), "train.yaml with any of the keys below (flags given override it)")
    ("dataset", po::value<std::string>(), "mnist | fsdd | iris (default mnist)")
    ("mnist", po::value<std::string>(), "directory of the 4 MNIST IDX files (default $NNSPICE_MNIST_DIR, else /usr/local/share/nnspice/mnist)")
    ("fsdd", po::value<std::string>(), "FSDD directory (repository root with recordings/, or recordings/ itself)")
    ("iris-csv", po::value<std::string>(), "Iris CSV (default: the shipped data/datasets/iris.csv)")
    ("pixels", po::value<std::string>(), "MNIST input pixels: checkerboard (authors' code, 196 px; default) | most_active | all")
    ("num-pixels", po::value<int>(), "number of pixels for --pixels most_active (default 196)")
    ("input-mean", po::value<double>(), "per-sample mean input after normalisation (MNIST 0.1, FSDD 0.03)")
    ("augment", po::value<bool>(), augment.c_str())
    ("validation", po::value<double>(), "fraction of the training set held out for validation / early stopping (default 0)")
    ("train-limit", count_value(), "use only the first N training samples (quick runs)")
    ("test-limit", count_value(), "use only the first N test samples")
    ("seed", seed_value(), "seed of initialisation, shuffling and splits (default 1)")
    ("synapse-gains", po::value<bool>(), "use the calibration's per-synapse gains when it has them (true, default) or its "
                                         "per-neuron model (false)");
}

train::TrainConfig resolve_train_config(const po::variables_map& vm, bool training_flags) {
  std::string dataset = vm.count("dataset") ? vm["dataset"].as<std::string>() : "mnist";
  if (dataset != "mnist" && dataset != "fsdd" && dataset != "iris")
    throw InputError(fmt::format("--dataset = '{}': expected mnist, fsdd or iris", dataset));
  train::TrainConfig c = train::TrainConfig::defaults_for(dataset);
  if (vm.count("config")) {
    train::apply_train_yaml(vm["config"].as<std::string>(), c);
    if (vm.count("dataset") && c.data.name != dataset)
      throw InputError(fmt::format("--dataset {} contradicts dataset: {} in {}", dataset, c.data.name,
                                   vm["config"].as<std::string>()));
  }
  auto str = [&](const char* k, std::string& dst) { if (vm.count(k)) dst = vm[k].as<std::string>(); };
  str("mnist", c.data.mnist_dir);
  str("fsdd", c.data.fsdd_dir);
  str("iris-csv", c.data.iris_csv);
  str("pixels", c.data.pixels);
  if (c.data.pixels != "checkerboard" && c.data.pixels != "most_active" && c.data.pixels != "all")
    throw InputError(fmt::format("--pixels = '{}': expected checkerboard, most_active or all", c.data.pixels));
  if (vm.count("num-pixels")) c.data.num_pixels = vm["num-pixels"].as<int>();
  if (c.data.num_pixels < 1) throw InputError(fmt::format("--num-pixels = {}: must be >= 1", c.data.num_pixels));
  if (vm.count("input-mean")) c.data.input_mean = vm["input-mean"].as<double>();
  if (vm.count("augment")) c.data.augment = vm["augment"].as<bool>();
  if (vm.count("validation")) c.data.validation_fraction = vm["validation"].as<double>();
  if (!(c.data.validation_fraction >= 0 && c.data.validation_fraction < 1))
    throw InputError(fmt::format("--validation = {}: must be in [0, 1)", c.data.validation_fraction));
  if (vm.count("train-limit")) c.data.train_limit = vm["train-limit"].as<std::size_t>();
  if (vm.count("test-limit")) c.data.test_limit = vm["test-limit"].as<std::size_t>();
  if (vm.count("seed")) c.train.seed = vm["seed"].as<std::uint64_t>();
  c.data.seed = c.train.seed;
  if (vm.count("synapse-gains")) c.synapse_gains = vm["synapse-gains"].as<bool>();
  if (!training_flags) return c;
  if (vm.count("layers")) c.train.layers = train::parse_layers(vm["layers"].as<std::string>(), "--layers");
  str("calibration", c.calibration);
  if (vm.count("corner-calibration")) c.corner_calibrations = vm["corner-calibration"].as<std::vector<std::string>>();
  if (!c.corner_calibrations.empty()) {
    if (c.calibration.empty())
      throw InputError(fmt::format("--corner-calibration {}: needs --calibration (the chip at its reference corner)",
                                   c.corner_calibrations.front()));
    if (c.corner_calibrations.size() > 15)
      throw InputError(fmt::format("--corner-calibration given {} times: at most 15 (16 calibrations in all)", c.corner_calibrations.size()));
    std::vector<std::string> seen{c.calibration};
    for (const auto& f : c.corner_calibrations) {
      if (f.empty()) throw InputError("--corner-calibration = '': an empty file name");
      for (const auto& g : seen)
        if (std::filesystem::exists(f) && std::filesystem::exists(g) ? std::filesystem::equivalent(f, g) : f == g)
          throw InputError(fmt::format("--corner-calibration {}: given twice (with --calibration or another --corner-calibration {})", f, g));
      seen.push_back(f);
    }
  }
  if (vm.count("negative-gain")) c.negative_gain = vm["negative-gain"].as<double>();
  if (!(c.negative_gain > 0)) throw InputError(fmt::format("--negative-gain = {}: must be > 0", c.negative_gain));
  if (vm.count("epochs")) c.train.epochs = vm["epochs"].as<int>();
  if (vm.count("lr")) c.train.learning_rate = vm["lr"].as<double>();
  if (vm.count("lr-schedule")) c.train.lr_schedule = vm["lr-schedule"].as<std::string>();
  if (vm.count("batch")) c.train.batch_size = vm["batch"].as<int>();
  if (vm.count("loss")) c.train.loss = train::parse_loss(vm["loss"].as<std::string>(), "--loss");
  if (vm.count("target-scale")) c.train.target_scale = vm["target-scale"].as<double>();
  if (vm.count("adam-eps")) c.train.adam_eps = vm["adam-eps"].as<double>();
  if (vm.count("init-range")) c.train.init_range = vm["init-range"].as<double>();
  if (vm.count("l1-negative")) c.train.l1_negative = vm["l1-negative"].as<double>();
  if (vm.count("l1-activity")) c.train.l1_activity = vm["l1-activity"].as<double>();
  if (vm.count("relu-leak")) c.train.relu_leak = vm["relu-leak"].as<double>();
  if (vm.count("quantize")) c.train.quantize = vm["quantize"].as<bool>();
  if (vm.count("revive-dead")) c.train.revive_dead = vm["revive-dead"].as<bool>();
  if (vm.count("dead-fraction")) c.train.dead_fraction = vm["dead-fraction"].as<double>();
  if (vm.count("revive-leak")) c.train.revive_leak = vm["revive-leak"].as<double>();
  if (vm.count("revive-patience")) c.train.revive_patience = vm["revive-patience"].as<int>();
  if (vm.count("weight-step")) {
    c.train.grid.step = vm["weight-step"].as<double>();
    c.weight_step_given = true;
  }
  if (vm.count("weight-bits")) {
    c.weight_bits = vm["weight-bits"].as<int>();
    if (c.weight_bits < 1 || c.weight_bits > 6)
      throw InputError(fmt::format("--weight-bits (YAML weight_bits) = {}. Violated constraint: 1 <= weight_bits <= 6", c.weight_bits));
  }
  if (vm.count("patience")) c.train.patience = vm["patience"].as<int>();
  if (vm.count("threads")) c.train.threads = vm["threads"].as<int>();
  str("out", c.out);
  if (vm.count("plot")) c.plot = vm["plot"].as<bool>();
  c.train.validate();
  return c;
}

}  // namespace nnspice::tools

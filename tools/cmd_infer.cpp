// nnspice infer: the behavioural model of a chip (weight codes + calibration) on a data set →
// accuracy, confusion matrix, outputs.npy.
#include <fmt/format.h>

#include "cli_util.hpp"
#include "commands.hpp"
#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/model/weight_codes.hpp"
#include "nnspice/train/weights_io.hpp"
#include "train_cli.hpp"

namespace nnspice::tools {

int cmd_infer(int argc, char** argv) {
  po::options_description o("Options");
  add_dataset_options(o);
  o.add_options()
    ("weights,w", po::value<std::string>()->required(), "directory with weights_0.npy … (or .csv): integer codes -7..7, shape (N_out, N_in)")
    ("calibration", po::value<std::string>(), "calibration.json of the chip (its per-synapse gains too, unless --synapse-gains false); "
                                              "default: homogeneous (slopes 1)")
    ("negative-gain", po::value<double>(), "homogeneous model only: gain of negative weights (default 1)")
    ("weight-step", po::value<double>(), "value of weight code +1 (default 0.25; scales outputs only)")
    ("split", po::value<std::string>()->default_value("test"), "which part of the data set: test | train | validation")
    ("out,o", po::value<std::string>(), "output directory: summary.json, confusion.csv, outputs.npy (samples, N_L), labels.npy, run.json");
  po::variables_map vm;
  if (!parse_options(argc, argv, o, vm, "nnspice infer --weights DIR [--calibration FILE] [--dataset mnist|fsdd|iris] [--out DIR]",
                     "Evaluates a chip's behavioural model (docs/conventions.md) with trained weight codes on a data set:\n"
                     "accuracy (class = most active output), confusion matrix (rows = true class), the outputs.\n"
                     "Data options (or --config train.yaml) must match the training run's preprocessing."))
    return 0;
  train::TrainConfig cfg = resolve_train_config(vm, false);
  const std::string wdir = vm["weights"].as<std::string>();
  const auto codes = train::read_weight_codes(wdir, model::kMaxCodeAnyBits);  // checked against the chip's bits below
  const train::Layers layers = train::layers_of(codes);
  double gain = 1.0;
  if (vm.count("negative-gain")) gain = vm["negative-gain"].as<double>();
  if (!(gain > 0)) throw InputError(fmt::format("--negative-gain = {}: must be > 0", gain));
  const std::string cal_path = vm.count("calibration") ? vm["calibration"].as<std::string>() : "";
  const train::Calibration cal = cal_path.empty() ? train::homogeneous_calibration(layers, gain)
                                                 : train::read_calibration(cal_path, cfg.synapse_gains);
  cal.check_matches(layers);
  train::QuantGrid grid;
  // The chip's codes: ±(2^B - 1) for its calibration's weight_bits; the homogeneous model takes any code of 1..6 bits.
  grid.max_code = cal_path.empty() ? model::kMaxCodeAnyBits : cal.max_code();
  for (std::size_t l = 0; l < codes.size(); ++l)
    if (const int m = codes[l].cwiseAbs().maxCoeff(); m > grid.max_code)
      throw InputError(fmt::format("{}: weights of layer {} hold code ±{}, but {} is the calibration of a chip with {}-bit synapses (codes up to ±{})",
                                   wdir, l, m, cal_path, cal.weight_bits, grid.max_code));
  if (vm.count("weight-step")) grid.step = vm["weight-step"].as<double>();
  if (!(grid.step > 0)) throw InputError(fmt::format("--weight-step = {}: must be > 0", grid.step));
  train::Network<float> net;
  net.configure(layers, cal, grid, true);
  for (std::size_t l = 0; l < codes.size(); ++l) net.set_codes(l, codes[l]);

  const std::string split = vm["split"].as<std::string>();
  if (split != "test" && split != "train" && split != "validation")
    throw InputError(fmt::format("--split = '{}': expected test, train or validation", split));
  // Augmented copies only enlarge the training set (the feature scaling uses the un-augmented one).
  if (split != "train") cfg.data.augment = false;
  const train::DataSplits data = train::load_dataset(cfg.data);
  const train::Dataset& d = split == "test" ? data.test : split == "train" ? data.train : data.validation;
  if (d.size() == 0) throw InputError(fmt::format("--split {}: no samples (use --validation F for a validation split)", split));
  if (d.features() != static_cast<std::size_t>(layers.front()))
    throw InputError(fmt::format("{}: the weights expect {} inputs, the {} data set has {} features", wdir, layers.front(),
                                 cfg.data.name, d.features()));
  const Eigen::MatrixXf out = train::outputs(net, d);
  const int C = layers.back();
  // A NaN/Inf output is a failed sample, never a class (issue 17, class 4): no accuracy is printed.
  const train::NonFinite bad = train::non_finite_samples(out);
  if (bad.count > 0)
    throw NumericalError(fmt::format("{} of {} samples of the {} {} set gave NaN/Inf outputs (first: sample {}); no accuracy (weights {}, calibration {})",
                                     bad.count, d.size(), cfg.data.name, split, bad.first, wdir, cal_path.empty() ? "homogeneous" : cal_path));
  std::vector<double> confusion(static_cast<std::size_t>(C * C), 0.0);
  std::size_t ok = 0, dead = 0;
  for (Eigen::Index b = 0; b < out.cols(); ++b) {
    Eigen::Index k;
    out.col(b).maxCoeff(&k);
    const int y = d.y[static_cast<std::size_t>(b)];
    ok += k == y;
    dead += out.col(b).maxCoeff() <= 0;
    if (y < C) confusion[static_cast<std::size_t>(y * C + k)] += 1;
  }
  const double acc = static_cast<double>(ok) / static_cast<double>(d.size());
  fmt::print("{} {} set, {} samples: accuracy {:.2f} % ({} correct){}{}\n", cfg.data.name, split, d.size(), 100 * acc, ok,
             dead ? fmt::format("; {} samples with all outputs 0", dead) : "", cal.has_synapse_gains() ? "; per-synapse gains" : "");
  fmt::print("confusion matrix (rows = true class, columns = predicted):\n");
  for (int i = 0; i < C; ++i) {
    for (int j = 0; j < C; ++j) fmt::print("{:6}", confusion[static_cast<std::size_t>(i * C + j)]);
    fmt::print("\n");
  }
  if (vm.count("out")) {
    const std::string dir = vm["out"].as<std::string>();
    make_dirs(dir);
    std::vector<double> o2(static_cast<std::size_t>(out.size()));
    for (Eigen::Index b = 0; b < out.cols(); ++b)
      for (Eigen::Index j = 0; j < out.rows(); ++j) o2[static_cast<std::size_t>(b * out.rows() + j)] = out(j, b);
    write_npy(dir + "/outputs.npy", o2, {d.size(), static_cast<std::size_t>(C)});
    std::vector<std::int32_t> labels(d.y.begin(), d.y.end());
    write_npy(dir + "/labels.npy", labels, {d.size()});
    std::vector<std::string> header;
    for (int j = 0; j < C; ++j) header.push_back(fmt::format("predicted_{}", j));
    write_csv(dir + "/confusion.csv", header, confusion, static_cast<std::size_t>(C));
    nlohmann::json conf = nlohmann::json::array();
    for (int i = 0; i < C; ++i) {
      std::vector<double> row(confusion.begin() + i * C, confusion.begin() + (i + 1) * C);
      conf.push_back(row);
    }
    nlohmann::json summary = {{"dataset", cfg.data.name}, {"split", split}, {"samples", d.size()}, {"accuracy", acc},
                              {"correct", ok}, {"all_outputs_zero", dead}, {"layers", layers}, {"weights", wdir},
                              {"calibration", cal_path.empty() ? "homogeneous" : cal_path},
                              {"synapse_gains_used", cal.has_synapse_gains()}, {"synapse_code_gains_used", cal.has_code_gains()}, {"confusion", conf}};
    write_json(dir + "/summary.json", summary);
    nlohmann::json rec = {{"seed", cfg.train.seed}, {"config", cfg.to_json()}, {"weights", wdir},
                          {"calibration", cal_path}, {"dataset", data.info}};
    rec["dataset"].erase("selected_pixels");
    write_run_json(dir, rec);
  }
  return 0;
}

}  // namespace nnspice::tools

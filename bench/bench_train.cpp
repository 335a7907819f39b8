// bench_train: seconds per training epoch of `nnspice train`'s model against a PyTorch CPU baseline
// (bench/torch_reference.py, the identical model: 196-100-50-10, 3-bit STE weights, target-weighted MSE,
// Adam, batch 200) on the same machine in the same run. Prints both, the ratio, and writes JSON.
//   bench_train [--epochs 3] [--threads 2] [--batch 200] [--mnist DIR] [--python /usr/bin/python3] [--json FILE]
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/train/config.hpp"

using namespace nnspice::train;

namespace {
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}
}  // namespace

int main(int argc, char** argv) {
  int epochs = 3, threads = 2, batch = 200;
  std::string mnist, python = "/usr/bin/python3", json_out = "bench_train.json";
  std::string script = std::string(NNSPICE_SOURCE_DIR) + "/bench/torch_reference.py";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "bench_train: {} needs a value\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--epochs") epochs = std::stoi(next());
    else if (a == "--threads") threads = std::stoi(next());
    else if (a == "--batch") batch = std::stoi(next());
    else if (a == "--mnist") mnist = next();
    else if (a == "--python") python = next();
    else if (a == "--json") json_out = next();
    else {
      fmt::print("usage: bench_train [--epochs N] [--threads T] [--batch B] [--mnist DIR] [--python PY] [--json FILE]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  try {
    TrainConfig c = TrainConfig::defaults_for("mnist");
    c.data.mnist_dir = mnist;
    // The model and step of torch_reference.py.
    c.train.loss = Loss::weighted_mse;
    c.train.learning_rate = 0.001;
    c.train.lr_schedule = "constant";
    c.train.relu_leak = 0.0;
    c.train.epochs = epochs;
    c.train.batch_size = batch;
    c.train.threads = threads;
    const DataSplits data = load_dataset(c.data);
    TrainHooks h;
    h.progress = false;
    const TrainResult r = train_network(c.train, homogeneous_calibration(c.train.layers), data, h);
    std::vector<double> ours;
    for (const auto& e : r.history) {
      ours.push_back(e.seconds);
      fmt::print("nnspice epoch {}: {:.3f} s, test {:.2f} %\n", e.epoch, e.seconds, 100 * e.test_accuracy);
    }
    nlohmann::json out = {{"machine", nnspice::run_record()},
                          {"epochs", epochs},
                          {"threads", threads},
                          {"batch", batch},
                          {"train_samples", data.train.size()},
                          {"nnspice_epoch_s", ours},
                          {"nnspice_median_epoch_s", median(ours)}};
    const std::string tjson = json_out + ".torch.json";
    // The baseline's model is nnspice.torch.ChipNetwork (python/), from this build tree.
    const std::string cmd = fmt::format("PYTHONPATH='{}' '{}' '{}' --epochs {} --threads {} --batch {} --json '{}' {}", NNSPICE_PYTHON_DIR, python, script,
                                        epochs, threads, batch, tjson,
                                        mnist.empty() ? std::string() : fmt::format("--mnist '{}'", mnist));
    std::remove(tjson.c_str());
    if (std::system(cmd.c_str()) == 0 && nnspice::file_exists(tjson)) {
      const auto t = nlohmann::json::parse(nnspice::read_file(tjson));
      std::vector<double> theirs;
      for (const auto& e : t["epochs"]) theirs.push_back(e["seconds"].get<double>());
      out["torch_version"] = t["torch_version"];
      out["torch_epoch_s"] = theirs;
      out["torch_median_epoch_s"] = median(theirs);
      out["speedup_vs_torch"] = median(theirs) / median(ours);
      fmt::print("median seconds per epoch: nnspice {:.3f}, PyTorch {} {:.3f} -> nnspice is {:.1f}x faster\n",
                 median(ours), t["torch_version"].get<std::string>(), median(theirs), median(theirs) / median(ours));
    } else {
      fmt::print(stderr, "bench_train: the PyTorch baseline did not run ({}); install python3-torch\n", cmd);
    }
    nnspice::write_json(json_out, out);
    fmt::print("wrote {}\n", json_out);
  } catch (const nnspice::InputError& e) {
    fmt::print(stderr, "bench_train: {}\n", e.what());
    return 2;
  }
  return 0;
}

// Options shared by `nnspice train` and `nnspice infer`: the data set and its preprocessing, and the
// merge of train.yaml with command-line flags (flags win).
#pragma once

#include <functional>
#include <string>

#include "cli_util.hpp"
#include "nnspice/train/config.hpp"

namespace nnspice::tools {

void add_dataset_options(po::options_description& o);
/// "mnist A, fsdd B, iris C" (or just "A" when all three agree) of a field of TrainConfig::defaults_for — the
/// table the code uses — so that --help cannot drift from it.
std::string per_dataset_default(const std::function<std::string(const train::TrainConfig&)>& field);
/// One line per data set with the defaults of TrainConfig::defaults_for (layers, loss, lr, schedule, …).
std::string per_dataset_defaults_table();
/// Builds the configuration: defaults of the data set, then --config YAML, then the flags given.
train::TrainConfig resolve_train_config(const po::variables_map& vm, bool training_flags);

}  // namespace nnspice::tools

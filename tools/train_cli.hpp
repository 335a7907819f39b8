// Options shared by `nnspice train` and `nnspice infer`: the data set and its preprocessing, and the
// merge of train.yaml with command-line flags (flags win).
#pragma once

#include "cli_util.hpp"
#include "nnspice/train/config.hpp"

namespace nnspice::tools {

void add_dataset_options(po::options_description& o);
/// Builds the configuration: defaults of the data set, then --config YAML, then the flags given.
train::TrainConfig resolve_train_config(const po::variables_map& vm, bool training_flags);

}  // namespace nnspice::tools

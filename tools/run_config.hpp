// The config of `nnspice run` (YAML; keys in the README and examples/run_*.yaml): its experiments and
// their stage options. parse_run_config() validates everything before any work starts: unknown keys,
// wrong types and out-of-range values are InputErrors naming file:line, the key and the value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nnspice {
class YamlMap;
}

namespace nnspice::tools {

/// The corner of a stage (`temp_C`, `vdd_V` in the config; --temp-C / --vdd-V of the stage); unset = the process's.
struct StageCorner {
  std::optional<double> temp_C, vdd_V;
};

struct Experiment {
  std::string name, dataset, layers, mnist_dir, fsdd_dir, iris_csv;
  std::string process;             // process YAML of this experiment ("" = the run's)
  std::uint64_t chip_seed = 7, data_seed = 1;
  std::string char_method = "auto", eval_method = "auto", dyn_method = "auto";
  std::string char_synapses = "none";  // characterize --synapses --synapse-codes: none (per-neuron model) | 7 | bits | all
  long long routings = 10, train_epochs = -1, train_limit = 0, eval_limit = 0, dyn_count = 10;
  double eval_input_mean = 0, train_lr = -1;
  double dyn_tmax = 0;             // dynamics --tmax (s); 0 = the command's default
  long long dyn_chunk = 0;         // dynamics --chunk (layer-wise post-neurons per stage netlist); 0 = whole layer
  std::vector<double> dyn_levels{15e-9, 45e-9};
  bool dynamics = true;
  long long chips = 1;             // Monte Carlo: chips drawn with seeds chip_seed, chip_seed+1, ...
  // Corners per stage (each defaults to the run's): characterise and train at one, evaluate or simulate at another.
  StageCorner char_corner, eval_corner, dyn_corner;
  // Corner-aware training (train: {corners: [{temp_C: -40}, ...]}): the chip is characterised at each of these too
  // and the chip-aware weights are trained against all the calibrations (train --corner-calibration).
  std::vector<StageCorner> train_corners;
  // Set by `nnspice sweep` (not a config key): each preparation stage (chip netlists, characterisation, ideal weights,
  // chip-aware weights) whose inputs equal an earlier experiment's is not repeated; this one uses that one's folder
  // (and always adds its own infer/evaluate/dynamics).
  bool share_preparation = false;
  /// The weight bits of the experiment's process when the process file is written later (a sweep's derived process);
  /// 0 = read the process file.
  int weight_bits = 0;
};

struct RunConfig {
  std::string out = "out/run", process, source = "(embedded default)", text;
  int jobs = 2;
  StageCorner corner;  // the run's corner: the chip's netlist and every stage without its own
  std::vector<Experiment> experiments;
};

/// The per-synapse chip models `characterize: {synapses: ...}` and `evaluate --synapse-codes` accept: none (per-neuron
/// slopes) or a value of characterize --synapse-codes (7, bits, all; measure/ is not linked here).
bool is_synapse_model(const std::string& value);

/// One experiment's keys (all but `name`) from its map: the same keys, defaults and checks as in a run config; stages
/// without their own temp_C / vdd_V get `corner`. Throws InputError naming file:line (used by `nnspice sweep` too).
Experiment parse_experiment(const YamlMap& e, const StageCorner& corner);
/// The keys of an experiment's map: `more` and those parse_experiment reads.
std::vector<std::string> experiment_keys(std::vector<std::string> more);

/// temp_C / vdd_V of a map over `inherited`, within the bounds of --temp-C / --vdd-V (InputError at file:line).
StageCorner read_corner(const YamlMap& m, StageCorner inherited);

/// The run-wide keys of a map: temp_C / vdd_V (the corner), out (default: c.out as it is), process, jobs.
void read_run_settings(const YamlMap& m, RunConfig& c);

/// Parses and validates a run config (`name` = the file, for messages). Throws InputError.
RunConfig parse_run_config(const std::string& text, const std::string& name);

}  // namespace nnspice::tools

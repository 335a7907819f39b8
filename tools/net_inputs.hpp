// The options every network-level command shares (--layers, --process, --seed/--chip, --weights,
// --inputs) and their resolution into a process, chip, weights and input currents.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "cli_util.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/netlist/network.hpp"
#include "nnspice/netlist/process.hpp"

namespace nnspice::tools {

struct NetworkInputs {
  netlist::NetworkSpec spec;
  netlist::Process process;
  mismatch::Chip chip;
  bool chip_from_file = false;
  std::string chip_path;
  netlist::WeightCodes weights;
  std::string weights_source;
  std::uint64_t weight_seed = 0;
  std::vector<double> input_A;

  std::vector<std::string> comments() const;
  nlohmann::json describe() const;
};

void add_network_options(po::options_description& o);
NetworkInputs resolve_network_inputs(const po::variables_map& vm);
/// Parses "1e-8,2e-8" or a single value repeated; throws InputError naming the option.
std::vector<double> parse_current_list(const std::string& text, const std::string& option);

}  // namespace nnspice::tools

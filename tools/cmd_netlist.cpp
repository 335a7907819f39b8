// nnspice netlist: (layers, weights, chip, process) -> SPICE netlist + chip file. Byte-identical output
// for identical inputs.
#include <fmt/format.h>

#include <chrono>

#include "cli_util.hpp"
#include "commands.hpp"
#include "net_inputs.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"

namespace nnspice::tools {

int cmd_netlist(int argc, char** argv) {
  po::options_description o("Options");
  add_network_options(o);
  o.add_options()
    ("parasitics", po::bool_switch(), "add the 11 fF-per-synapse parasitic capacitors (for transients)")
    ("no-readout", po::bool_switch(), "omit the output readout sinks")
    ("out,o", po::value<std::string>()->required(), "output directory (network.cir, chip.csv, weights_<l>.npy, summary.json, run.json)");
  po::variables_map vm;
  if (!parse_options(argc, argv, o, vm, "nnspice netlist --layers 4-7-3 [--seed N | --chip FILE] [--weights FILES...] --out DIR",
                     "Writes the SPICE netlist of a mismatched chip: 5-FET somas, 11-FET signed 3-bit synapses, 0 V probes on\n"
                     "every soma input, input current sources, supply, readout. The netlist runs unchanged in `ngspice -b`.\n"
                     "Weights: integer codes -7..7, one matrix (post, pre) per layer from .npy/.csv files or a directory of\n"
                     "weights_<l>.npy; default: random codes from --weight-seed. Chip: --chip FILE, or drawn from --seed."))
    return 0;
  const auto t0 = std::chrono::steady_clock::now();
  NetworkInputs net = resolve_network_inputs(vm);
  netlist::BuildOptions bo;
  bo.parasitics = vm["parasitics"].as<bool>();
  bo.readout = !vm["no-readout"].as<bool>();
  bo.input_A = net.input_A;
  bo.comments = net.comments();
  const netlist::Circuit c = netlist::build_network(net.spec, net.weights, net.process, &net.chip.delvto_V, bo);
  const std::string text = netlist::write_ngspice(c);
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const std::string out = vm["out"].as<std::string>();
  make_dirs(out);
  write_file_atomic(out + "/network.cir", text);
  if (!net.chip_from_file) mismatch::save_chip(net.chip, out + "/chip.csv");
  netlist::save_weights(net.weights, out);
  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  nlohmann::json summary = net.describe();
  summary["netlist"] = out + "/network.cir";
  summary["transistors"] = c.count(netlist::ElementKind::mosfet);
  summary["capacitors"] = c.count(netlist::ElementKind::capacitor);
  summary["synapses"] = net.spec.n_synapses();
  summary["elements"] = c.elements.size();
  summary["bytes"] = text.size();
  summary["build_s"] = build_s;
  summary["total_s"] = total_s;
  write_json(out + "/summary.json", summary);
  write_run_json(out, net.describe());
  fmt::print("{}: {} transistors, {} synapses, {:.1f} MB, chip {} ({:.2f} s)\n", out + "/network.cir", c.count(netlist::ElementKind::mosfet),
             net.spec.n_synapses(), text.size() / 1e6, net.chip_from_file ? net.chip_path : out + "/chip.csv", total_s);
  return 0;
}

}  // namespace nnspice::tools

#include "commands.hpp"

namespace nnspice::tools {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"calibration", "write a calibration.json without a chip: random slopes (paper-like spread) or homogeneous", cmd_calibration},
#ifdef NNSPICE_HAVE_MEASURE
      {"characterize", "measure a chip: per-neuron slopes and negative gains (routings at +7) -> calibration.json", cmd_characterize, true},
#endif
      {"device-tables", "build (or load) the native engine's device tables of a process ahead of time; prints their cost", cmd_device_tables},
      {"demo", "a quick look: 4-7-3 chip -> netlist -> in-process DC operating points -> output currents", cmd_demo},
      {"dnpu", "DNPU surrogates: eval, info, convert, spice element, seed experiments", cmd_dnpu},
#ifdef NNSPICE_HAVE_DYNAMICS
      {"dynamics", "pattern-switch transients: time to output, energy per operation (TOp/J), paper Fig. 3/4", cmd_dynamics, true},
#endif
#ifdef NNSPICE_HAVE_EVALUATE
      {"evaluate", "circuit-level accuracy of a programmed chip on every test sample (fast DC engine or ngspice; MPI)", cmd_evaluate, true},
      {"run", "the main job: chip -> characterise -> train -> evaluate -> transients -> report.md (YAML config)", cmd_run, true},
      {"sweep", "design-space grid (temperature, supply, input current, network, A_VT, area) x Monte Carlo chips: accuracy, yield, energy",
       cmd_sweep, true},
#endif
      {"infer", "evaluate trained weight codes on a chip's behavioural model: accuracy, confusion matrix, outputs", cmd_infer},
#ifdef NNSPICE_HAVE_MEMRISTOR
      {"memristor", "memristor crossbars: devices, SPICE crossbar and IR drop, VTEAM, in-place training, crossbar + DNPU hybrid", cmd_memristor},
#endif
      {"netlist", "write the SPICE netlist of a mismatched chip (+ its chip file)", cmd_netlist},
      {"simulate", "operating point or transient of a netlist in-process; probe currents as NPY/CSV", cmd_simulate},
      {"train", "train 3-bit + sign weights for a chip's measured slopes (MNIST, FSDD, Iris) -> weights_<l>.npy", cmd_train},
  };
  return table;
}

const Command* find_command(const std::string& name) {
  for (const auto& c : commands())
    if (name == c.name) return &c;
  return nullptr;
}

int run_command(const Command& command, const std::vector<std::string>& args) {
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.push_back(std::string("nnspice ") + command.name);
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  return command.run(static_cast<int>(storage.size()), argv.data());
}

}  // namespace nnspice::tools

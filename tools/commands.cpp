#include "commands.hpp"

namespace nnspice::tools {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
#ifdef NNSPICE_HAVE_MEASURE
      {"characterize", "measure a chip: per-neuron slopes and negative gains (routings at +7) -> calibration.json", cmd_characterize},
#endif
      {"demo", "the main job until `run` lands: 4-7-3 chip -> netlist -> DC operating point -> output currents", cmd_demo},
      {"dnpu", "DNPU surrogates: eval, info, convert, spice element, seed experiments", cmd_dnpu},
      {"netlist", "write the SPICE netlist of a mismatched chip (+ its chip file)", cmd_netlist},
      {"simulate", "operating point or transient of a netlist in-process; probe currents as NPY/CSV", cmd_simulate},
  };
  return table;
}

}  // namespace nnspice::tools

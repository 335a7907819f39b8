// The DNPU as a SPICE element: a subcircuit of behavioural sources (ngspice B-sources) that evaluates the
// surrogate MLP. Terminals e0..e{n-1} (electrode voltages vs ground, V) and `out`: an ideal current source
// pushing the surrogate's output current (nA x 1e-9 A) into `out` (positive = into the attached node),
// independent of V(out) — the surrogate was measured with the output at virtual ground. Hidden units are
// internal node voltages h<l>_<j> = act(W x + b) (dimensionless), so ngspice's operating point equals
// the C++ forward pass up to the printed precision. Clipping, when finite, with min()/max().
#pragma once

#include <string>

#include "nnspice/dnpu/surrogate.hpp"

namespace nnspice::dnpu {

struct SpiceElementOptions {
  std::string subckt_name = "dnpu";
  int terms_per_line = 6;  ///< products per continuation line
};

/// The .subckt ... .ends text (with a header comment naming the source model).
std::string dnpu_subcircuit(const SurrogateModel& m, const SpiceElementOptions& o = {});

/// A SPICE-safe subcircuit name from a model name ("si-boron-2020" -> "dnpu_si_boron_2020").
std::string spice_name(const std::string& s);

}  // namespace nnspice::dnpu

// The one rule for which engine a command uses when the user does not say ("auto"): the full netlist
// through ngspice while it is fast (small circuits), the native decomposed engine above that. Every command
// (characterize, evaluate, dynamics, run, evaluate --chips) resolves "auto" here and nowhere else.
#pragma once

#include <cstddef>
#include <string>

#include "nnspice/netlist/network.hpp"

namespace nnspice::engine {

/// Above this many transistors a full-netlist operating point takes seconds to minutes (196-20-10: ~46k
/// FETs, ~1 min per op) while the native engine answers in microseconds per input after its tables.
inline constexpr std::size_t kFullNetlistMaxTransistors = 20000;

/// True when "auto" means the fast engine for this network.
bool use_fast_engine(const netlist::NetworkSpec& spec);

/// True for a DC method name: auto, full, decomposed or decomposed-ngspice.
bool is_dc_method(const std::string& method);

/// DC methods: "full" (ngspice op on the whole netlist), "decomposed" (synapse port tables by the native
/// engine), "decomposed-ngspice" (the same decomposition with tables from ngspice DC sweeps: the
/// reference), "auto" (the rule above). Returns the resolved name; InputError naming `what` otherwise.
std::string resolve_dc_method(const std::string& method, const netlist::NetworkSpec& spec, const std::string& what = "--method");

/// Help text of the DC method options (one place).
inline constexpr const char* kDcMethodHelp =
    "auto (full netlist up to 20000 transistors, else decomposed) | full (ngspice op on the whole netlist) | decomposed (native engine) | "
    "decomposed-ngspice (synapse tables by ngspice sweeps: the reference)";

}  // namespace nnspice::engine

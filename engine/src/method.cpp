#include "nnspice/engine/method.hpp"

#include <fmt/format.h>

#include "nnspice/common/error.hpp"

namespace nnspice::engine {

bool use_fast_engine(const netlist::NetworkSpec& spec) { return netlist::count_transistors(spec) > kFullNetlistMaxTransistors; }

std::string resolve_dc_method(const std::string& method, const netlist::NetworkSpec& spec, const std::string& what) {
  if (method == "auto") return use_fast_engine(spec) ? "decomposed" : "full";
  if (method == "full" || method == "decomposed" || method == "decomposed-ngspice") return method;
  throw InputError(fmt::format("{} = '{}': expected auto, full, decomposed or decomposed-ngspice", what, method));
}

}  // namespace nnspice::engine

#include "nnspice/engine/method.hpp"

#include <fmt/format.h>

#include "nnspice/common/error.hpp"

namespace nnspice::engine {

bool use_fast_engine(const netlist::NetworkSpec& spec) { return netlist::count_transistors(spec) > kFullNetlistMaxTransistors; }

bool is_dc_method(const std::string& method) {
  return method == "auto" || method == "full" || method == "decomposed" || method == "decomposed-ngspice";
}

std::string resolve_dc_method(const std::string& method, const netlist::NetworkSpec& spec, const std::string& what) {
  if (method == "auto") return use_fast_engine(spec) ? "decomposed" : "full";
  if (is_dc_method(method)) return method;
  throw InputError(fmt::format("{} = '{}': expected auto, full, decomposed or decomposed-ngspice", what, method));
}

}  // namespace nnspice::engine

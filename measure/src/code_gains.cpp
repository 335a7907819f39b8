#include "nnspice/measure/code_gains.hpp"

#include <fmt/format.h>

#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"

namespace nnspice::measure {

CodeGains measure_code_gains(sim::Session& s, const netlist::Process& pr, double i_pre_A) {
  if (!(std::isfinite(i_pre_A) && i_pre_A > 0 && i_pre_A <= 1e-5))
    throw InputError(fmt::format("code gains: pre-neuron current {} A must be in (0, 1e-5] A", i_pre_A));
  const std::string vdd = netlist::names::kVdd, gnd = "0";
  CodeGains g;
  g.i_pre_A = i_pre_A;
  {  // the post node's voltage: a nominal soma's input node at the same current
    netlist::Circuit c = netlist::circuit_for_process(pr, "nnspice code gains: post node voltage");
    c.add_vsource(netlist::names::kSupply, vdd, gnd, pr.vdd_V);
    c.add_isource("IIN0", gnd, "g", i_pre_A);
    netlist::add_soma(c, pr, 1, 0, false, "g", "", "", nullptr);
    s.load(netlist::ngspice_lines(c));
    g.v_post_V = s.op().vectors.at("v(g)")[0];
  }
  netlist::Circuit c = netlist::circuit_for_process(pr, "nnspice code gains");
  c.add_vsource(netlist::names::kSupply, vdd, gnd, pr.vdd_V);
  c.add_isource("IIN0", gnd, "g", i_pre_A);
  netlist::add_soma(c, pr, 0, 0, true, "g", "p", "n", nullptr);
  c.add_vsource("VPOST", "post", gnd, g.v_post_V);
  for (int code = -7; code <= 7; ++code) {
    if (code == 0) continue;
    const std::size_t k = static_cast<std::size_t>(code + 7);
    netlist::add_synapse(c, pr, 0, k, 0, code, "n", "p", fmt::format("o{}", k), fmt::format("w{}_", k), false, nullptr);
    c.add_vsource(fmt::format("VQ{}", k), fmt::format("o{}", k), "post", 0.0);
  }
  s.load(netlist::ngspice_lines(c));
  const auto r = s.op();
  auto current = [&](int code) { return r.vectors.current(fmt::format("VQ{}", code + 7))[0]; };  // into the output node
  g.i_pos7_A = current(7);
  g.i_neg7_A = current(-7);
  if (!(g.i_pos7_A > 0) || !(g.i_neg7_A < 0))
    throw NumericalError(fmt::format("code gains: code +7 gave {} A and -7 gave {} A at {} A input (expected a source and a sink)", g.i_pos7_A,
                                     g.i_neg7_A, i_pre_A));
  for (int k = 1; k <= 7; ++k) {
    g.pos[static_cast<std::size_t>(k - 1)] = (current(k) / k) / (g.i_pos7_A / 7);
    g.neg[static_cast<std::size_t>(k - 1)] = (current(-k) / k) / (g.i_neg7_A / 7);
    for (double v : {g.pos[static_cast<std::size_t>(k - 1)], g.neg[static_cast<std::size_t>(k - 1)]})
      if (!(std::isfinite(v) && v > 0)) throw NumericalError(fmt::format("code gains: code ±{} gave gain {}", k, v));
  }
  return g;
}

}  // namespace nnspice::measure

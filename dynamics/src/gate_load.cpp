// Gate-load calibration for the layer-wise transients (switch_sim.hpp): the charge a synapse's mirror
// gates take from its pre-neuron's Vn and Vp nodes, per weight code, as dQ/dV over the operating range.
#include <fmt/format.h>

#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/dynamics/metrics.hpp"
#include "nnspice/dynamics/switch_sim.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"

namespace nnspice::dynamics {

GateLoad calibrate_gate_load(sim::Session& s, const netlist::Process& pr, const GateLoadOptions& o) {
  if (!(o.i_lo_A > 0 && o.i_hi_A > o.i_lo_A && o.i_hi_A <= 1e-4))
    throw InputError(fmt::format("GateLoadOptions: need 0 < i_lo_A ({}) < i_hi_A ({}) <= 1e-4", o.i_lo_A, o.i_hi_A));
  if (!(o.ramp_s > 0) || !(o.v_out_V >= 0 && o.v_out_V <= pr.vdd_V))
    throw InputError(fmt::format("GateLoadOptions: need ramp_s ({}) > 0 and 0 <= v_out_V ({}) <= VDD", o.ramp_s, o.v_out_V));
  const std::string vdd = netlist::names::kVdd, gnd = "0";
  GateLoad g;
  {  // Vn/Vp of a mismatch-free soma at the two ends of the current range.
    netlist::Circuit c;
    c.title = "nnspice gate-load calibration: soma";
    c.includes.push_back(pr.model_card);
    c.temp_C = pr.temp_C;
    c.options = pr.ngspice_options;
    c.add_vsource(netlist::names::kSupply, vdd, gnd, pr.vdd_V);
    c.add_isource("IIN0", gnd, "g", o.i_lo_A);
    netlist::add_soma(c, pr, 0, 0, true, "g", "p", "n", nullptr);
    s.load(netlist::ngspice_lines(c));
    auto lo = s.op();
    g.v_n_lo_V = lo.vectors.at("v(n)")[0];
    g.v_p_lo_V = lo.vectors.at("v(p)")[0];
    s.alter("IIN0", o.i_hi_A);
    auto hi = s.op();
    g.v_n_hi_V = hi.vectors.at("v(n)")[0];
    g.v_p_hi_V = hi.vectors.at("v(p)")[0];
  }
  netlist::Circuit c;
  c.title = "nnspice gate-load calibration: synapses";
  c.includes.push_back(pr.model_card);
  c.temp_C = pr.temp_C;
  c.options = pr.ngspice_options;
  c.add_vsource(netlist::names::kSupply, vdd, gnd, pr.vdd_V);
  std::string save = ".save";
  const int K = pr.max_code();
  g.c_n_F.assign(static_cast<std::size_t>(2 * K + 1), 0.0);
  g.c_p_F.assign(static_cast<std::size_t>(2 * K + 1), 0.0);
  for (int code = -K; code <= K; ++code) {
    const std::size_t k = static_cast<std::size_t>(code + K);
    const std::string n = fmt::format("n{}", k), p = fmt::format("p{}", k), out = fmt::format("o{}", k);
    auto driver = [&](const std::string& name, const std::string& node, double v0, double v1) {
      auto& e = c.elements.emplace_back();
      e.kind = netlist::ElementKind::vsource;
      e.name = name;
      e.nodes = {node, gnd, "", ""};
      e.value = v0;
      e.waveform = fmt::format("PWL(0 {} {} {})", v0, o.ramp_s, v1);
    };
    driver(fmt::format("VN{}", k), n, g.v_n_lo_V, g.v_n_hi_V);
    driver(fmt::format("VP{}", k), p, g.v_p_lo_V, g.v_p_hi_V);
    c.add_vsource(fmt::format("VO{}", k), out, gnd, o.v_out_V);
    netlist::add_synapse(c, pr, 0, k, 0, code, n, p, out, fmt::format("w{}_", k), true, nullptr);
    save += fmt::format(" vn{}#branch vp{}#branch", k, k);
  }
  c.control = {save};
  s.load(netlist::ngspice_lines(c));
  const auto r = s.tran(o.ramp_s / 400, o.ramp_s, o.ramp_s / 400);
  const auto& t = r.vectors.at("time");
  for (std::size_t k = 0; k < g.c_n_F.size(); ++k) {
    // Charge delivered by each driver (its branch current flows + -> -: delivered = -branch).
    const double qn = -integrate(t, r.vectors.current(fmt::format("VN{}", k)), o.ramp_s);
    const double qp = -integrate(t, r.vectors.current(fmt::format("VP{}", k)), o.ramp_s);
    g.c_n_F[k] = qn / (g.v_n_hi_V - g.v_n_lo_V);
    g.c_p_F[k] = qp / (g.v_p_hi_V - g.v_p_lo_V);
    if (!std::isfinite(g.c_n_F[k]) || !std::isfinite(g.c_p_F[k]))
      throw NumericalError(fmt::format("gate-load calibration: code {} gave a non-finite capacitance", static_cast<int>(k) - K));
  }
  return g;
}

}  // namespace nnspice::dynamics

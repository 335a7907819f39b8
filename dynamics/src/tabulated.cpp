// Tabulated transients (tabulated.hpp): node-capacitance calibration and the BDF2 integrator.
#include "nnspice/engine/root.hpp"
#include "nnspice/dynamics/tabulated.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/dynamics/metrics.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"

namespace nnspice::dynamics {
namespace {

// A voltage source whose DC value is v0 and whose transient is a triangle v0 -> v1 -> v0 over 2 t_ramp.
void add_triangle(netlist::Circuit& c, const std::string& name, const std::string& node, double v0, double v1, double t_ramp) {
  auto& e = c.elements.emplace_back();
  e.kind = netlist::ElementKind::vsource;
  e.name = name;
  e.nodes = {node, "0", "", ""};
  e.value = v0;
  e.waveform = fmt::format("PWL(0 {} {} {} {} {})", v0, t_ramp, v1, 2 * t_ramp, v0);
}

// Capacitance seen by the triangle source `name` (charge it delivers going up minus going down, / 2 dV);
// with `coupled`, the charge delivered by the held source `name` while another node ramps by dv
// (coupling capacitance: a held node gives charge back as its neighbour rises, hence the sign).
double triangle_capacitance(const sim::TranResult& r, const std::string& name, double dv, double t_ramp, bool coupled = false) {
  const auto& t = r.vectors.at("time");
  std::vector<double> i = r.vectors.current(name);
  for (double& x : i) x = -x;  // delivered by the source into the node
  const double q_up = integrate(t, i, t_ramp);
  const double q_all = integrate(t, i, 2 * t_ramp);
  const double c = (coupled ? -1.0 : 1.0) * (q_up - (q_all - q_up)) / (2 * dv);
  if (!std::isfinite(c) || c < -1e-16)
    throw NumericalError(fmt::format("node-capacitance calibration: source {} gave C = {} F", name, c));
  return std::max(c, 0.0);
}

using engine::increasing_root;  // the engine's one root finder (engine/root.hpp)

// Root tolerance of the node voltages: the capacitive currents C·dV/dt divide it by the step, so it must be
// far below 1e-9 V (at 20 ns and 66 fF, 1e-9 V is a 3 pA jitter).
constexpr double kTolV = 1e-12;

int argmax(const std::vector<double>& v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }

}  // namespace

NodeCaps calibrate_node_caps(sim::Session& s, const netlist::Process& pr, const GateLoadOptions& o) {
  NodeCaps caps;
  caps.gate = calibrate_gate_load(s, pr, o);
  const std::string vdd = netlist::names::kVdd, gnd = "0";
  auto base = [&](const std::string& title) {
    netlist::Circuit c = netlist::circuit_for_process(pr, title);
    c.add_vsource(netlist::names::kSupply, vdd, gnd, pr.vdd_V);
    return c;
  };
  // Input-node range of a nominal soma over the current range.
  double g_lo = 0, g_hi = 0;
  {
    netlist::Circuit c = base("nnspice node-capacitance calibration: soma range");
    c.add_isource("IIN0", gnd, "g", o.i_lo_A);
    netlist::add_soma(c, pr, 0, 0, true, "g", "p", "n", nullptr);
    s.load(netlist::ngspice_lines(c));
    g_lo = s.op().vectors.at("v(g)")[0];
    s.alter("IIN0", o.i_hi_A);
    g_hi = s.op().vectors.at("v(g)")[0];
  }
  const GateLoad& gl = caps.gate;
  const double g_mid = 0.5 * (g_lo + g_hi), p_mid = 0.5 * (gl.v_p_lo_V + gl.v_p_hi_V), n_mid = 0.5 * (gl.v_n_lo_V + gl.v_n_hi_V);
  const double T = 1e-7;
  netlist::Circuit c = base("nnspice node-capacitance calibration");
  std::string save = ".save";
  // Synapse output side, per code: mirrors off (Vn = 0, Vp = VDD), output ramped over the soma input range.
  c.add_vsource("VNOFF", "noff", gnd, 0.0);
  c.add_vsource("VPOFF", "poff", gnd, pr.vdd_V);
  c.add_vsource("VNMID", "nmid", gnd, n_mid);
  c.add_vsource("VPMID", "pmid", gnd, p_mid);
  const int K = pr.max_code();
  for (int code = -K; code <= K; ++code) {
    const std::size_t k = static_cast<std::size_t>(code + K);
    add_triangle(c, fmt::format("VO{}", k), fmt::format("o{}", k), g_lo, g_hi, T);
    netlist::add_synapse(c, pr, 0, k, 0, code, "noff", "poff", fmt::format("o{}", k), fmt::format("w{}_", k), true, nullptr);
    // Coupling: Vn (then Vp) of an active pre-neuron ramped, the output held at mid-range.
    add_triangle(c, fmt::format("VRN{}", k), fmt::format("rn{}", k), gl.v_n_lo_V, gl.v_n_hi_V, T);
    c.add_vsource(fmt::format("VHN{}", k), fmt::format("hn{}", k), gnd, g_mid);
    netlist::add_synapse(c, pr, 0, k, 1, code, fmt::format("rn{}", k), "pmid", fmt::format("hn{}", k), fmt::format("u{}_", k), true, nullptr);
    add_triangle(c, fmt::format("VRP{}", k), fmt::format("rp{}", k), gl.v_p_hi_V, gl.v_p_lo_V, T);
    c.add_vsource(fmt::format("VHP{}", k), fmt::format("hp{}", k), gnd, g_mid);
    netlist::add_synapse(c, pr, 0, k, 2, code, "nmid", fmt::format("rp{}", k), fmt::format("hp{}", k), fmt::format("v{}_", k), true, nullptr);
    save += fmt::format(" vo{0}#branch vhn{0}#branch vhp{0}#branch", k);
  }
  // Soma nodes: g ramped (p, n held); p ramped (g, n held); n ramped (g, p held); output soma + sink gate.
  const std::string held[3][3] = {{"ga", "pa", "na"}, {"gb", "pb", "nb"}, {"gc", "pc", "nc"}};
  const double lo[3] = {g_lo, gl.v_p_hi_V, gl.v_n_lo_V}, hi[3] = {g_hi, gl.v_p_lo_V, gl.v_n_hi_V};
  const double mid[3] = {g_mid, p_mid, n_mid};
  for (int which = 0; which < 3; ++which) {
    for (int node = 0; node < 3; ++node) {
      const std::string name = fmt::format("VS{}{}", which, node);
      if (node == which)
        add_triangle(c, name, held[which][node], lo[node], hi[node], T);
      else
        c.add_vsource(name, held[which][node], gnd, mid[node]);
      save += fmt::format(" vs{}{}#branch", which, node);
    }
    netlist::add_soma(c, pr, 0, static_cast<std::size_t>(which), true, held[which][0], held[which][1], held[which][2], nullptr);
  }
  add_triangle(c, "VSOUT", "gout", g_lo, g_hi, T);
  netlist::add_soma(c, pr, 1, 0, false, "gout", "", "", nullptr);
  c.add_vsource("VSK", vdd, "kout", 0.0);
  {
    const auto& sz = pr.size(netlist::DeviceRole::sink);
    c.add_mosfet(netlist::names::sink_fet(0), "kout", "gout", gnd, gnd, pr.nmos_model, sz.w_m, sz.l_m, 0.0);
  }
  save += " vsout#branch";
  c.control = {save};
  s.load(netlist::ngspice_lines(c));
  const auto r = s.tran(T / 500, 2 * T, T / 500);
  caps.out_F.assign(static_cast<std::size_t>(2 * K + 1), 0.0);
  caps.couple_n_F.assign(caps.out_F.size(), 0.0);
  caps.couple_p_F.assign(caps.out_F.size(), 0.0);
  for (std::size_t k = 0; k < caps.out_F.size(); ++k) {
    caps.out_F[k] = triangle_capacitance(r, fmt::format("VO{}", k), g_hi - g_lo, T);
    caps.couple_n_F[k] = triangle_capacitance(r, fmt::format("VHN{}", k), gl.v_n_hi_V - gl.v_n_lo_V, T, true);
    caps.couple_p_F[k] = triangle_capacitance(r, fmt::format("VHP{}", k), gl.v_p_lo_V - gl.v_p_hi_V, T, true);
  }
  caps.soma_gp_F = triangle_capacitance(r, "VS01", g_hi - g_lo, T, true);
  caps.soma_pn_F = triangle_capacitance(r, "VS12", gl.v_p_lo_V - gl.v_p_hi_V, T, true);
  caps.soma_g_F = triangle_capacitance(r, "VS00", g_hi - g_lo, T);
  caps.soma_p_F = triangle_capacitance(r, "VS11", gl.v_p_lo_V - gl.v_p_hi_V, T);
  caps.soma_n_F = triangle_capacitance(r, "VS22", gl.v_n_hi_V - gl.v_n_lo_V, T);
  caps.output_g_F = triangle_capacitance(r, "VSOUT", g_hi - g_lo, T);
  return caps;
}

TabulatedModel::TabulatedModel(std::shared_ptr<engine::DecomposedSolver> solver, NodeCaps caps) : solver_(std::move(solver)), caps_(caps) {
  if (!solver_) throw std::invalid_argument("TabulatedModel: no solver");
}

SwitchTrace TabulatedModel::simulate(const netlist::WeightCodes& w, const std::vector<double>& a, const std::vector<double>& b,
                                     const SwitchOptions& o) const {
  engine::DecomposedSolver& sv = *solver_;
  const std::size_t L = w.size() + 1;
  std::vector<std::size_t> N(L);
  N[0] = w[0].cols;
  for (std::size_t l = 0; l + 1 < L; ++l) N[l + 1] = w[l].rows;
  const netlist::Process& routing = sv.chip().process;  // the routing parasitics per synapse
  const double v_lo = sv.options().v_min_V, v_hi = sv.options().v_max_V;

  // Initial state: pattern A's operating point (node voltages from the same tables).
  const auto ops = sv.solve(w, o.asymptotic_op ? std::vector<std::vector<double>>{a, b} : std::vector<std::vector<double>>{a});
  for (const auto& op : ops)
    if (!op.ok) throw NumericalError("operating point from the tables: " + op.error);
  std::vector<std::vector<double>> V(L), gp(L), gn(L), Vp(L), Vn(L);
  for (std::size_t l = 0; l < L; ++l)
    for (std::size_t i = 0; i < N[l]; ++i) {
      const double v = sv.soma_voltage(l, i, ops[0].currents[l][i]);
      V[l].push_back(v);
      if (l + 1 < L) {
        gp[l].push_back(v);
        gn[l].push_back(v);
        Vp[l].push_back(sv.soma_vp(l, i, v));
        Vn[l].push_back(sv.soma_vn(l, i, v));
      }
    }

  // Capacitances per node.
  const auto bound = sv.bind(w);
  std::vector<std::vector<double>> Cg(L), Cp(L), Cn(L);
  for (std::size_t l = 0; l < L; ++l) {
    Cg[l].assign(N[l], l + 1 < L ? caps_.soma_g_F : caps_.output_g_F);
    if (l > 0)
      for (std::size_t j = 0; j < N[l]; ++j)
        for (std::size_t i = 0; i < N[l - 1]; ++i) Cg[l][j] += routing.c_out_F + caps_.out(w[l - 1].at(j, i));
    if (l + 1 < L) {
      Cp[l].assign(N[l], caps_.soma_p_F);
      Cn[l].assign(N[l], caps_.soma_n_F);
      for (std::size_t i = 0; i < N[l]; ++i)
        for (std::size_t j = 0; j < N[l + 1]; ++j) {
          const int code = w[l].at(j, i);
          Cp[l][i] += routing.c_vp_F + caps_.gate.c_p(code);
          Cn[l][i] += routing.c_vn_F + caps_.gate.c_n(code);
        }
    }
  }
  const double soma_g_out = caps_.output_g_F, soma_g_hidden = caps_.soma_g_F;
  SwitchTrace tr;
  const double h = o.t_max_s;
  const std::size_t steps = static_cast<std::size_t>(std::ceil(o.t_stop_s / h - 1e-9));
  const std::size_t post_n = sv.post_points();
  std::vector<double> curves;
  std::vector<std::vector<double>> V1 = V, Vp1 = Vp, Vn1 = Vn;  // previous step's values (BDF2 history)
  double sum_a = 0, sum_b = 0;
  for (std::size_t i = 0; i < N[0]; ++i) sum_a += a[i], sum_b += b[i];
  if (o.keep_hidden) tr.units_A.assign(L - 1, {});
  for (std::size_t l = 1; o.keep_hidden && l < L; ++l) tr.units_A[l - 1].assign(N[l], {});
  tr.output_A.assign(N[L - 1], {});

  long evals = 0;
  std::vector<std::vector<double>> dVg(L), dVp(L), dVn(L);
  for (std::size_t l = 0; l < L; ++l) dVg[l].assign(N[l], 0.0), dVp[l].assign(N[l], 0.0), dVn[l].assign(N[l], 0.0);
  auto record = [&](double t, double supply) {
    tr.time_s.push_back(t);
    tr.supply_A.push_back(supply);
    const double ramp = std::clamp(t / o.ramp_s, 0.0, 1.0);
    tr.input_A.push_back(sum_a + (sum_b - sum_a) * ramp);
    for (std::size_t l = 1; l < L; ++l)
      for (std::size_t j = 0; j < N[l]; ++j) {
        if (l + 1 < L && !o.keep_hidden) continue;
        // The probe sits between the summing node and the soma: it carries M0's current and the soma's own charge.
        const double ip = sv.soma_current(l, j, V[l][j]) +
                          (l + 1 < L ? soma_g_hidden * dVg[l][j] - caps_.soma_gp_F * dVp[l][j] : soma_g_out * dVg[l][j]);
        if (l + 1 == L) tr.output_A[j].push_back(ip);
        if (o.keep_hidden) tr.units_A[l - 1][j].push_back(ip);
      }
  };
  auto supply_now = [&]() {
    double s = 0;
    for (std::size_t l = 0; l + 1 < L; ++l) {
      for (std::size_t i = 0; i < N[l]; ++i) s += sv.soma_i_m2(l, i, gp[l][i]) + sv.soma_i_m3(l, i, gp[l][i]) - Cp[l][i] * dVp[l][i];
      s += sv.layer_supply_current(bound, l, gp[l].data(), V[l + 1].data());
    }
    for (std::size_t j = 0; j < N[L - 1]; ++j) s += sv.sink_current(j, V[L - 1][j]);
    return s;
  };
  record(0.0, supply_now());
  std::vector<double> kick;  // coupling current into each post-neuron from its pre-neurons' Vn/Vp motion
  std::vector<std::size_t> rows;

  for (std::size_t n = 0; n < steps; ++n) {
    const double t = static_cast<double>(n + 1) * h;
    // BDF2 (first step: backward Euler): C (alpha x - beta) / h = f(x).
    const bool bdf2 = n > 0;
    const double alpha = bdf2 ? 1.5 : 1.0;
    auto hist = [&](double x0, double x1) { return bdf2 ? 2 * x0 - 0.5 * x1 : x0; };
    const double ramp = std::clamp(t / o.ramp_s, 0.0, 1.0);
    for (std::size_t l = 0; l < L; ++l) {
      // Soma input nodes of layer l.
      kick.assign(N[l], 0.0);
      if (l > 0) {
        // The input curves only near each node's predicted voltage (a few grid points); the whole curve
        // when the root leaves that window.
        curves.resize(N[l] * post_n);
        rows.resize(2 * N[l]);
        for (std::size_t j = 0; j < N[l]; ++j) {
          const std::size_t k = sv.post_interval(2 * V[l][j] - V1[l][j]);
          // Intervals k-1 .. k+2 need points k-2 .. k+4; one more on each side so that a root on the window's
          // bound, rounded into the neighbouring interval, still has its whole stencil inside.
          rows[2 * j] = k >= 3 ? k - 3 : 0;
          rows[2 * j + 1] = std::min(k + 5, post_n - 1);
        }
        sv.layer_input_curves(bound, l - 1, gp[l - 1].data(), gn[l - 1].data(), curves.data(), rows.data());
        for (std::size_t j = 0; j < N[l]; ++j)
          for (std::size_t i = 0; i < N[l - 1]; ++i) {
            const int code = w[l - 1].at(j, i);
            kick[j] += caps_.cm_n(code) * dVn[l - 1][i] + caps_.cm_p(code) * dVp[l - 1][i];
          }
      }
      bool whole = false;
      for (std::size_t j = 0; j < N[l]; ++j) {
        const double beta = hist(V[l][j], V1[l][j]), C = Cg[l][j];
        const double* S = l > 0 ? curves.data() + j * post_n : nullptr;
        // Coupling: the pre-neurons' Vn/Vp (this step) and this soma's own Vp through M1 (last step's rate).
        const double iin = (l == 0 ? a[j] + (b[j] - a[j]) * ramp : 0.0) + kick[j] + (l + 1 < L ? caps_.soma_gp_F * dVp[l][j] : 0.0);
        auto F = [&](double x) {
          const double in = l == 0 ? iin : iin + sv.post_interpolate(S, x);
          return C * (alpha * x - beta) / h + sv.soma_current(l, j, x) - in;
        };
        double x;
        if (l > 0 && !whole) {
          // Interpolation is valid where the stencil (interval m: points m-1..m+2) lies inside the window: on
          // [v(r0+2), v(r1-3)] it does even when a bound rounds into the next interval (weight-0 points outside
          // the window would be NaN).
          const std::size_t r0 = rows[2 * j], r1 = rows[2 * j + 1];
          const double lo_w = r0 == 0 ? v_lo : sv.post_voltage(r0 + 2), hi_w = r1 + 1 >= post_n ? v_hi : sv.post_voltage(r1 - 3);
          int status = 0;
          x = increasing_root(F, std::clamp(V[l][j], lo_w, hi_w), lo_w, hi_w, kTolV, evals, "soma input node", &status);
          if ((status < 0 && lo_w > v_lo) || (status > 0 && hi_w < v_hi)) {
            sv.layer_input_curves(bound, l - 1, gp[l - 1].data(), gn[l - 1].data(), curves.data());
            whole = true;
            x = increasing_root(F, V[l][j], v_lo, v_hi, kTolV, evals, "soma input node");
          } else if (status > 0) {
            throw NumericalError(fmt::format("soma input node: node voltage beyond the tabulated range (> {} V)", v_hi));
          }
        } else {
          x = increasing_root(F, V[l][j], v_lo, v_hi, kTolV, evals, "soma input node");
        }
        const double dv = (alpha * x - beta) / h;
        V1[l][j] = V[l][j];
        V[l][j] = x;
        dVg[l][j] = dv;
      }
      if (l + 1 == L) break;
      // Vp, then Vn, solved for their DC-equivalent input-node voltages g_p, g_n.
      for (std::size_t i = 0; i < N[l]; ++i) {
        // Coupling into Vp: the post-neurons' input nodes through the synapse mirrors (last step's rates),
        // this soma's input node through M1 (this step) and its Vn through M3 (last step); into Vn likewise.
        double kp = caps_.soma_gp_F * dVg[l][i] + caps_.soma_pn_F * dVn[l][i], kn = 0;
        for (std::size_t j = 0; j < N[l + 1]; ++j) {
          const int code = w[l].at(j, i);
          kp += caps_.cm_p(code) * dVg[l + 1][j];
          kn += caps_.cm_n(code) * dVg[l + 1][j];
        }
        const double i_m1 = sv.soma_i_m2(l, i, V[l][i]) - kp;
        const double beta_p = hist(Vp[l][i], Vp1[l][i]), C_p = Cp[l][i];
        auto Fp = [&](double x) { return sv.soma_i_m2(l, i, x) - i_m1 - C_p * (alpha * sv.soma_vp(l, i, x) - beta_p) / h; };
        const double xp = increasing_root(Fp, gp[l][i], v_lo, v_hi, kTolV, evals, "Vp node");
        gp[l][i] = xp;
        Vp1[l][i] = Vp[l][i];
        Vp[l][i] = sv.soma_vp(l, i, xp);
        dVp[l][i] = (alpha * Vp[l][i] - beta_p) / h;
        const double i_m3 = sv.soma_i_m3(l, i, xp) + kn + caps_.soma_pn_F * dVp[l][i];
        const double beta_n = hist(Vn[l][i], Vn1[l][i]), C_n = Cn[l][i];
        auto Fn = [&](double x) { return C_n * (alpha * sv.soma_vn(l, i, x) - beta_n) / h + sv.soma_i_m3(l, i, x) - i_m3; };
        const double xn = increasing_root(Fn, gn[l][i], v_lo, v_hi, kTolV, evals, "Vn node");
        gn[l][i] = xn;
        Vn1[l][i] = Vn[l][i];
        Vn[l][i] = sv.soma_vn(l, i, xn);
        dVn[l][i] = (alpha * Vn[l][i] - beta_n) / h;
      }
    }
    record(t, supply_now());
  }
  tr.time_points = static_cast<long>(tr.time_s.size());
  tr.newton_iterations = evals;
  tr.transients = 1;
  if (o.asymptotic_op) {
    tr.asymptotic_A = ops[1].currents[L - 1];
  } else {
    for (const auto& y : tr.output_A) tr.asymptotic_A.push_back(y.back());
  }
  tr.asymptotic_class = argmax(tr.asymptotic_A);
  return tr;
}

}  // namespace nnspice::dynamics

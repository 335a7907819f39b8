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

// The charge a source delivers into its node over [0, t] (metrics.hpp integrate on the negated branch current).
class DeliveredCharge {
 public:
  DeliveredCharge(const sim::TranResult& r, const std::string& source) : t_(r.vectors.at("time")), i_(r.vectors.current(source)) {
    for (double& x : i_) x = -x;  // a branch current flows + -> - through the source: delivered = -branch
  }
  double at(double t) const { return integrate(t_, i_, t); }

 private:
  std::vector<double> t_, i_;
};

// One triangle a -> b -> a (a < b) over 2 t_ramp. Between node voltages v and w (a <= v < w <= b) the ramped
// node's conduction current is the same on the way up and down, so the capacitance is (Q_up - Q_down) / 2(w - v).
// For a held neighbour's source the same difference, negated, is the coupling capacitance.
struct Triangle {
  double a, b, t_ramp;
  double up_time(double v) const { return t_ramp * (v - a) / (b - a); }
  double capacitance(const DeliveredCharge& q, double v, double w) const {
    const double q_up = q.at(up_time(w)) - q.at(up_time(v));
    const double q_down = q.at(2 * t_ramp - up_time(v)) - q.at(2 * t_ramp - up_time(w));
    return (q_up - q_down) / (2 * (w - v));
  }
};

constexpr std::size_t kChargeSegments = 40;  // per node kind over its wide span (~10-20 mV each)

// The charge curve seen by the triangle source `name` over [lo, hi] (inside the triangle's margins); with
// `coupled`, the coupling capacitance to the held source `name` (it gives charge back as its neighbour rises).
ChargeCurve charge_curve(const sim::TranResult& r, const std::string& name, const Triangle& tri, double lo, double hi, bool coupled = false) {
  const DeliveredCharge q(r, name);
  ChargeCurve cv;
  cv.v0_V = lo;
  cv.dv_V = (hi - lo) / static_cast<double>(kChargeSegments);
  cv.c_F.resize(kChargeSegments);
  for (std::size_t k = 0; k < kChargeSegments; ++k) {
    const double v = lo + static_cast<double>(k) * cv.dv_V;
    const double c = (coupled ? -1.0 : 1.0) * tri.capacitance(q, v, v + cv.dv_V);
    if (!std::isfinite(c) || c < -1e-16)
      throw NumericalError(fmt::format("node-charge calibration: source {} gave C = {} F between {:.4f} and {:.4f} V", name, c, v, v + cv.dv_V));
    cv.c_F[k] = std::max(c, 0.0);
  }
  cv.finish();
  return cv;
}


using engine::increasing_root;  // the engine's one root finder (engine/root.hpp)

// Root tolerance of the node voltages: the capacitive currents C·dV/dt divide it by the step, so it must be
// far below 1e-9 V (at 20 ns and 66 fF, 1e-9 V is a 3 pA jitter).
constexpr double kTolV = 1e-12;

int argmax(const std::vector<double>& v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }

}  // namespace

void ChargeCurve::finish() {
  q_C.assign(c_F.size() + 1, 0.0);
  for (std::size_t k = 0; k < c_F.size(); ++k) q_C[k + 1] = q_C[k] + c_F[k] * dv_V;
}

double ChargeCurve::charge(double v) const {
  if (c_F.empty()) return 0.0;
  const double s = (v - v0_V) / dv_V;
  const std::size_t k = s <= 0 ? 0 : std::min(static_cast<std::size_t>(s), c_F.size() - 1);
  return q_C[k] + c_F[k] * (v - v0_V - static_cast<double>(k) * dv_V);
}

double ChargeCurve::capacitance(double v) const {
  if (c_F.empty()) return 0.0;
  const double s = (v - v0_V) / dv_V;
  return c_F[s <= 0 ? 0 : std::min(static_cast<std::size_t>(s), c_F.size() - 1)];
}

double ChargeCurve::mean(double a, double b) const { return (charge(b) - charge(a)) / (b - a); }

void ChargeCurve::add(const ChargeCurve& o, double times) {
  if (c_F.empty()) {
    *this = o;
    for (double& c : c_F) c *= times;
  } else {
    if (o.c_F.size() != c_F.size() || o.v0_V != v0_V || o.dv_V != dv_V) throw std::invalid_argument("ChargeCurve::add: different grids");
    for (std::size_t k = 0; k < c_F.size(); ++k) c_F[k] += times * o.c_F[k];
  }
  finish();
}

void ChargeCurve::add_constant(double c) {
  for (double& x : c_F) x += c;
  finish();
}

std::vector<double> ChargeCurve::pack() const {
  std::vector<double> d{v0_V, dv_V, static_cast<double>(c_F.size())};
  d.insert(d.end(), c_F.begin(), c_F.end());
  return d;
}

ChargeCurve ChargeCurve::unpack(const double* d, std::size_t n) {
  if (n < 3 || !std::isfinite(d[0]) || !(d[1] > 0 && std::isfinite(d[1])) || !(d[2] >= 1 && d[2] <= 1e6) || static_cast<std::size_t>(d[2]) + 3 > n) throw std::invalid_argument("ChargeCurve::unpack: malformed data");
  ChargeCurve cv;
  cv.v0_V = d[0];
  cv.dv_V = d[1];
  cv.c_F.assign(d + 3, d + 3 + static_cast<std::size_t>(d[2]));
  cv.finish();
  return cv;
}

namespace {
double lerp_clamped(const std::vector<double>& x, const std::vector<double>& y, double v) {
  if (x.empty()) return 0.0;
  if (v <= x.front()) return y.front();
  if (v >= x.back()) return y.back();
  const std::size_t k = static_cast<std::size_t>(std::upper_bound(x.begin(), x.end(), v) - x.begin());
  const double u = (v - x[k - 1]) / (x[k] - x[k - 1]);
  return y[k - 1] + u * (y[k] - y[k - 1]);
}
}  // namespace

double EarlySlopes::m1(double g) const { return lerp_clamped(g_V, m1_per_V, g); }
double EarlySlopes::m3(double p) const { return lerp_clamped(p_V, m3_per_V, p); }

std::vector<double> NodeCaps::pack() const {
  std::vector<double> d{static_cast<double>(max_code())};
  auto put = [&](const ChargeCurve& cv) {
    const auto p = cv.pack();
    d.insert(d.end(), p.begin(), p.end());
  };
  for (const auto* set : {&out, &gate_n, &gate_p, &couple_n, &couple_p})
    for (const auto& cv : *set) put(cv);
  for (const auto* cv : {&soma_g, &soma_p, &soma_n, &output_g, &soma_gp, &soma_pn}) put(*cv);
  for (const auto* sp : {&span_g_V, &span_p_V, &span_n_V}) d.insert(d.end(), sp->begin(), sp->end());
  d.push_back(static_cast<double>(early.g_V.size()));
  for (const auto* v : {&early.g_V, &early.m1_per_V, &early.p_V, &early.m3_per_V}) d.insert(d.end(), v->begin(), v->end());
  return d;
}

NodeCaps NodeCaps::unpack(const std::vector<double>& d) {
  if (d.empty() || !(d[0] >= 0 && d[0] <= 63)) throw std::invalid_argument("NodeCaps::unpack: malformed data");
  const std::size_t codes = 2 * static_cast<std::size_t>(d[0]) + 1;
  std::size_t at = 1;
  auto need = [&](std::size_t n) {
    if (at + n > d.size()) throw std::invalid_argument("NodeCaps::unpack: truncated data");
  };
  auto take = [&]() {
    need(3);
    ChargeCurve cv = ChargeCurve::unpack(d.data() + at, d.size() - at);
    at += 3 + cv.c_F.size();
    return cv;
  };
  NodeCaps c;
  for (auto* set : {&c.out, &c.gate_n, &c.gate_p, &c.couple_n, &c.couple_p})
    for (std::size_t k = 0; k < codes; ++k) set->push_back(take());
  for (auto* cv : {&c.soma_g, &c.soma_p, &c.soma_n, &c.output_g, &c.soma_gp, &c.soma_pn}) *cv = take();
  need(6);
  for (auto* sp : {&c.span_g_V, &c.span_p_V, &c.span_n_V}) (*sp)[0] = d[at++], (*sp)[1] = d[at++];
  need(1);
  const double ne = d[at++];
  if (!(ne >= 0 && ne <= 1000)) throw std::invalid_argument("NodeCaps::unpack: malformed data");
  const std::size_t n_early = static_cast<std::size_t>(ne);
  need(4 * n_early);
  for (auto* v : {&c.early.g_V, &c.early.m1_per_V, &c.early.p_V, &c.early.m3_per_V}) {
    v->assign(d.begin() + static_cast<long>(at), d.begin() + static_cast<long>(at + n_early));
    at += n_early;
  }
  if (at != d.size()) throw std::invalid_argument("NodeCaps::unpack: trailing data");
  return c;
}

namespace {

// M1's and M3's Early slopes at 9 soma currents, log-spaced over [i_lo, i_hi]: a nominal soma's DC node voltages,
// then the lone device with its drain moved ±20 mV around its DC value (central difference of ln I).
EarlySlopes calibrate_early(sim::Session& s, const netlist::Process& pr, double i_lo, double i_hi) {
  const std::string vdd = netlist::names::kVdd, gnd = "0";
  constexpr int kPoints = 9;
  constexpr double kDv = 0.02;
  std::vector<std::array<double, 3>> op;  // g, p, n per current
  {
    netlist::Circuit c = netlist::circuit_for_process(pr, "nnspice Early-slope calibration: soma");
    c.add_vsource(netlist::names::kSupply, vdd, gnd, pr.vdd_V);
    c.add_isource("IIN0", gnd, "g", i_lo);
    netlist::add_soma(c, pr, 0, 0, true, "g", "p", "n", nullptr);
    s.load(netlist::ngspice_lines(c));
    for (int k = 0; k < kPoints; ++k) {
      s.alter("IIN0", i_lo * std::pow(i_hi / i_lo, k / double(kPoints - 1)));
      const auto r = s.op();
      op.push_back({r.vectors.at("v(g)")[0], r.vectors.at("v(p)")[0], r.vectors.at("v(n)")[0]});
    }
  }
  const auto& sz = pr.size(netlist::DeviceRole::soma);
  netlist::Circuit c = netlist::circuit_for_process(pr, "nnspice Early-slope calibration: M1 and M3");
  c.add_vsource(netlist::names::kSupply, vdd, gnd, pr.vdd_V);
  c.add_vsource("VG1", "g1", gnd, op[0][0]);
  c.add_vsource("VD1", "d1", gnd, op[0][1]);
  c.add_mosfet("M1", "d1", "g1", gnd, gnd, pr.nmos_model, sz.w_m, sz.l_m, 0.0);
  c.add_vsource("VG3", "g3", gnd, op[0][1]);
  c.add_vsource("VD3", "d3", gnd, op[0][2]);
  c.add_mosfet("M3", "d3", "g3", vdd, vdd, pr.pmos_model, sz.w_m, sz.l_m, 0.0);
  s.load(netlist::ngspice_lines(c));
  EarlySlopes e;
  for (const auto& [g, p, n] : op) {
    s.alter("VG1", g);
    s.alter("VG3", p);
    double i1[2], i3[2];
    for (int side = 0; side < 2; ++side) {
      const double dv = side ? kDv : -kDv;
      s.alter("VD1", p + dv);
      s.alter("VD3", n + dv);
      const auto r = s.op();
      i1[side] = -r.vectors.current("VD1")[0];  // delivered into M1's drain
      i3[side] = r.vectors.current("VD3")[0];   // M3's drain current flows into the source (+ -> -)
    }
    if (!(i1[0] > 0 && i1[1] > 0 && i3[0] > 0 && i3[1] > 0))
      throw NumericalError(fmt::format("Early-slope calibration: non-positive mirror current at g = {:.4f} V, Vp = {:.4f} V", g, p));
    e.g_V.push_back(g);
    e.m1_per_V.push_back(std::log(i1[1] / i1[0]) / (2 * kDv));
    e.p_V.push_back(p);
    e.m3_per_V.push_back(-std::log(i3[1] / i3[0]) / (2 * kDv));
  }
  // Vp falls as the current grows: store both ascending.
  std::reverse(e.p_V.begin(), e.p_V.end());
  std::reverse(e.m3_per_V.begin(), e.m3_per_V.end());
  return e;
}

}  // namespace

NodeCaps calibrate_node_caps(sim::Session& s, const netlist::Process& pr, const GateLoadOptions& o) {
  if (!(o.i_lo_A > 0 && o.i_hi_A > o.i_lo_A && o.i_hi_A <= 1e-4))
    throw InputError(fmt::format("node-charge calibration: need 0 < i_lo_A ({}) < i_hi_A ({}) <= 1e-4", o.i_lo_A, o.i_hi_A));
  NodeCaps caps;
  const std::string vdd = netlist::names::kVdd, gnd = "0";
  auto base = [&](const std::string& title) {
    netlist::Circuit c = netlist::circuit_for_process(pr, title);
    c.add_vsource(netlist::names::kSupply, vdd, gnd, pr.vdd_V);
    return c;
  };
  // A nominal soma's node voltages at the ends of the calibration span and of the wide span (0.1x, 10x).
  struct Nodes {
    double g, p, n;
  };
  std::array<Nodes, 4> at{};  // wide low, span low, span high, wide high
  {
    netlist::Circuit c = base("nnspice node-charge calibration: soma range");
    c.add_isource("IIN0", gnd, "g", o.i_lo_A);
    netlist::add_soma(c, pr, 0, 0, true, "g", "p", "n", nullptr);
    s.load(netlist::ngspice_lines(c));
    const double current[4] = {0.1 * o.i_lo_A, o.i_lo_A, o.i_hi_A, 10 * o.i_hi_A};
    for (std::size_t k = 0; k < 4; ++k) {
      s.alter("IIN0", current[k]);
      const auto r = s.op();
      at[k] = {r.vectors.at("v(g)")[0], r.vectors.at("v(p)")[0], r.vectors.at("v(n)")[0]};
    }
  }
  caps.early = calibrate_early(s, pr, 0.1 * o.i_lo_A, 10 * o.i_hi_A);
  // Each node kind's wide span (increasing voltage; Vp falls as the current grows) and the triangle over it with
  // 5 % margins (the ramp's corners disturb the charge there).
  auto span = [&](double Nodes::*f, std::size_t i, std::size_t j) {
    return std::array<double, 2>{std::min(at[i].*f, at[j].*f), std::max(at[i].*f, at[j].*f)};
  };
  const auto wg = span(&Nodes::g, 0, 3), wp = span(&Nodes::p, 0, 3), wn = span(&Nodes::n, 0, 3);
  caps.span_g_V = span(&Nodes::g, 1, 2), caps.span_p_V = span(&Nodes::p, 1, 2), caps.span_n_V = span(&Nodes::n, 1, 2);
  const double T = 1e-7;
  auto triangle = [&](const std::array<double, 2>& w) {
    const double m = 0.05 * (w[1] - w[0]);
    return Triangle{w[0] - m, w[1] + m, T};
  };
  const Triangle tg = triangle(wg), tp = triangle(wp), tn = triangle(wn);
  auto mid = [](const std::array<double, 2>& w) { return 0.5 * (w[0] + w[1]); };
  const double g_mid = mid(caps.span_g_V), p_mid = mid(caps.span_p_V), n_mid = mid(caps.span_n_V);
  netlist::Circuit c = base("nnspice node-charge calibration");
  std::string save = ".save";
  // Synapse output side, per code: mirrors off (Vn = 0, Vp = VDD), output ramped over the soma input span.
  c.add_vsource("VNOFF", "noff", gnd, 0.0);
  c.add_vsource("VPOFF", "poff", gnd, pr.vdd_V);
  c.add_vsource("VNMID", "nmid", gnd, n_mid);
  c.add_vsource("VPMID", "pmid", gnd, p_mid);
  const int K = pr.max_code();
  for (int code = -K; code <= K; ++code) {
    const std::size_t k = static_cast<std::size_t>(code + K);
    add_triangle(c, fmt::format("VO{}", k), fmt::format("o{}", k), tg.a, tg.b, T);
    netlist::add_synapse(c, pr, 0, k, 0, code, "noff", "poff", fmt::format("o{}", k), fmt::format("w{}_", k), true, nullptr);
    // Gate charge and coupling: Vn (then Vp) of an active pre-neuron ramped, the output held at mid-span.
    add_triangle(c, fmt::format("VRN{}", k), fmt::format("rn{}", k), tn.a, tn.b, T);
    c.add_vsource(fmt::format("VHN{}", k), fmt::format("hn{}", k), gnd, g_mid);
    netlist::add_synapse(c, pr, 0, k, 1, code, fmt::format("rn{}", k), "pmid", fmt::format("hn{}", k), fmt::format("u{}_", k), true, nullptr);
    add_triangle(c, fmt::format("VRP{}", k), fmt::format("rp{}", k), tp.a, tp.b, T);
    c.add_vsource(fmt::format("VHP{}", k), fmt::format("hp{}", k), gnd, g_mid);
    netlist::add_synapse(c, pr, 0, k, 2, code, "nmid", fmt::format("rp{}", k), fmt::format("hp{}", k), fmt::format("v{}_", k), true, nullptr);
    save += fmt::format(" vo{0}#branch vrn{0}#branch vrp{0}#branch vhn{0}#branch vhp{0}#branch", k);
  }
  // Soma nodes: g ramped (p, n held); p ramped (g, n held); n ramped (g, p held); output soma + sink gate.
  const std::string held[3][3] = {{"ga", "pa", "na"}, {"gb", "pb", "nb"}, {"gc", "pc", "nc"}};
  const Triangle* tri[3] = {&tg, &tp, &tn};
  const double mids[3] = {g_mid, p_mid, n_mid};
  for (int which = 0; which < 3; ++which) {
    for (int node = 0; node < 3; ++node) {
      const std::string name = fmt::format("VS{}{}", which, node);
      if (node == which)
        add_triangle(c, name, held[which][node], tri[node]->a, tri[node]->b, T);
      else
        c.add_vsource(name, held[which][node], gnd, mids[node]);
      save += fmt::format(" vs{}{}#branch", which, node);
    }
    netlist::add_soma(c, pr, 0, static_cast<std::size_t>(which), true, held[which][0], held[which][1], held[which][2], nullptr);
  }
  add_triangle(c, "VSOUT", "gout", tg.a, tg.b, T);
  netlist::add_soma(c, pr, 1, 0, false, "gout", "", "", nullptr);
  c.add_vsource("VSK", vdd, "kout", 0.0);
  {
    const auto& sz = pr.size(netlist::DeviceRole::sink);
    c.add_mosfet(netlist::names::sink_fet(0), "kout", "gout", gnd, gnd, pr.nmos_model, sz.w_m, sz.l_m, 0.0);
  }
  save += " vsout#branch";
  c.control = {save};
  s.load(netlist::ngspice_lines(c));
  const auto r = s.tran(T / 2000, 2 * T, T / 2000);
  const std::size_t codes = static_cast<std::size_t>(2 * K + 1);
  for (std::size_t k = 0; k < codes; ++k) {
    caps.out.push_back(charge_curve(r, fmt::format("VO{}", k), tg, wg[0], wg[1]));
    caps.gate_n.push_back(charge_curve(r, fmt::format("VRN{}", k), tn, wn[0], wn[1]));
    caps.gate_p.push_back(charge_curve(r, fmt::format("VRP{}", k), tp, wp[0], wp[1]));
    caps.couple_n.push_back(charge_curve(r, fmt::format("VHN{}", k), tn, wn[0], wn[1], true));
    caps.couple_p.push_back(charge_curve(r, fmt::format("VHP{}", k), tp, wp[0], wp[1], true));
  }
  caps.soma_gp = charge_curve(r, "VS01", tg, wg[0], wg[1], true);
  caps.soma_pn = charge_curve(r, "VS12", tp, wp[0], wp[1], true);
  caps.soma_g = charge_curve(r, "VS00", tg, wg[0], wg[1]);
  caps.soma_p = charge_curve(r, "VS11", tp, wp[0], wp[1]);
  caps.soma_n = charge_curve(r, "VS22", tn, wn[0], wn[1]);
  caps.output_g = charge_curve(r, "VSOUT", tg, wg[0], wg[1]);
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

  // Coupling capacitances: ΔQ/ΔV over the calibration span (NodeCaps). Curves at the gate-side node's voltage
  // were tried and were worse on Iris at 45 nA (docs/dynamics.md).
  const int K = caps_.max_code();
  std::vector<double> m_n(caps_.couple_n.size()), m_p(caps_.couple_p.size());
  for (std::size_t k = 0; k < m_n.size(); ++k)
    m_n[k] = caps_.couple_n[k].mean(caps_.span_n_V[0], caps_.span_n_V[1]), m_p[k] = caps_.couple_p[k].mean(caps_.span_p_V[0], caps_.span_p_V[1]);
  auto cm_n = [&](int code) { return m_n[static_cast<std::size_t>(code + K)]; };
  auto cm_p = [&](int code) { return m_p[static_cast<std::size_t>(code + K)]; };
  const double c_gp = caps_.soma_gp.mean(caps_.span_g_V[0], caps_.span_g_V[1]), c_pn = caps_.soma_pn.mean(caps_.span_p_V[0], caps_.span_p_V[1]);
  // Charge curves per node: the soma's own plus every synapse's on it, plus the routing parasitics.
  const auto bound = sv.bind(w);
  std::vector<std::vector<ChargeCurve>> Qg(L), Qp(L), Qn(L);
  for (std::size_t l = 0; l < L; ++l) {
    Qg[l].assign(N[l], l + 1 < L ? caps_.soma_g : caps_.output_g);
    if (l > 0)
      for (std::size_t j = 0; j < N[l]; ++j) {
        std::vector<int> count(caps_.out.size(), 0);
        for (std::size_t i = 0; i < N[l - 1]; ++i) ++count[static_cast<std::size_t>(w[l - 1].at(j, i) + caps_.max_code())];
        for (std::size_t k = 0; k < count.size(); ++k)
          if (count[k]) Qg[l][j].add(caps_.out[k], count[k]);
        Qg[l][j].add_constant(static_cast<double>(N[l - 1]) * routing.c_out_F);
      }
    if (l + 1 < L) {
      Qp[l].assign(N[l], caps_.soma_p);
      Qn[l].assign(N[l], caps_.soma_n);
      for (std::size_t i = 0; i < N[l]; ++i) {
        std::vector<int> count(caps_.out.size(), 0);
        for (std::size_t j = 0; j < N[l + 1]; ++j) ++count[static_cast<std::size_t>(w[l].at(j, i) + caps_.max_code())];
        for (std::size_t k = 0; k < count.size(); ++k)
          if (count[k]) Qp[l][i].add(caps_.gate_p[k], count[k]), Qn[l][i].add(caps_.gate_n[k], count[k]);
        Qp[l][i].add_constant(static_cast<double>(N[l + 1]) * routing.c_vp_F);
        Qn[l][i].add_constant(static_cast<double>(N[l + 1]) * routing.c_vn_F);
      }
    }
  }
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
  // Rates: node voltages (for the coupling capacitances) and charges (the soma's own on its input node, whose
  // current the probe carries; the whole Vp node's, returned to VDD).
  std::vector<std::vector<double>> dVg(L), dVp(L), dVn(L), dQs(L), dQp(L);
  for (std::size_t l = 0; l < L; ++l)
    for (auto* r : {&dVg, &dVp, &dVn, &dQs, &dQp}) (*r)[l].assign(N[l], 0.0);
  auto record = [&](double t, double supply) {
    tr.time_s.push_back(t);
    tr.supply_A.push_back(supply);
    const double ramp = std::clamp(t / o.ramp_s, 0.0, 1.0);
    tr.input_A.push_back(sum_a + (sum_b - sum_a) * ramp);
    for (std::size_t l = 1; l < L; ++l)
      for (std::size_t j = 0; j < N[l]; ++j) {
        if (l + 1 < L && !o.keep_hidden) continue;
        // The probe sits between the summing node and the soma: it carries M0's current and the soma's own charge.
        const double ip = sv.soma_current(l, j, V[l][j]) + dQs[l][j] - (l + 1 < L ? c_gp * dVp[l][j] : 0.0);
        if (l + 1 == L) tr.output_A[j].push_back(ip);
        if (o.keep_hidden) tr.units_A[l - 1][j].push_back(ip);
      }
  };
  // M3's current from VDD per soma (its DC value at the initial state).
  std::vector<std::vector<double>> I3(L);
  for (std::size_t l = 0; l + 1 < L; ++l)
    for (std::size_t i = 0; i < N[l]; ++i) I3[l].push_back(sv.soma_i_m3(l, i, gp[l][i]));
  auto supply_now = [&]() {
    double s = 0;
    for (std::size_t l = 0; l + 1 < L; ++l) {
      for (std::size_t i = 0; i < N[l]; ++i) s += sv.soma_i_m2(l, i, gp[l][i]) + I3[l][i] - dQp[l][i];
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
    // BDF2 on the charges (first step: backward Euler): (alpha Q(x) - beta) / h = f(x).
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
            kick[j] += cm_n(code) * dVn[l - 1][i] + cm_p(code) * dVp[l - 1][i];
          }
      }
      bool whole = false;
      for (std::size_t j = 0; j < N[l]; ++j) {
        const ChargeCurve& Q = Qg[l][j];
        const double beta = hist(Q.charge(V[l][j]), Q.charge(V1[l][j]));
        const double* S = l > 0 ? curves.data() + j * post_n : nullptr;
        // Coupling: the pre-neurons' Vn/Vp (this step) and this soma's own Vp through M1 (last step's rate).
        const double iin = (l == 0 ? a[j] + (b[j] - a[j]) * ramp : 0.0) + kick[j] + (l + 1 < L ? c_gp * dVp[l][j] : 0.0);
        auto F = [&](double x) {
          const double in = l == 0 ? iin : iin + sv.post_interpolate(S, x);
          return (alpha * Q.charge(x) - beta) / h + sv.soma_current(l, j, x) - in;
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
        const ChargeCurve& Qs = l + 1 < L ? caps_.soma_g : caps_.output_g;
        dQs[l][j] = (alpha * Qs.charge(x) - hist(Qs.charge(V[l][j]), Qs.charge(V1[l][j]))) / h;
        dVg[l][j] = (alpha * x - hist(V[l][j], V1[l][j])) / h;
        V1[l][j] = V[l][j];
        V[l][j] = x;
      }
      if (l + 1 == L) break;
      // Vp, then Vn, solved for their DC-equivalent input-node voltages g_p, g_n.
      for (std::size_t i = 0; i < N[l]; ++i) {
        // Coupling into Vp: the post-neurons' input nodes through the synapse mirrors (last step's rates),
        // this soma's input node through M1 (this step) and its Vn through M3 (last step); into Vn likewise.
        double kp = c_gp * dVg[l][i] + c_pn * dVn[l][i], kn = 0;
        for (std::size_t j = 0; j < N[l + 1]; ++j) {
          const int code = w[l].at(j, i);
          kp += cm_p(code) * dVg[l + 1][j];
          kn += cm_n(code) * dVg[l + 1][j];
        }
        // M1 carries its DC current at the input node's voltage, corrected for its drain (Vp) being off the DC
        // trajectory (Early slope); the root's unknown moves Vp, so the correction is inside Fp.
        const double i1_dc = sv.soma_i_m2(l, i, V[l][i]), vp_dc = sv.soma_vp(l, i, V[l][i]), lam1 = caps_.early.m1(V[l][i]);
        auto i_m1 = [&](double vp) { return i1_dc * std::max(0.0, 1.0 + lam1 * (vp - vp_dc)) - kp; };
        const ChargeCurve& QP = Qp[l][i];
        const double beta_p = hist(QP.charge(Vp[l][i]), QP.charge(Vp1[l][i]));
        auto Fp = [&](double x) {
          const double vp = sv.soma_vp(l, i, x);
          return sv.soma_i_m2(l, i, x) - i_m1(vp) - (alpha * QP.charge(vp) - beta_p) / h;
        };
        const double xp = increasing_root(Fp, gp[l][i], v_lo, v_hi, kTolV, evals, "Vp node");
        gp[l][i] = xp;
        const double vp = sv.soma_vp(l, i, xp);
        dQp[l][i] = (alpha * QP.charge(vp) - beta_p) / h;
        dVp[l][i] = (alpha * vp - hist(Vp[l][i], Vp1[l][i])) / h;
        Vp1[l][i] = Vp[l][i];
        Vp[l][i] = vp;
        // M3 likewise: its DC current at gate Vp, corrected for its drain (Vn) off the trajectory.
        const double i3_dc = sv.soma_i_m3(l, i, xp), vn_dc = sv.soma_vn(l, i, xp), lam3 = caps_.early.m3(Vp[l][i]);
        auto m3 = [&](double vn) { return i3_dc * std::max(0.0, 1.0 - lam3 * (vn - vn_dc)); };
        const double k3 = kn + c_pn * dVp[l][i];
        const ChargeCurve& QN = Qn[l][i];
        const double beta_n = hist(QN.charge(Vn[l][i]), QN.charge(Vn1[l][i]));
        auto Fn = [&](double x) {
          const double vn = sv.soma_vn(l, i, x);
          return (alpha * QN.charge(vn) - beta_n) / h + sv.soma_i_m3(l, i, x) - m3(vn) - k3;
        };
        const double xn = increasing_root(Fn, gn[l][i], v_lo, v_hi, kTolV, evals, "Vn node");
        gn[l][i] = xn;
        const double vn = sv.soma_vn(l, i, xn);
        I3[l][i] = m3(vn);
        dVn[l][i] = (alpha * vn - hist(Vn[l][i], Vn1[l][i])) / h;
        Vn1[l][i] = Vn[l][i];
        Vn[l][i] = vn;
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

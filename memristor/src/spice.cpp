#include "nnspice/memristor/spice.hpp"

#include <fmt/format.h>

#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/netlist/spice_text.hpp"
#include "nnspice/netlist/writer.hpp"
#include "nnspice/sim/session.hpp"

namespace nnspice::memristor {

netlist::Circuit crossbar_circuit(const Eigen::MatrixXd& g, const Eigen::VectorXd& v, double r_wire_ohm) {
  if (g.rows() != v.size()) throw InputError(fmt::format("crossbar: {} rows of conductances but {} row voltages", g.rows(), v.size()));
  if (g.size() == 0) throw InputError("crossbar: empty conductance matrix");
  if (!(r_wire_ohm >= 0) || !std::isfinite(r_wire_ohm)) throw InputError(fmt::format("crossbar: r_wire_ohm = {}. Violated constraint: r_wire_ohm >= 0", r_wire_ohm));
  for (Eigen::Index k = 0; k < g.size(); ++k)
    if (!(g.data()[k] > 0) || !std::isfinite(g.data()[k]))
      throw InputError(fmt::format("crossbar: conductance {} at row {}, column {} (must be finite and > 0)", g.data()[k], k % g.rows(), k / g.rows()));
  netlist::Circuit c;
  c.title = fmt::format("nnspice memristor crossbar {} x {}, r_wire {} ohm", g.rows(), g.cols(), r_wire_ohm);
  c.comments.push_back("rows driven by VR<i> at the left end; columns read at the bottom by VC<j> (0 V ammeters)");
  const bool wires = r_wire_ohm > 0;
  for (Eigen::Index i = 0; i < g.rows(); ++i) c.add_vsource(fmt::format("VR{}", i), fmt::format("in{}", i), "0", v(i));
  for (Eigen::Index j = 0; j < g.cols(); ++j) c.add_vsource(fmt::format("VC{}", j), fmt::format("col{}", j), "0", 0.0);
  auto rnode = [&](Eigen::Index i, Eigen::Index j) { return wires ? fmt::format("r{}_{}", i, j) : fmt::format("in{}", i); };
  auto cnode = [&](Eigen::Index i, Eigen::Index j) { return wires ? fmt::format("c{}_{}", i, j) : fmt::format("col{}", j); };
  for (Eigen::Index i = 0; i < g.rows(); ++i)
    for (Eigen::Index j = 0; j < g.cols(); ++j) c.add_resistor(fmt::format("RG{}_{}", i, j), rnode(i, j), cnode(i, j), 1.0 / g(i, j));
  if (wires) {
    for (Eigen::Index i = 0; i < g.rows(); ++i)
      for (Eigen::Index j = 0; j < g.cols(); ++j)
        c.add_resistor(fmt::format("RW{}_{}", i, j), j == 0 ? fmt::format("in{}", i) : rnode(i, j - 1), rnode(i, j), r_wire_ohm);
    for (Eigen::Index j = 0; j < g.cols(); ++j)
      for (Eigen::Index i = 0; i < g.rows(); ++i)
        c.add_resistor(fmt::format("RC{}_{}", i, j), cnode(i, j), i + 1 == g.rows() ? fmt::format("col{}", j) : cnode(i + 1, j), r_wire_ohm);
  }
  c.control.push_back(".op");
  return c;
}

Eigen::VectorXd ideal_column_currents(const Eigen::MatrixXd& g, const Eigen::VectorXd& v) { return g.transpose() * v; }

CrossbarSimResult simulate_crossbar(sim::Session& s, const Eigen::MatrixXd& g, const Eigen::VectorXd& v, double r_wire_ohm) {
  const netlist::Circuit c = crossbar_circuit(g, v, r_wire_ohm);
  s.load(netlist::ngspice_lines(c));
  const sim::OpResult op = s.op();
  CrossbarSimResult r;
  r.i_col_A.resize(g.cols());
  for (Eigen::Index j = 0; j < g.cols(); ++j) {
    const auto& x = op.vectors.current(fmt::format("VC{}", j));
    if (x.empty()) throw sim::SimError(fmt::format("no current for VC{}", j));
    // ngspice's branch current flows from + (col<j>) through the source to - (ground): the column current
    r.i_col_A(j) = x[0];
  }
  r.newton_iterations = op.stats.newton_iterations;
  r.wall_s = op.stats.wall_s;
  r.elements = c.elements.size();
  return r;
}

void VteamParams::validate() const {
  auto bad = [](const char* f, double v, const char* c) { throw InputError(fmt::format("VteamParams::{} = {}. Violated constraint: {}", f, v, c)); };
  if (!(g_off_S > 0)) bad("g_off_S", g_off_S, "g_off_S > 0");
  if (!(g_on_S > g_off_S)) bad("g_on_S", g_on_S, "g_on_S > g_off_S");
  if (!(v_on_V > 0)) bad("v_on_V", v_on_V, "v_on_V > 0");
  if (!(v_off_V < 0)) bad("v_off_V", v_off_V, "v_off_V < 0");
  if (!(k_on_per_s >= 0)) bad("k_on_per_s", k_on_per_s, "k_on_per_s >= 0");
  if (!(k_off_per_s >= 0)) bad("k_off_per_s", k_off_per_s, "k_off_per_s >= 0");
  if (!(alpha_on >= 1)) bad("alpha_on", alpha_on, "alpha_on >= 1");
  if (!(alpha_off >= 1)) bad("alpha_off", alpha_off, "alpha_off >= 1");
  if (!(smoothing > 0 && smoothing <= 0.5)) bad("smoothing", smoothing, "0 < smoothing <= 0.5");
}

namespace {
double softplus(double u, double s) {
  const double z = u / s;
  return z > 30 ? u : s * std::log1p(std::exp(z));
}
std::string num(double x) { return fmt::format("{:.17g}", x); }
}  // namespace

double vteam_dxdt(const VteamParams& p, double v, double x) {
  const double on = p.k_on_per_s * std::pow(softplus(v / p.v_on_V - 1, p.smoothing), p.alpha_on) * (1 - x);
  const double off = p.k_off_per_s * std::pow(softplus(v / p.v_off_V - 1, p.smoothing), p.alpha_off) * x;
  return on - off;
}

double vteam_current(const VteamParams& p, double v, double x) { return v * (p.g_off_S + (p.g_on_S - p.g_off_S) * x); }

std::vector<std::string> vteam_subcircuit(const VteamParams& p, const std::string& name) {
  p.validate();
  netlist::spice_text::require_name("vteam subcircuit name", name);
  const std::string s = num(p.smoothing);
  // softplus written with a guard: exp() of large arguments is replaced by the asymptote u
  auto sp = [&](const std::string& u) { return fmt::format("(({0})/{1} > 30 ? ({0}) : {1}*ln(1+exp(({0})/{1})))", u, s); };
  const std::string u_on = fmt::format("v(p,n)/{}-1", num(p.v_on_V)), u_off = fmt::format("v(p,n)/({})-1", num(p.v_off_V));
  return {
      fmt::format("* VTEAM memristor, softplus-smoothed thresholds (nnspice/memristor/spice.hpp); state = V(x) in [0, 1]"),
      fmt::format(".subckt {} p n params: x0=0", name),
      "Cx x 0 1 IC={x0}",
      "Rx x 0 1e15",
      fmt::format("Bx 0 x I = {}*pow({},{})*(1-v(x)) - {}*pow({},{})*v(x)", num(p.k_on_per_s), sp(u_on), num(p.alpha_on), num(p.k_off_per_s), sp(u_off),
                  num(p.alpha_off)),
      fmt::format("Bm p n I = v(p,n)*({}+{}*v(x))", num(p.g_off_S), num(p.g_on_S - p.g_off_S)),
      fmt::format(".ends {}", name),
  };
}

}  // namespace nnspice::memristor

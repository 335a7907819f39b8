#include "nnspice/engine/block.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>

#include "nnspice/common/error.hpp"

namespace nnspice::engine {

std::size_t Block::port(const std::string& node) const {
  const auto it = std::find(ports.begin(), ports.end(), node);
  if (it == ports.end()) throw std::logic_error(fmt::format("block has no port {}", node));
  return static_cast<std::size_t>(it - ports.begin());
}

Partition partition(const netlist::Circuit& c, const std::vector<std::string>& fixed_list, const DeviceTables& tables,
                    const netlist::Process& pr) {
  const std::set<std::string> fixed(fixed_list.begin(), fixed_list.end());
  std::vector<const netlist::Element*> fets;
  for (const auto& e : c.elements)
    if (e.kind == netlist::ElementKind::mosfet) fets.push_back(&e);
  // Union-find over the non-fixed nodes joined by a channel (drain-source); bulks sit on fixed nodes here.
  std::map<std::string, std::size_t> id;
  std::vector<std::size_t> parent;
  auto node_id = [&](const std::string& n) {
    auto [it, fresh] = id.emplace(n, parent.size());
    if (fresh) parent.push_back(parent.size());
    return it->second;
  };
  auto find = [&](std::size_t a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  };
  for (const auto* e : fets) {
    const auto& d = e->nodes[0];
    const auto& s = e->nodes[2];
    const auto& b = e->nodes[3];
    if (!fixed.count(b))
      throw InputError(fmt::format("{}: bulk on node {}, which is not a supply or fixed node (the engine's blocks need fixed bulks)", e->name, b));
    if (!fixed.count(d) && !fixed.count(s)) parent[find(node_id(d))] = find(node_id(s));
    if (!fixed.count(d)) node_id(d);
    if (!fixed.count(s)) node_id(s);
  }
  // One block per component that owns at least one unknown; a transistor belongs to the block of its
  // non-fixed channel node (a transistor between two fixed nodes is nobody's unknown: its own block).
  std::map<std::size_t, std::size_t> block_of_root;
  Partition part;
  auto block_for = [&](const std::string& node) -> std::size_t {
    const std::size_t r = find(id.at(node));
    auto [it, fresh] = block_of_root.emplace(r, part.blocks.size());
    if (fresh) part.blocks.emplace_back();
    return it->second;
  };
  std::vector<std::size_t> fet_block(fets.size());
  for (std::size_t k = 0; k < fets.size(); ++k) {
    const auto* e = fets[k];
    if (!fixed.count(e->nodes[0]))
      fet_block[k] = block_for(e->nodes[0]);
    else if (!fixed.count(e->nodes[2]))
      fet_block[k] = block_for(e->nodes[2]);
    else
      fet_block[k] = static_cast<std::size_t>(-1);
  }
  // Unknowns of each block: its component's nodes.
  std::vector<std::map<std::string, std::size_t>> unknown_at(part.blocks.size());
  for (const auto& [name, i] : id) {
    const auto it = block_of_root.find(find(i));
    if (it == block_of_root.end()) continue;
    auto& blk = part.blocks[it->second];
    unknown_at[it->second][name] = blk.unknowns.size();
    blk.unknowns.push_back(name);
  }
  std::vector<std::set<std::size_t>> depends(part.blocks.size());
  for (std::size_t k = 0; k < fets.size(); ++k) {
    const auto* e = fets[k];
    const std::size_t b = fet_block[k];
    if (b == static_cast<std::size_t>(-1)) continue;  // between two fixed nodes: no unknown to solve for
    const auto& g = e->nodes[1];
    if (!fixed.count(g)) {
      const auto it = id.find(g);
      if (it == id.end())
        throw InputError(fmt::format("{}: floating gate on node {} (no channel and no fixed node drives it)", e->name, g));
      const std::size_t gb = block_of_root.at(find(it->second));
      if (gb != b) depends[b].insert(gb);
    }
    netlist::Polarity pol;
    if (e->model == pr.nmos_model)
      pol = netlist::Polarity::n;
    else if (e->model == pr.pmos_model)
      pol = netlist::Polarity::p;
    else
      throw InputError(fmt::format("{}: model {} is neither the process's nFET ({}) nor pFET ({})", e->name, e->model, pr.nmos_model, pr.pmos_model));
    BlockDevice dev;
    dev.name = e->name;
    try {
      dev.cls = tables.index(pol, e->w_m, e->l_m);
    } catch (const std::logic_error&) {
      throw InputError(fmt::format("{}: W/L = {:.4g}/{:.4g} um is not a tabulated transistor class", e->name, e->w_m * 1e6, e->l_m * 1e6));
    }
    dev.delvto_V = e->delvto_V;
    part.blocks[b].devices.push_back(dev);
    auto& blk = part.blocks[b];
    for (int t = 0; t < 4; ++t) {
      const std::string& n = e->nodes[static_cast<std::size_t>(t)];
      const auto u = unknown_at[b].find(n);
      if (u != unknown_at[b].end()) {
        blk.devices.back().node[t] = static_cast<int>(u->second);
        continue;
      }
      auto pit = std::find(blk.ports.begin(), blk.ports.end(), n);
      if (pit == blk.ports.end()) {
        blk.ports.push_back(n);
        pit = blk.ports.end() - 1;
      }
      blk.devices.back().node[t] = -1 - static_cast<int>(pit - blk.ports.begin());  // fixed up below
    }
  }
  for (std::size_t b = 0; b < part.blocks.size(); ++b) {
    auto& blk = part.blocks[b];
    const int nu = static_cast<int>(blk.unknowns.size());
    for (auto& d : blk.devices)
      for (int& n : d.node)
        if (n < 0) n = nu + (-1 - n);
  }
  // Topological order of the gate dependencies (Kahn); a cycle is refused.
  std::vector<int> state(part.blocks.size(), 0);
  std::vector<std::size_t> order;
  std::function<void(std::size_t, std::vector<std::size_t>&)> visit = [&](std::size_t b, std::vector<std::size_t>& path) {
    if (state[b] == 2) return;
    if (state[b] == 1) {
      std::string names;
      for (std::size_t p : path) names += (names.empty() ? "" : " -> ") + part.blocks[p].unknowns.front();
      throw InputError(fmt::format("a loop of gate dependencies between blocks (nodes {} -> {}): the DC engine needs a feed-forward circuit", names,
                                   part.blocks[b].unknowns.front()));
    }
    state[b] = 1;
    path.push_back(b);
    for (std::size_t d : depends[b]) visit(d, path);
    path.pop_back();
    state[b] = 2;
    order.push_back(b);
  };
  for (std::size_t b = 0; b < part.blocks.size(); ++b) {
    std::vector<std::size_t> path;
    visit(b, path);
  }
  part.order = std::move(order);
  return part;
}

namespace {

// The four terminal voltages (d, g, s, b) of a device: unknowns from x, ports after them.
void terminal_voltages(const BlockDevice& d, std::size_t n, const double* ports, const double* x, double v[4]) {
  for (int k = 0; k < 4; ++k) v[k] = d.node[k] < static_cast<int>(n) ? x[d.node[k]] : ports[d.node[k] - static_cast<int>(n)];
}

// Residual F (currents into devices at each unknown node: KCL wants 0) and Jacobian J (row-major n x n).
// With port_out, the currents into the block at each port; with port_J (ports x n), their partials by the unknowns.
long assemble(const Block& blk, const DeviceTables& t, const double* ports, const double* x, std::vector<double>& F, std::vector<double>* J,
              bool& in_range, double* port_out = nullptr, double* port_J = nullptr) {
  const std::size_t n = blk.unknowns.size();
  std::fill(F.begin(), F.end(), 0.0);
  if (J) std::fill(J->begin(), J->end(), 0.0);
  in_range = true;
  if (port_out) std::fill(port_out, port_out + blk.ports.size(), 0.0);
  if (port_J) std::fill(port_J, port_J + blk.ports.size() * n, 0.0);
  DeviceEval ev;
  static const int term_node[3] = {0, 2, 3};  // terminal currents i[0..2] are at d, s, b
  for (const auto& d : blk.devices) {
    double v[4];
    terminal_voltages(d, n, ports, x, v);
    t.eval(d.cls, v[0], v[1], v[2], v[3], d.delvto_V, ev);
    in_range = in_range && ev.in_range;
    for (int a = 0; a < 3; ++a) {
      const int row = d.node[term_node[a]];
      if (row >= static_cast<int>(n)) {
        const std::size_t pr = static_cast<std::size_t>(row) - n;
        if (port_out) port_out[pr] += ev.i[a];
        if (port_J)
          for (int k = 0; k < 4; ++k)
            if (d.node[k] < static_cast<int>(n)) port_J[pr * n + static_cast<std::size_t>(d.node[k])] += ev.di[a][k];
        continue;
      }
      F[static_cast<std::size_t>(row)] += ev.i[a];
      if (!J) continue;
      for (int k = 0; k < 4; ++k) {
        const int col = d.node[k];
        if (col < static_cast<int>(n)) (*J)[static_cast<std::size_t>(row) * n + static_cast<std::size_t>(col)] += ev.di[a][k];
      }
    }
  }
  return static_cast<long>(blk.devices.size());
}

// Solves J dx = -F in place (Gaussian elimination, partial pivoting). False when singular.
bool lu_solve(std::vector<double>& J, std::vector<double>& F, std::size_t n) {
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t piv = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::abs(J[r * n + c]) > std::abs(J[piv * n + c])) piv = r;
    if (!(std::abs(J[piv * n + c]) > 0)) return false;
    if (piv != c) {
      for (std::size_t k = 0; k < n; ++k) std::swap(J[c * n + k], J[piv * n + k]);
      std::swap(F[c], F[piv]);
    }
    for (std::size_t r = c + 1; r < n; ++r) {
      const double f = J[r * n + c] / J[c * n + c];
      if (f == 0) continue;
      for (std::size_t k = c; k < n; ++k) J[r * n + k] -= f * J[c * n + k];
      F[r] -= f * F[c];
    }
  }
  for (std::size_t c = n; c-- > 0;) {
    double s = F[c];
    for (std::size_t k = c + 1; k < n; ++k) s -= J[c * n + k] * F[k];
    F[c] = s / J[c * n + c];
  }
  return true;
}

}  // namespace

NewtonResult solve_block(const Block& blk, const DeviceTables& t, const double* ports, double* x, const NewtonOptions& opt, double* port_out) {
  NewtonResult r;
  const std::size_t n = blk.unknowns.size();
  if (n == 0) {
    r.converged = true;
    return r;
  }
  std::vector<double> F(n), J(n * n), PJ(port_out ? blk.ports.size() * n : 0);
  for (r.iterations = 1; r.iterations <= opt.max_iterations; ++r.iterations) {
    bool in_range;
    r.device_evals += assemble(blk, t, ports, x, F, &J, in_range, port_out, port_out ? PJ.data() : nullptr);
    if (opt.shunt_S > 0 && opt.shunt_to_V)
      for (std::size_t k = 0; k < n; ++k) {
        F[k] += opt.shunt_S * (x[k] - opt.shunt_to_V[k]);
        J[k * n + k] += opt.shunt_S;
      }
    if (!lu_solve(J, F, n)) return r;
    double worst = 0;
    for (std::size_t k = 0; k < n; ++k) worst = std::max(worst, std::abs(F[k]));
    const double scale = worst > opt.max_step_V ? opt.max_step_V / worst : 1.0;
    for (std::size_t k = 0; k < n; ++k) x[k] -= scale * F[k];
    if (worst < opt.tol_V) {
      // Converged: no extra evaluation of every device. The port currents are this last evaluation's, moved to
      // the updated x along their partials (their error is second order in the update, like x's own), and the
      // range flag is this evaluation's, at most tol_V from the solution.
      if (port_out)
        for (std::size_t q = 0; q < blk.ports.size(); ++q)
          for (std::size_t k = 0; k < n; ++k) port_out[q] -= PJ[q * n + k] * F[k];
      r.converged = true;
      r.in_range = in_range;
      return r;
    }
  }
  r.iterations = opt.max_iterations;
  return r;
}

NewtonResult solve_block_homotopy(const Block& blk, const DeviceTables& t, const double* ports, double* x, const NewtonOptions& opt, double* port_out) {
  const std::size_t n = blk.unknowns.size();
  const std::vector<double> start(x, x + n);
  std::vector<double> ok(start);  // the last state solved, and its shunt
  NewtonResult total;
  NewtonOptions o = opt;
  o.shunt_to_V = start.data();
  auto add = [&](const NewtonResult& r) {
    total.iterations += r.iterations;
    total.device_evals += r.device_evals;
  };
  // Gmin stepping with an adaptive step: 10x down after a success; after a failure back to the last solved state
  // with a smaller step (the square root of the factor), giving up when the factor reaches 0.95.
  double g_ok = 0, factor = 0.1, g = 1e-3;
  while (true) {
    o.shunt_S = g;
    const NewtonResult r = solve_block(blk, t, ports, x, o, nullptr);
    add(r);
    if (r.converged) {
      std::copy(x, x + n, ok.begin());
      g_ok = g;
      if (g < 1e-16) break;
      factor = std::max(0.1, factor * factor);
      g *= factor;
    } else {
      if (g_ok == 0) return total;  // not even the strongest shunt converges
      std::copy(ok.begin(), ok.end(), x);
      factor = std::sqrt(factor);
      if (factor > 0.95) return total;
      g = g_ok * factor;
    }
  }
  const NewtonResult r = solve_block(blk, t, ports, x, opt, port_out);
  add(r);
  total.converged = r.converged;
  total.in_range = r.in_range;
  return total;
}

std::string out_of_range_device(const Block& blk, const DeviceTables& t, const double* ports, const double* x) {
  const std::size_t n = blk.unknowns.size();
  DeviceEval ev;
  for (const auto& d : blk.devices) {
    double v[4];
    terminal_voltages(d, n, ports, x, v);
    t.eval(d.cls, v[0], v[1], v[2], v[3], d.delvto_V, ev);
    if (ev.in_range) continue;
    const double p = t.classes()[d.cls].polarity == netlist::Polarity::n ? 1 : -1;
    const double md = p * v[0], mg = p * v[1], ms = p * v[2], mb = p * v[3];
    const double lo = std::min(md, ms), hi = std::max(md, ms);
    const auto& g = t.grid();
    return fmt::format("{} ({}): |V_GS| - dVT = {:.3f} V, |V_DS| = {:.3f} V, V_SB = {:.3f} V (tables: V_GS <= {} V, V_DS <= {} V, V_SB {} .. {} V)", d.name,
                       t.classes()[d.cls].str(), mg - lo - p * d.delvto_V, hi - lo, lo - mb, g.vgs_max_V, g.vds_max_V, g.vsb_min_V, g.vsb_max_V);
  }
  return "";
}

}  // namespace nnspice::engine

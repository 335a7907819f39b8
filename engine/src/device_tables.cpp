#include "nnspice/engine/device_tables.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "interp.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/progress.hpp"
#include "nnspice/common/store.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"
#include "nnspice/sim/session.hpp"

#ifndef NNSPICE_NGSPICE_VERSION
#define NNSPICE_NGSPICE_VERSION "unknown"
#endif

namespace nnspice::engine {
namespace {

constexpr double kFloor_A = 1e-24;  // channel currents below this are stored as this (deep off; far below gmin)
constexpr double kBoltzmannOverQ = 8.617333262e-5;  // V/K

std::size_t count(double lo, double hi, double step) { return static_cast<std::size_t>(std::llround((hi - lo) / step)) + 1; }

double sgn(netlist::Polarity p) { return p == netlist::Polarity::n ? 1.0 : -1.0; }

const store::Kind kTableKind{"device-tables", 2};

}  // namespace

std::string DeviceClass::str() const {
  return fmt::format("{}FET {:.4g}/{:.4g} um", polarity == netlist::Polarity::n ? "n" : "p", w_m * 1e6, l_m * 1e6);
}

std::vector<DeviceClass> synapse_classes(const netlist::Process& pr) {
  std::vector<DeviceClass> out;
  auto add_size = [&](netlist::Polarity p, const netlist::DeviceSize& s) {
    const DeviceClass c{p, s.w_m, s.l_m};
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  };
  for (int m = 0; m < pr.weight_bits; ++m)  // the mirrors of every bit (binary-scaled sizes beyond 3 bits)
    for (auto p : {netlist::Polarity::n, netlist::Polarity::p}) add_size(p, pr.mirror_size(m));
  for (auto p : {netlist::Polarity::n, netlist::Polarity::p}) add_size(p, pr.size(netlist::DeviceRole::sw));
  return out;
}

std::size_t TableGrid::n_vgs() const { return count(vgs_min_V, vgs_max_V, vgs_step_V); }
std::size_t TableGrid::n_vds() const { return count(0, vds_max_V, vds_step_V); }
std::size_t TableGrid::n_vsb() const { return count(vsb_min_V, vsb_max_V, vsb_step_V); }

void TableGrid::validate() const {
  auto need = [](bool ok, const char* field, double v, const char* what) {
    if (!ok) throw InputError(fmt::format("device table grid: {} = {} ({})", field, v, what));
  };
  for (double v : {vgs_min_V, vgs_max_V, vgs_step_V, vds_max_V, vds_step_V, vsb_min_V, vsb_max_V, vsb_step_V, shift_V})
    need(std::isfinite(v), "a field", v, "must be finite");
  need(vgs_step_V >= 1e-4 && vgs_step_V <= 0.1, "vgs_step_V", vgs_step_V, "1e-4 .. 0.1 V");
  need(vds_step_V >= 1e-4 && vds_step_V <= 0.1, "vds_step_V", vds_step_V, "1e-4 .. 0.1 V");
  need(vsb_step_V >= 1e-3 && vsb_step_V <= 0.2, "vsb_step_V", vsb_step_V, "1e-3 .. 0.2 V");
  need(vgs_max_V - vgs_min_V >= 4 * vgs_step_V && vgs_max_V <= 5, "vgs_max_V", vgs_max_V, "at least 4 steps above vgs_min_V, <= 5 V");
  need(vds_max_V >= 4 * vds_step_V && vds_max_V <= 5, "vds_max_V", vds_max_V, "at least 4 steps, <= 5 V");
  need(vsb_max_V - vsb_min_V >= 3 * vsb_step_V && vsb_max_V <= 5 && vsb_min_V >= -1, "vsb_max_V", vsb_max_V, "at least 3 steps above vsb_min_V >= -1 V");
  need(std::abs(shift_V - vgs_step_V) < 1e-12, "shift_V", shift_V, "must equal vgs_step_V: the shifted devices land on grid points");
  need(static_cast<double>(n_vgs()) * static_cast<double>(n_vds()) * static_cast<double>(n_vsb()) <= 2e7, "points", 0,
       "more than 2e7 grid points per class");
}

TableGrid grid_for(const netlist::Process& pr, TableGrid g) {
  // A switch's gate at VDD over a source at the lowest tabulated node voltage (-0.10 V), less a threshold shift of
  // up to -0.15 V (5 sigma of the smallest device at 3 x A_VT); drains reach VDD + 0.10 V above such a source.
  const auto up = [](double v) { return std::ceil(v / 0.05 - 1e-9) * 0.05; };
  g.vgs_max_V = std::max(g.vgs_max_V, up(pr.vdd_V + 0.25));
  g.vds_max_V = std::max(g.vds_max_V, up(pr.vdd_V + 0.15));
  return g;
}

void check_table_conditions(const netlist::Process& pr) {
  const std::string src = pr.source.empty() ? std::string("the built-in process") : pr.source;
  if (!(pr.temp_C >= kTableMinTemp_C && pr.temp_C <= kTableMaxTemp_C))
    throw InputError(fmt::format("{}: temp_C = {} is outside {} .. {} C, where the native engine's device tables (and the card's temperature "
                                 "model) are valid; use --method full for this temperature",
                                 src, pr.temp_C, kTableMinTemp_C, kTableMaxTemp_C));
  if (!(pr.vdd_V > 0 && pr.vdd_V + 0.25 <= 5))
    throw InputError(fmt::format("{}: vdd_V = {} is outside what the device tables cover (0 < vdd_V <= 4.75 V)", src, pr.vdd_V));
}

std::string default_cache_dir() {
  if (const char* e = std::getenv("NNSPICE_CACHE_DIR"); e && *e) return e;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/nnspice";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/nnspice";
  return "";
}

std::size_t DeviceTables::index(netlist::Polarity p, double w, double l) const {
  for (std::size_t k = 0; k < classes_.size(); ++k)
    if (classes_[k].polarity == p && std::abs(classes_[k].w_m - w) <= 1e-12 * w && std::abs(classes_[k].l_m - l) <= 1e-12 * l) return k;
  throw std::logic_error(fmt::format("no device table for {}", DeviceClass{p, w, l}.str()));
}

std::size_t DeviceTables::bytes() const {
  std::size_t b = 0;
  for (const auto& t : L_) b += t.size() * sizeof(float);
  return b;
}

void DeviceTables::eval(std::size_t cls, double vd, double vg, double vs, double vb, double delvto, DeviceEval& o) const {
  const netlist::Polarity pol = classes_[cls].polarity;
  const double p = sgn(pol);
  // Magnitude voltages; the lower terminal is the source.
  const double md = p * vd, mg = p * vg, ms = p * vs, mb = p * vb;
  const bool swap = md < ms;
  const double mdr = swap ? ms : md, msr = swap ? md : ms;
  const double vgs = mg - msr, vds = mdr - msr, vsb = msr - mb;
  const double dm = p * delvto;  // shift in magnitude: I0(vgs - dm)
  const TableGrid& g = grid_;
  o.in_range = true;
  double u = vgs - dm;
  double below = 0;  // deep off below the grid: log-linear continuation of the subthreshold slope
  if (u < g.vgs_min_V) {
    below = u - g.vgs_min_V;
    u = g.vgs_min_V;
  }
  if (u > g.vgs_max_V || vds > g.vds_max_V || vsb < g.vsb_min_V - 1e-12 || vsb > g.vsb_max_V + 1e-12) o.in_range = false;
  const auto sx = interp::stencil_d(g.vgs_min_V, g.vgs_step_V, g.n_vgs(), u, true);
  const auto sy = interp::stencil_d(0.0, g.vds_step_V, g.n_vds(), vds, true);
  const auto sz = interp::stencil_d(g.vsb_min_V, g.vsb_step_V, g.n_vsb(), vsb, true);
  const float* T = L_[cls].data();
  const std::size_t nx = g.n_vgs() + 2, ny = g.n_vds() + 2;  // padded axes
  double L = 0, Lx = 0, Ly = 0, Lz = 0, R = 0, Rx = 0, Ry = 0, Rz = 0;
  for (int c = 0; c < 4; ++c) {
    double pl = 0, plx = 0, ply = 0, pr = 0, prx = 0, pry = 0;
    for (int b = 0; b < 4; ++b) {
      const float* row = T + 2 * ((sz.idx[c] * ny + sy.idx[b]) * nx);
      double ql = 0, qlx = 0, qr = 0, qrx = 0;
      for (int a = 0; a < 4; ++a) {
        const float* e = row + 2 * sx.idx[a];
        ql += sx.w[a] * e[0];
        qlx += sx.dw[a] * e[0];
        qr += sx.w[a] * e[1];
        qrx += sx.dw[a] * e[1];
      }
      pl += sy.w[b] * ql;
      plx += sy.w[b] * qlx;
      ply += sy.dw[b] * ql;
      pr += sy.w[b] * qr;
      prx += sy.w[b] * qrx;
      pry += sy.dw[b] * qr;
    }
    L += sz.w[c] * pl;
    Lx += sz.w[c] * plx;
    Ly += sz.w[c] * ply;
    Lz += sz.dw[c] * pl;
    R += sz.w[c] * pr;
    Rx += sz.w[c] * prx;
    Ry += sz.w[c] * pry;
    Rz += sz.dw[c] * pr;
  }
  if (below < 0) {
    L += Lx * below;
    Rx = 0;
  }
  // ln I = L + ln N(vds) + dm R;  N = VT (1 - e^(-vds/VT)).
  const double vt = vt_;
  // exp() below -40 is under 5e-18 relative: 0 (saves the call for most devices, which sit far from V_DS = 0).
  const double ex = vds > 40 * vt ? 0.0 : std::exp(-vds / vt);
  const double N = vt * (1 - ex), dN = ex;
  const double E = std::exp(L + dm * R);
  const double I = E * N;
  const double dI_gs = I * (Lx + dm * Rx);
  const double dI_ds = E * dN + I * (Ly + dm * Ry);
  const double dI_sb = I * (Lz + dm * Rz);
  // Channel current d->s (actual) and its partials by actual voltages (d, g, s, b) = indices 0..3.
  double ich, dich[4];
  if (!swap) {
    ich = p * I;
    dich[0] = dI_ds;
    dich[1] = dI_gs;
    dich[2] = -dI_gs - dI_ds + dI_sb;
    dich[3] = -dI_sb;
  } else {  // the actual drain is the magnitude source
    ich = -p * I;
    dich[2] = -dI_ds;
    dich[1] = -dI_gs;
    dich[0] = -(-dI_gs - dI_ds + dI_sb);
    dich[3] = dI_sb;
  }
  // Junctions: bulk->drain and bulk->source diodes, forward when the magnitude bulk is above the terminal.
  const Junction& j = junction_[cls];
  auto diode = [&](double v_m, double& i, double& di) {  // v_m = magnitude (bulk - terminal)
    const double a = v_m / j.nvt_V;  // 0 (bulk tied to the terminal) and deep reverse bias need no exp()
    const double e = a == 0 ? 1.0 : a < -40 ? 0.0 : std::exp(std::min(a, 80.0));
    i = j.is_A * (e - 1) + j.gmin_S * v_m;
    di = j.is_A * e / j.nvt_V + j.gmin_S;
  };
  double jd, djd, js, djs;
  diode(mb - md, jd, djd);
  diode(mb - ms, js, djs);
  // Actual currents bulk->drain = p * jd; d/dVd (actual) of p * jd(p (vb - vd)) = -djd, d/dVb = +djd.
  o.i[0] = ich - p * jd;
  o.i[1] = -ich - p * js;
  o.i[2] = p * jd + p * js;
  for (int t = 0; t < 4; ++t) {
    o.di[0][t] = dich[t];
    o.di[1][t] = -dich[t];
    o.di[2][t] = 0;
  }
  o.di[0][0] += djd;
  o.di[0][3] -= djd;
  o.di[1][2] += djs;
  o.di[1][3] -= djs;
  o.di[2][0] -= djd;
  o.di[2][2] -= djs;
  o.di[2][3] += djd + djs;
}

// Builds tables by ngspice sweeps: per polarity, one job per V_SB value (nested DC sweep of V_GS inside
// V_DS on three devices per class: delvto 0, +shift, -shift in magnitude), plus one junction job per
// polarity (gate far off, drain at three voltages).
struct TableBuilder {
  static void build(DeviceTables& t, const netlist::Process& pr, const DeviceTableOptions& opt, DeviceTableStats& st) {
    const TableGrid& g = t.grid_;
    const std::size_t nx = g.n_vgs(), ny = g.n_vds(), nz = g.n_vsb();
    struct Job {
      netlist::Polarity pol;
      std::vector<std::size_t> cls;
      std::size_t kz;  // V_SB index; nz = the junction job
    };
    std::vector<Job> jobs;
    for (auto pol : {netlist::Polarity::n, netlist::Polarity::p}) {
      std::vector<std::size_t> cls;
      for (std::size_t k = 0; k < t.classes_.size(); ++k)
        if (t.classes_[k].polarity == pol) cls.push_back(k);
      if (cls.empty()) continue;
      for (std::size_t kz = 0; kz <= nz; ++kz) jobs.push_back({pol, cls, kz});
    }
    const double jv[3] = {0.25, 0.35, -1.0};  // junction job: magnitude bulk - drain
    auto circuit = [&](const Job& jb) {
      netlist::Circuit c = netlist::circuit_for_process(pr, fmt::format("nnspice device tables ({})", jb.pol == netlist::Polarity::n ? "nFET" : "pFET"));
      for (const char* k : {"reltol", "abstol", "vntol"}) std::erase_if(c.options, [&](const auto& kv) { return kv.first == k; });
      c.options.push_back({"reltol", "1e-7"});
      c.options.push_back({"abstol", "1e-18"});
      c.options.push_back({"vntol", "1e-11"});
      const bool n = jb.pol == netlist::Polarity::n;
      // Sources in magnitude: for pFETs the nodes sit at minus the source's value.
      auto src = [&](const std::string& name, const std::string& node, double v) {
        if (n)
          c.add_vsource(name, node, "0", v);
        else
          c.add_vsource(name, "0", node, v);
      };
      const bool junction = jb.kz == nz;
      src("VG", "g", junction ? -1.2 : g.vgs_min_V);
      src("VD", "d", junction ? jv[0] : 0.0);
      src("VB", "b", junction ? 0.0 : -(g.vsb_min_V + g.vsb_step_V * static_cast<double>(jb.kz)));
      for (std::size_t k : jb.cls) {
        const auto& dc = t.classes_[k];
        const double shifts[3] = {0, g.shift_V, -g.shift_V};
        for (int m = 0; m < (junction ? 1 : 3); ++m) {
          const std::string dn = fmt::format("d{}_{}", k, m);
          c.add_vsource(fmt::format("VP{}_{}", k, m), "d", dn, 0.0);
          c.add_mosfet(fmt::format("M{}_{}", k, m), dn, "g", "0", "b", pr.model(dc.polarity), dc.w_m, dc.l_m, sgn(dc.polarity) * shifts[m]);
        }
      }
      return netlist::ngspice_lines(c);
    };
    auto fn = [&](sim::Session& s, std::size_t job) -> sim::JobData {
      const Job& jb = jobs[job];
      s.load(circuit(jb));
      sim::JobData d;
      const double p = sgn(jb.pol);
      if (jb.kz == nz) {
        // VD at magnitude -0.25, -0.35, +1.0 (bulk 0): bulk - drain = 0.25, 0.35, -1.0.
        for (int m = 0; m < 3; ++m) {
          s.alter("VD", -jv[m]);
          const auto r = s.op();
          for (std::size_t k : jb.cls) d[fmt::format("j{}", k)].push_back(p * r.vectors.current(fmt::format("VP{}_0", k)).at(0));
        }
        return d;
      }
      // The V_DS axis in chunks: ngspice grows its result vectors by realloc, one point at a time, which costs
      // quadratic copying under AddressSanitizer (no in-place growth); 20 V_DS values per run keep that small.
      constexpr std::size_t kVdsChunk = 20;
      for (std::size_t j0 = 0; j0 < ny; j0 += kVdsChunk) {
        const std::size_t j1 = std::min(ny, j0 + kVdsChunk);
        const auto r = s.dc("VG", g.vgs_min_V, g.vgs_max_V + 1e-3 * g.vgs_step_V, g.vgs_step_V, "VD", g.vds_step_V * static_cast<double>(j0),
                            g.vds_step_V * (static_cast<double>(j1 - 1) + 1e-3), g.vds_step_V);
        for (std::size_t k : jb.cls)
          for (int m = 0; m < 3; ++m) {
            const auto& v = r.vectors.current(fmt::format("VP{}_{}", k, m));
            if (v.size() != nx * (j1 - j0))
              throw sim::SimError(fmt::format("device sweep returned {} points, expected {} x {}", v.size(), nx, j1 - j0));
            auto& out = d[fmt::format("i{}_{}", k, m)];
            out.reserve(nx * ny);
            for (double x : v) out.push_back(p * x);  // magnitude current into the drain
          }
      }
      return d;
    };
    sim::ParallelOptions po = opt.parallel;
    Progress progress("device tables", jobs.size(), opt.progress);
    std::size_t done = 0;
    po.on_progress = nullptr;
    po.on_result = [&](std::size_t, const sim::JobOutcome&) { progress.update(++done); };
    const auto res = sim::run_parallel(jobs.size(), fn, po);
    progress.finish();
    for (std::size_t q = 0; q < res.size(); ++q)
      if (!res[q].ok) throw sim::SimError(fmt::format("device table sweep {} of {} failed: {}", q + 1, res.size(), res[q].error));
    // Junctions first (the channel current is the drain current plus the drain junction's).
    t.junction_.assign(t.classes_.size(), {});
    for (std::size_t q = 0; q < jobs.size(); ++q) {
      if (jobs[q].kz != nz) continue;
      for (std::size_t k : jobs[q].cls) {
        const auto& i = res[q].data.at(fmt::format("j{}", k));  // magnitude into drain = -(bulk->drain diode)
        const double f1 = -i[0], f2 = -i[1], rev = -i[2];
        DeviceTables::Junction jn;
        if (!(f1 > 0 && f2 > f1)) throw sim::SimError(fmt::format("{}: junction currents {} A, {} A are not a forward diode", t.classes_[k].str(), f1, f2));
        jn.nvt_V = (jv[1] - jv[0]) / std::log(f2 / f1);
        jn.is_A = f1 / std::expm1(jv[0] / jn.nvt_V);
        jn.gmin_S = std::max(0.0, (rev - jn.is_A * std::expm1(jv[2] / jn.nvt_V)) / jv[2]);
        t.junction_[k] = jn;
      }
    }
    const std::size_t px = nx + 2, py = ny + 2, pz = nz + 2;  // stored with one ghost point per axis end
    t.L_.assign(t.classes_.size(), std::vector<float>(2 * px * py * pz));
    const double vt = t.vt_;
    for (std::size_t q = 0; q < jobs.size(); ++q) {
      if (jobs[q].kz == nz) continue;
      const std::size_t kz = jobs[q].kz;
      const double vsb = g.vsb_min_V + g.vsb_step_V * static_cast<double>(kz);
      for (std::size_t k : jobs[q].cls) {
        const auto& jn = t.junction_[k];
        std::vector<double> Lm[3];
        for (int m = 0; m < 3; ++m) {
          const auto& id = res[q].data.at(fmt::format("i{}_{}", k, m));
          Lm[m].resize(nx * ny);
          for (std::size_t ky = 0; ky < ny; ++ky) {
            const double vds = g.vds_step_V * static_cast<double>(ky);
            const double vbd = -vsb - vds;  // magnitude bulk - drain
            const double jd = jn.is_A * std::expm1(vbd / jn.nvt_V) + jn.gmin_S * vbd;
            const double N = vt * -std::expm1(-vds / vt);
            for (std::size_t kx = 0; kx < nx; ++kx) {
              const double ich = id[ky * nx + kx] + jd;
              Lm[m][ky * nx + kx] = ky == 0 ? 0.0 : std::log(std::max(ich, kFloor_A) / N);
            }
          }
          for (std::size_t kx = 0; kx < nx; ++kx)  // V_DS = 0: the smooth limit (ln of the channel conductance)
            Lm[m][kx] = 3 * Lm[m][nx + kx] - 3 * Lm[m][2 * nx + kx] + Lm[m][3 * nx + kx];
        }
        float* T = t.L_[k].data();
        const double s = g.shift_V;
        for (std::size_t ky = 0; ky < ny; ++ky)
          for (std::size_t kx = 0; kx < nx; ++kx) {
            const std::size_t at = ky * nx + kx;
            double r;
            if (kx == 0)
              r = (Lm[1][at + 1] - Lm[0][at]) / s;
            else if (kx + 1 == nx)
              r = -(Lm[2][at - 1] - Lm[0][at]) / s;
            else
              r = (Lm[1][at + 1] - Lm[2][at - 1]) / (2 * s);
            if (!std::isfinite(r)) r = 0;
            const std::size_t o = 2 * (((kz + 1) * py + ky + 1) * px + kx + 1);
            T[o] = static_cast<float>(Lm[0][at]);
            T[o + 1] = static_cast<float>(r);
          }
      }
    }
    // Ghost points: V_GS rows, then V_DS, then V_SB (each pass pads the previous passes' ghosts too).
    for (auto& T : t.L_)
      for (int c = 0; c < 2; ++c) {
        for (std::size_t kz = 1; kz <= nz; ++kz)
          for (std::size_t ky = 1; ky <= ny; ++ky) interp::pad_axis(T.data() + 2 * ((kz * py + ky) * px) + c, nx, 2);
        for (std::size_t kz = 1; kz <= nz; ++kz)
          for (std::size_t kx = 0; kx < px; ++kx) interp::pad_axis(T.data() + 2 * (kz * py * px + kx) + c, ny, 2 * px);
        for (std::size_t ky = 0; ky < py; ++ky)
          for (std::size_t kx = 0; kx < px; ++kx) interp::pad_axis(T.data() + 2 * (ky * px + kx) + c, nz, 2 * px * py);
      }
    st.sweep_points = 0;
    for (const auto& jb : jobs)
      if (jb.kz != nz) st.sweep_points += nx * ny;
  }
};

std::uint64_t device_table_key(const netlist::Process& pr, const std::vector<DeviceClass>& classes, const TableGrid& g) {
  store::Inputs in;
  in.add_file("model_card", pr.model_card).add("nmos", pr.nmos_model).add("pmos", pr.pmos_model).add("temp_C", pr.temp_C);
  for (const auto& [k, v] : pr.ngspice_options) in.add("option." + k, v);
  for (const auto& c : classes) in.add("class", fmt::format("{} {:a} {:a}", c.polarity == netlist::Polarity::n ? 'n' : 'p', c.w_m, c.l_m));
  for (double v : {g.vgs_min_V, g.vgs_max_V, g.vgs_step_V, g.vds_max_V, g.vds_step_V, g.vsb_min_V, g.vsb_max_V, g.vsb_step_V, g.shift_V}) in.add("grid", v);
  in.add("ngspice", NNSPICE_NGSPICE_VERSION);
  return in.hash();
}

std::shared_ptr<const DeviceTables> DeviceTables::get(const netlist::Process& pr, const std::vector<DeviceClass>& classes,
                                                      const DeviceTableOptions& opt, DeviceTableStats* stats_out) {
  check_table_conditions(pr);
  opt.grid.validate();
  if (classes.empty()) throw InputError("device tables: no transistor classes");
  auto t = std::make_shared<DeviceTables>();
  t->classes_ = classes;
  t->grid_ = opt.grid;
  t->vt_ = kBoltzmannOverQ * (pr.temp_C + 273.15);
  const TableGrid& g = opt.grid;
  t->key_ = device_table_key(pr, classes, g);
  DeviceTableStats st;
  const std::size_t per_class = 2 * (g.n_vgs() + 2) * (g.n_vds() + 2) * (g.n_vsb() + 2);
  const auto t0 = std::chrono::steady_clock::now();
  // One builder per cache file at a time: concurrent runs (parallel tests, two commands) wait for the first
  // build and then load it, instead of all sweeping the same tables.
  struct Lock {
    int fd = -1;
    ~Lock() {
      if (fd >= 0) ::close(fd);  // releases the flock
    }
  } lock;
  if (!opt.cache_dir.empty()) {
    try {
      make_dirs(opt.cache_dir);
      lock.fd = ::open(fmt::format("{}/device-tables-{}.lock", opt.cache_dir, hex64(t->key_)).c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
      if (lock.fd >= 0) ::flock(lock.fd, LOCK_EX);
    } catch (const std::exception&) {
      // an unwritable cache folder: no lock, no cache (reported when writing)
    }
    st.cache_file = fmt::format("{}/device-tables-{}.bin", opt.cache_dir, hex64(t->key_));
    const auto rec = store::load_record(st.cache_file, kTableKind, t->key_);
    if (rec) {
      const std::string& b = *rec.value;
      const std::size_t need = classes.size() * (3 * sizeof(double) + per_class * sizeof(float));
      if (b.size() == need) {
        std::size_t pos = 0;
        t->junction_.resize(classes.size());
        t->L_.assign(classes.size(), std::vector<float>(per_class));
        bool finite = true;
        for (std::size_t k = 0; k < classes.size(); ++k) {
          std::memcpy(&t->junction_[k], b.data() + pos, 3 * sizeof(double));
          pos += 3 * sizeof(double);
          std::memcpy(t->L_[k].data(), b.data() + pos, per_class * sizeof(float));
          pos += per_class * sizeof(float);
          for (float x : t->L_[k]) finite = finite && std::isfinite(x);
        }
        if (finite) {
          st.build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          st.bytes = t->bytes();
          if (stats_out) *stats_out = st;
          return t;
        }
        st.cache_note = "non-finite table values";
      } else {
        st.cache_note = fmt::format("payload of {} bytes, expected {}", b.size(), need);
      }
    } else if (!rec.missing()) {
      st.cache_note = rec.reason;
    }
    if (!st.cache_note.empty())
      fmt::print(stderr, "note: device-table cache {} not used ({}); rebuilding\n", st.cache_file, st.cache_note);
  }
  TableBuilder::build(*t, pr, opt, st);
  st.built = true;
  st.build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  st.bytes = t->bytes();
  if (!opt.cache_dir.empty()) {
    std::string payload;
    payload.reserve(classes.size() * (3 * sizeof(double) + per_class * sizeof(float)));
    for (std::size_t k = 0; k < classes.size(); ++k) {
      payload.append(reinterpret_cast<const char*>(&t->junction_[k]), 3 * sizeof(double));
      payload.append(reinterpret_cast<const char*>(t->L_[k].data()), per_class * sizeof(float));
    }
    try {
      make_dirs(opt.cache_dir);
      store::write_record(st.cache_file, kTableKind, t->key_, payload);
    } catch (const std::exception& e) {
      if (opt.progress) fmt::print(stderr, "warning: could not cache the device tables in {}: {}\n", opt.cache_dir, e.what());
    }
  }
  if (stats_out) *stats_out = st;
  return t;
}

}  // namespace nnspice::engine

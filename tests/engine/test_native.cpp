// The native engine (device tables + Newton per synapse block) against ngspice on the same devices and
// synapses. Tolerances (docs/dc_engine.md): tables vs ngspice devices <= 0.1 % above 1 nA; synapse port
// tables <= 0.5 % + 20 pA of the ngspice sweep tables at every grid point.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "../test_support.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/engine/block.hpp"
#include "nnspice/engine/decomposed_dc.hpp"
#include "nnspice/engine/device_tables.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"
#include "nnspice/sim/session.hpp"

using namespace nnspice;
using namespace nnspice::engine;

namespace {

std::string cache_dir() { return std::string(NNSPICE_TEST_CACHE_DIR); }

netlist::Process process(const std::string& card) {
  netlist::Process p = netlist::load_process(std::string(NNSPICE_SOURCE_DIR) + "/data/process/" + card + ".yaml");
  return p;
}

DeviceTableOptions table_options() {
  DeviceTableOptions o;
  o.cache_dir = cache_dir();
  o.parallel.workers = 2;
  o.progress = false;
  return o;
}

sim::NetworkChip make_chip(const std::string& layers, const netlist::Process& pr, std::uint64_t seed, double avt_scale) {
  sim::NetworkChip c;
  c.spec = netlist::NetworkSpec::parse(layers);
  c.process = pr;
  for (auto& a : c.process.a_vt_V_m) a *= avt_scale;
  c.chip = mismatch::draw_chip(c.spec, c.process, seed);
  return c;
}

// Native vs ngspice synapse tables of the same chip, every synapse at several codes, every grid point.
double worst_synapse_ratio(const std::string& card, double avt_scale, std::uint64_t seed) {
  const auto pr = process(card);
  const auto chip = make_chip("4-7-3", pr, seed, avt_scale);
  DecomposedOptions base;
  base.parallel.workers = 2;
  base.progress = false;
  base.device_tables = table_options();
  DecomposedOptions ng = base;
  ng.synapse_tables = SynapseTables::ngspice;
  ng.zero_code_pre_coarsening = 1;
  DecomposedSolver a(chip, base), b(chip, ng);
  double worst = 0;
  for (int code : {7, -7, 1, -1, 3, -5, 6, 0}) {
    const auto w = netlist::constant_weights(chip.spec, code);
    a.tabulate(w);
    b.tabulate(w);
    for (std::size_t l = 0; l + 1 < chip.spec.layers.size(); ++l)
      for (int j = 0; j < chip.spec.layers[l + 1]; ++j)
        for (int i = 0; i < chip.spec.layers[l]; ++i)
          for (double vpre = -0.1; vpre <= 0.7401; vpre += 0.03)
            for (double vpost = -0.1; vpost <= 0.7401; vpost += 0.025) {
              const double x = a.synapse_current(l, j, i, code, vpre, vpost), y = b.synapse_current(l, j, i, code, vpre, vpost);
              const double r = std::abs(x - y) / (5e-3 * std::abs(y) + 20e-12);
              if (r > worst) {
                worst = r;
                std::printf("%s x%.0f code %d syn (%zu,%d,%d) vpre %.3f vpost %.3f native %.6g ngspice %.6g ratio %.3f\n", card.c_str(), avt_scale,
                            code, l, j, i, vpre, vpost, x, y, r);
              }
            }
  }
  return worst;
}

}  // namespace

TEST(NativeEngine, SynapseTablesMatchNgspice_Tsmc) { EXPECT_LE(worst_synapse_ratio("tsmc180", 1, 3), 1.0); }
TEST(NativeEngine, SynapseTablesMatchNgspice_Tsmc3Sigma) { EXPECT_LE(worst_synapse_ratio("tsmc180", 3, 4), 1.0); }
TEST(NativeEngine, SynapseTablesMatchNgspice_Ptm) { EXPECT_LE(worst_synapse_ratio("ptm180", 1, 5), 1.0); }

namespace {

// Full-netlist ngspice operating points vs the native decomposed engine, same chip and weights (random
// codes), inputs uniform in 0..2 * mean. Returns the worst |error| / (0.5 % + 20 pA) over all probes.
double worst_network_ratio(const std::string& layers, const std::string& card, double avt_scale, double mean_A, std::uint64_t seed, int n_inputs,
                           std::string* error = nullptr) {
  const auto pr = process(card);
  const auto chip = make_chip(layers, pr, seed, avt_scale);
  const auto w = netlist::random_weights(chip.spec, seed + 100);
  Rng rng(seed * 13 + 5);
  std::vector<std::vector<double>> in(static_cast<std::size_t>(n_inputs), std::vector<double>(static_cast<std::size_t>(chip.spec.layers[0])));
  for (auto& v : in)
    for (auto& x : v) x = rng.uniform(0, 2 * mean_A);
  sim::ParallelOptions po;
  po.workers = 2;
  if (std::getenv("NNSPICE_TEST_TIGHT")) po.session.options = {{"reltol", "1e-6"}, {"abstol", "1e-16"}, {"vntol", "1e-9"}};
  auto full = sim::make_full_netlist_solver(chip, po);
  DecomposedOptions o;
  o.parallel.workers = 2;
  o.progress = false;
  o.device_tables = table_options();
  if (const char* f = std::getenv("NNSPICE_TEST_FINE")) {
    o.pre_step_V /= std::atof(f);
    o.post_step_V /= std::atof(f);
  }
  DecomposedSolver dec(chip, o);
  const auto ref = full->solve(w, in);
  const auto got = dec.solve(w, in);
  double worst = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    if (!ref[k].ok || !got[k].ok) {
      if (error) *error = ref[k].ok ? got[k].error : ref[k].error;
      std::printf("%s %s x%.0f mean %.3g input %zu: full %s / native %s\n", layers.c_str(), card.c_str(), avt_scale, mean_A, k, ref[k].error.c_str(),
                  got[k].error.c_str());
      return -1;
    }
    for (std::size_t l = std::getenv("NNSPICE_TEST_ALL_LAYERS") ? 1 : ref[k].currents.size() - 1; l < ref[k].currents.size(); ++l)
      for (std::size_t j = 0; j < ref[k].currents[l].size(); ++j) {
        const double y = ref[k].currents[l][j], x = got[k].currents[l][j];
        const double r = std::abs(x - y) / (5e-3 * std::abs(y) + 20e-12);
        if (r > worst) {
          worst = r;
          if (std::getenv("NNSPICE_TEST_VERBOSE"))
            std::printf("  input %zu layer %zu neuron %zu: full %.6g native %.6g ratio %.3f\n", k, l, j, y, x, r);
        }
      }
  }
  std::printf("%s %s x%.0f mean %.3g A: worst %.3f\n", layers.c_str(), card.c_str(), avt_scale, mean_A, worst);
  return worst;
}

}  // namespace

TEST(NativeEngine, NetworkMatchesFullNetlist_Levels) {
  const char* only = std::getenv("NNSPICE_TEST_CASE");
  for (const char* card : {"tsmc180", "ptm180"})
    for (double mean : {1e-9, 15e-9, 100e-9, 1e-6, 3e-6})
      for (double avt : {1.0, 3.0}) {
        if (only && fmt::format("{} {} {}", card, mean, avt) != only) continue;
        worst_network_ratio("4-7-3", card, avt, mean, 11, 4);
      }
}

// Table devices against ngspice devices at random operating points (both polarities, every class, shifts
// up to +-30 mV): drain terminal current within 0.1 % + 1 pA.
static double worst_device_ratio(const std::string& card, std::uint64_t seed, int n_points) {
  const auto pr = process(card);
  const auto classes = synapse_classes(pr);
  const auto tabs = DeviceTables::get(pr, classes, table_options());
  Rng rng(seed);
  netlist::Circuit c = netlist::circuit_for_process(pr, "device check");
  c.options.push_back({"reltol", "1e-7"});
  c.options.push_back({"abstol", "1e-18"});
  c.options.push_back({"vntol", "1e-11"});
  struct Pt {
    std::size_t cls;
    double v[4], dv;
  };
  std::vector<Pt> pts;
  for (int k = 0; k < n_points; ++k) {
    Pt p;
    p.cls = static_cast<std::size_t>(rng.uniform(0, 1) * static_cast<double>(classes.size())) % classes.size();
    const double s = classes[p.cls].polarity == netlist::Polarity::n ? 1 : -1;
    const double base = s > 0 ? 0.0 : pr.vdd_V;
    const double vs = base + s * rng.uniform(-0.1, 0.8), vg = vs + s * rng.uniform(0.0, 1.0), vd = vs + s * rng.uniform(-0.3, 1.0);
    p.v[0] = vd;
    p.v[1] = vg;
    p.v[2] = vs;
    p.v[3] = base;
    p.dv = rng.uniform(-0.03, 0.03);
    pts.push_back(p);
    const std::string t = fmt::format("{}", k);
    c.add_vsource("VD" + t, "d" + t, "0", vd);
    c.add_vsource("VG" + t, "g" + t, "0", vg);
    c.add_vsource("VS" + t, "s" + t, "0", vs);
    c.add_vsource("VB" + t, "b" + t, "0", base);
    c.add_mosfet("M" + t, "d" + t, "g" + t, "s" + t, "b" + t, pr.model(classes[p.cls].polarity), classes[p.cls].w_m, classes[p.cls].l_m, p.dv);
  }
  sim::Session s;
  s.load(netlist::ngspice_lines(c));
  const auto r = s.op();
  double worst = 0;
  for (int k = 0; k < n_points; ++k) {
    const Pt& p = pts[static_cast<std::size_t>(k)];
    DeviceEval ev;
    tabs->eval(p.cls, p.v[0], p.v[1], p.v[2], p.v[3], p.dv, ev);
    if (!ev.in_range) continue;  // outside the table: the engine refuses such operating points
    const double ref = -r.vectors.current(fmt::format("VD{}", k)).at(0);  // into the drain
    const double ratio = std::abs(ev.i[0] - ref) / (1e-3 * std::abs(ref) + 1e-12);
    if (ratio > worst) {
      worst = ratio;
      std::printf("%s %s vd %.3f vg %.3f vs %.3f vb %.3f dvt %.4f: table %.6g ngspice %.6g ratio %.3f\n", card.c_str(), classes[p.cls].str().c_str(),
                  p.v[0], p.v[1], p.v[2], p.v[3], p.dv, ev.i[0], ref, ratio);
    }
  }
  return worst;
}

TEST(NativeEngine, DeviceTablesMatchNgspiceDevices) {
  EXPECT_LE(worst_device_ratio("tsmc180", 21, 400), 1.0);
  EXPECT_LE(worst_device_ratio("ptm180", 22, 400), 1.0);
}

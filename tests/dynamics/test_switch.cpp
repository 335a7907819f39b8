// Pattern-switch transients of a small chip through libngspice: the full netlist against the
// layer-wise method (time to output within 5 %, energy within 2 %), the transient settling to the DC
// operating point of the new pattern, and the gate-load calibration's range.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <fstream>

#include "nnspice/dynamics/experiment.hpp"
#include "nnspice/dynamics/switch_sim.hpp"
#include "nnspice/dynamics/tabulated.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/mismatch/chip.hpp"

using namespace nnspice;
using namespace nnspice::dynamics;

namespace {

sim::NetworkChip make_chip(const std::string& layers, std::uint64_t seed) {
  sim::NetworkChip c;
  c.spec = netlist::NetworkSpec::parse(layers);
  c.process = netlist::load_process(std::string(NNSPICE_SOURCE_DIR) + "/data/process/tsmc180.yaml");
  c.chip = mismatch::draw_chip(c.spec, c.process, seed);
  return c;
}

// 2-2-2 with diagonal weights: the class follows the larger input.
netlist::WeightCodes diagonal() {
  netlist::WeightCodes w(2);
  for (auto& m : w) {
    m.rows = m.cols = 2;
    m.codes = {7, -3, -3, 7};
  }
  return w;
}

sim::Session& session() {
  static sim::Session s;
  return s;
}

}  // namespace

TEST(GateLoad, CapacitancesArePositiveAndFemtofarads) {
  const auto chip = make_chip("2-2-2", 3);
  const GateLoad g = calibrate_gate_load(session(), chip.process);
  EXPECT_LT(g.v_n_lo_V, g.v_n_hi_V);
  EXPECT_GT(g.v_p_lo_V, g.v_p_hi_V);  // Vp falls as the current grows
  for (int code = -7; code <= 7; ++code) {
    EXPECT_GT(g.c_n(code), 1e-15) << code;
    EXPECT_LT(g.c_n(code), 20e-15) << code;
    EXPECT_GT(g.c_p(code), 1e-15) << code;
    EXPECT_LT(g.c_p(code), 20e-15) << code;
  }
}

TEST(Switch, FullNetlistSettlesOnAThenReachesB) {
  const auto chip = make_chip("2-2-2", 3);
  SwitchOptions o;
  o.t_stop_s = 6e-6;
  const auto tr = simulate_switch(session(), chip, diagonal(), {30e-9, 5e-9}, {5e-9, 30e-9}, o);
  ASSERT_EQ(tr.output_A.size(), 2u);
  EXPECT_EQ(tr.asymptotic_class, 1);
  EXPECT_GT(tr.output_A[0].front(), tr.output_A[1].front()) << "the transient must start settled on pattern A (class 0)";
  for (std::size_t k = 0; k < 2; ++k)  // settled by 6 us: the last sample is the DC operating point of B
    EXPECT_NEAR(tr.output_A[k].back(), tr.asymptotic_A[k], 0.03 * std::fabs(tr.asymptotic_A[k]) + 0.1e-9) << k;
  const auto m = measure_switch(tr, chip.process.vdd_V, o.t_stop_s);
  EXPECT_GT(m.time_to_output_s, 0.05e-6);
  EXPECT_LT(m.time_to_output_s, 5e-6);
  EXPECT_EQ(m.final_class, 1);
  EXPECT_GT(m.energy_tto_J, 0);
  EXPECT_GT(m.energy_window_J, m.energy_tto_J);
  EXPECT_NEAR(m.energy_tto_inputs_J - m.energy_tto_J, 1.8 * 35e-9 * m.time_to_output_s, 1.8 * 35e-9 * 2e-9);
  std::printf("full: tto %.4g us, energy to output %.4g pJ, %ld time points, %ld Newton iterations, %.2f s\n", m.time_to_output_s * 1e6,
              m.energy_tto_J * 1e12, tr.time_points, tr.newton_iterations, tr.wall_s);
}

TEST(Switch, LayerwiseMatchesFullNetlist) {
  const auto chip = make_chip("2-2-2", 3);
  SwitchOptions o;
  o.t_stop_s = 6e-6;
  const auto full = simulate_switch(session(), chip, diagonal(), {30e-9, 5e-9}, {5e-9, 30e-9}, o);
  const auto mf = measure_switch(full, chip.process.vdd_V, o.t_stop_s);
  o.method = Method::layerwise;
  o.gate_load = calibrate_gate_load(session(), chip.process);
  for (std::size_t chunk : {0, 1}) {
    o.chunk = chunk;
    const auto lw = simulate_switch(session(), chip, diagonal(), {30e-9, 5e-9}, {5e-9, 30e-9}, o);
    const auto ml = measure_switch(lw, chip.process.vdd_V, o.t_stop_s);
    EXPECT_EQ(lw.asymptotic_class, full.asymptotic_class);
    for (std::size_t k = 0; k < 2; ++k) EXPECT_NEAR(lw.asymptotic_A[k], full.asymptotic_A[k], 1e-3 * std::fabs(full.asymptotic_A[k]) + 1e-12);
    EXPECT_NEAR(ml.time_to_output_s, mf.time_to_output_s, 0.05 * mf.time_to_output_s) << "chunk " << chunk;
    EXPECT_NEAR(ml.energy_window_J, mf.energy_window_J, 0.02 * mf.energy_window_J) << "chunk " << chunk;
    EXPECT_EQ(lw.transients, chunk == 0 ? 2u : 4u);
    std::printf("layerwise chunk %zu: tto %.4g us (full %.4g), energy %.4g pJ (full %.4g)\n", chunk, ml.time_to_output_s * 1e6,
                mf.time_to_output_s * 1e6, ml.energy_window_J * 1e12, mf.energy_window_J * 1e12);
  }
}

namespace {

// The chip's tabulated model for weights w (tables built here, capacitances calibrated in the shared session).
std::shared_ptr<TabulatedModel> tabulated_model(const sim::NetworkChip& chip, const netlist::WeightCodes& w) {
  engine::DecomposedOptions dopt;
  dopt.progress = false;
  auto solver = std::make_shared<engine::DecomposedSolver>(chip, dopt);
  solver->tabulate(w);
  return std::make_shared<TabulatedModel>(solver, calibrate_node_caps(session(), chip.process));
}

// Two patterns on the 2-2-2 diagonal chip (seed 3), each settled on pattern 0: the second is out of range.
ExperimentConfig experiment_with_a_bad_pattern(const std::vector<double>& bad, const SwitchOptions& sw, const std::string& dir) {
  ExperimentConfig cfg;
  cfg.chip = make_chip("2-2-2", 3);
  cfg.weights = diagonal();
  cfg.patterns_A = {{30e-9, 5e-9}, bad};
  cfg.from = {0, 0};
  cfg.sw = sw;
  cfg.window_s = 1e-6;
  cfg.out_dir = ::testing::TempDir() + "/" + dir;
  cfg.progress = false;
  return cfg;
}

// The tabulated engine against the full netlist, on the same chip, weights and switches: time to output
// within 5 % (the criterion), the same asymptotic class, window energy within 5 %.
void expect_tabulated_matches_full(const std::string& layers, std::uint64_t seed, const netlist::WeightCodes& w,
                                   const std::vector<std::vector<double>>& switches /* pairs A, B */, double t_stop) {
  const auto chip = make_chip(layers, seed);
  const auto model = tabulated_model(chip, w);
  std::size_t changed = 0;
  for (std::size_t k = 0; k + 1 < switches.size(); k += 2) {
    SwitchOptions o;
    o.t_stop_s = t_stop;
    const auto full = simulate_switch(session(), chip, w, switches[k], switches[k + 1], o);
    const auto mf = measure_switch(full, chip.process.vdd_V, t_stop);
    o.method = Method::tabulated;
    o.tabulated = model;
    const auto tab = simulate_switch(session(), chip, w, switches[k], switches[k + 1], o);
    const auto mt = measure_switch(tab, chip.process.vdd_V, t_stop);
    std::printf("%s switch %zu: tto tabulated %.4g us, full %.4g us; window energy %.4g pJ vs %.4g pJ; %.3f s vs %.3f s\n", layers.c_str(),
                k / 2, mt.time_to_output_s * 1e6, mf.time_to_output_s * 1e6, mt.energy_window_J * 1e12, mf.energy_window_J * 1e12,
                tab.wall_s, full.wall_s);
    EXPECT_EQ(tab.asymptotic_class, full.asymptotic_class) << k;
    if (mf.time_to_output_s > 0) {
      ++changed;
      EXPECT_NEAR(mt.time_to_output_s, mf.time_to_output_s, 0.05 * mf.time_to_output_s) << k;
    } else {
      EXPECT_EQ(mt.time_to_output_s, mf.time_to_output_s) << k;
    }
    EXPECT_NEAR(mt.energy_window_J, mf.energy_window_J, 0.05 * mf.energy_window_J) << k;
    for (std::size_t j = 0; j < full.output_A.size(); ++j)  // the settled end of the window
      EXPECT_NEAR(tab.output_A[j].back(), full.output_A[j].back(), 0.02 * std::fabs(full.output_A[j].back()) + 50e-12) << k << " " << j;
  }
  EXPECT_GT(changed, 0u) << "no switch changed the class: the time-to-output comparison was not exercised";
}

}  // namespace

// The node charges are curves Q(V): continuous, extended linearly beyond their grid, exact through pack/unpack,
// and they carry what a constant capacitance cannot: the Vp node's charge (the soma's M2/M3 gates and every
// positive synapse's PMOS mirror gate) grows by tens of percent with the soma current over 1-100 nA, while a
// constant ΔQ/ΔV over that span biased the Iris times to output (docs/dynamics.md). The same calibration
// measures the soma mirrors' Early slopes.
TEST(Tabulated, NodeChargesAreVoltageDependentCurves) {
  const auto pr = netlist::load_process(std::string(NNSPICE_SOURCE_DIR) + "/data/process/tsmc180.yaml");
  const NodeCaps caps = calibrate_node_caps(session(), pr);
  const std::size_t codes = static_cast<std::size_t>(2 * pr.max_code() + 1);
  ASSERT_EQ(caps.out.size(), codes);
  ASSERT_EQ(caps.gate_n.size(), codes);
  ASSERT_EQ(caps.couple_p.size(), codes);
  const ChargeCurve& g = caps.soma_g;
  ASSERT_GE(g.c_F.size(), 20u);
  const double lo = g.v0_V, hi = g.v0_V + g.dv_V * static_cast<double>(g.c_F.size());
  EXPECT_LT(lo, caps.span_g_V[0]);
  EXPECT_GT(hi, caps.span_g_V[1]);
  // Vp falls as the current grows: span_p_V[1] is the 1 nA end, span_p_V[0] the 100 nA end.
  const ChargeCurve& p = caps.soma_p;
  const ChargeCurve& gp = caps.gate_p[static_cast<std::size_t>(2 * pr.max_code())];
  std::printf("Vp node: soma %.2f fF at 1 nA, %.2f fF at 100 nA; gate load of code +%d %.2f / %.2f fF\n", p.capacitance(caps.span_p_V[1]) * 1e15,
              p.capacitance(caps.span_p_V[0]) * 1e15, pr.max_code(), gp.capacitance(caps.span_p_V[1]) * 1e15, gp.capacitance(caps.span_p_V[0]) * 1e15);
  EXPECT_GT(p.capacitance(caps.span_p_V[0]), 1.1 * p.capacitance(caps.span_p_V[1]));
  EXPECT_GT(gp.capacitance(caps.span_p_V[0]), 1.1 * gp.capacitance(caps.span_p_V[1]));
  for (const auto* cv : {&caps.soma_g, &caps.soma_p, &caps.soma_n, &caps.output_g})
    for (double c : cv->c_F) EXPECT_TRUE(c >= 0 && c < 1e-13) << c;
  // The soma mirrors' Early slopes (d ln I / d V_drain): positive, of the order of 1/(5 V), one per calibration point.
  ASSERT_EQ(caps.early.g_V.size(), 9u);
  ASSERT_EQ(caps.early.p_V.size(), 9u);
  EXPECT_TRUE(std::is_sorted(caps.early.g_V.begin(), caps.early.g_V.end()));
  EXPECT_TRUE(std::is_sorted(caps.early.p_V.begin(), caps.early.p_V.end()));
  for (double x : caps.early.m1_per_V) EXPECT_TRUE(x > 0.02 && x < 2) << x;
  for (double x : caps.early.m3_per_V) EXPECT_TRUE(x > 0.02 && x < 2) << x;
  EXPECT_DOUBLE_EQ(caps.early.m1(caps.early.g_V.front() - 1), caps.early.m1_per_V.front());
  // Continuity at a grid point, linear beyond the grid.
  const double v3 = g.v0_V + 3 * g.dv_V;
  EXPECT_NEAR(g.charge(v3 - 1e-12), g.charge(v3 + 1e-12), 1e-25);
  EXPECT_NEAR(g.charge(hi + 0.1) - g.charge(hi), 0.1 * g.c_F.back(), 1e-22);
  EXPECT_NEAR(g.charge(lo) - g.charge(lo - 0.1), 0.1 * g.c_F.front(), 1e-22);
  // A node's total charge is the sum of its parts.
  ChargeCurve sum = caps.soma_g;
  sum.add(caps.out[0], 3);
  sum.add_constant(2e-15);
  EXPECT_NEAR(sum.charge(v3), caps.soma_g.charge(v3) + 3 * caps.out[0].charge(v3) + 2e-15 * (v3 - lo), 1e-24);
  // The flat form (worker results) round-trips exactly; a truncated one is refused.
  const auto flat = caps.pack();
  const NodeCaps back = NodeCaps::unpack(flat);
  EXPECT_EQ(back.pack(), flat);
  auto cut = flat;
  cut.pop_back();
  EXPECT_THROW(NodeCaps::unpack(cut), std::invalid_argument);
  cut = flat;
  cut.push_back(0);
  EXPECT_THROW(NodeCaps::unpack(cut), std::invalid_argument);
  cut = flat;
  cut[3] = std::nan("");  // the first curve's segment count
  EXPECT_THROW(NodeCaps::unpack(cut), std::invalid_argument);
}

TEST(Tabulated, MatchesFullNetlist2x2x2) {
  expect_tabulated_matches_full("2-2-2", 3, diagonal(), {{30e-9, 5e-9}, {5e-9, 30e-9}, {5e-9, 40e-9}, {40e-9, 5e-9}}, 6e-6);
}

TEST(Tabulated, MatchesFullNetlistRandomCodes) {
  // 6-5-3 with random codes (seed 4): several switches between random 15 nA-mean patterns.
  const auto spec = netlist::NetworkSpec::parse("6-5-3");
  auto rng = Rng::stream(4, "test-tabulated");
  netlist::WeightCodes w(2);
  for (std::size_t l = 0; l < 2; ++l) {
    w[l].rows = static_cast<std::size_t>(spec.layers[l + 1]);
    w[l].cols = static_cast<std::size_t>(spec.layers[l]);
    for (std::size_t k = 0; k < w[l].rows * w[l].cols; ++k) w[l].codes.push_back(static_cast<int>(rng.below(15)) - 7);
  }
  std::vector<std::vector<double>> sw;
  for (int k = 0; k < 6; ++k) {
    std::vector<double> x(6);
    for (double& v : x) v = 30e-9 * rng.uniform();
    sw.push_back(x);
  }
  expect_tabulated_matches_full("6-5-3", 5, w, sw, 15e-6);
}

TEST(Tabulated, BeyondTheTablesIsANumericalErrorAndTheRunGoesOn) {
  // 500 uA into an input soma drives its node above the tables' 0.74 V: a NumericalError for that switch,
  // recorded by the experiment for that pattern while the other pattern is simulated.
  const auto chip = make_chip("2-2-2", 3);
  SwitchOptions o;
  o.t_stop_s = 1e-6;
  o.method = Method::tabulated;
  o.tabulated = tabulated_model(chip, diagonal());
  EXPECT_THROW(simulate_switch(session(), chip, diagonal(), {5e-9, 5e-9}, {5e-4, 5e-9}, o), NumericalError);
  // A model of another chip (seed 4) is refused, not silently used.
  EXPECT_THROW(simulate_switch(session(), make_chip("2-2-2", 4), diagonal(), {5e-9, 5e-9}, {9e-9, 5e-9}, o), InputError);
  const auto res = run_experiment(experiment_with_a_bad_pattern({5e-4, 5e-9}, o, "nnspice_dyn_tab_fail"));
  ASSERT_EQ(res.records.size(), 2u);
  EXPECT_TRUE(res.records[0].ok) << res.records[0].error;
  EXPECT_FALSE(res.records[1].ok);
  EXPECT_NE(res.records[1].error.find("tabulated range"), std::string::npos) << res.records[1].error;
  EXPECT_EQ(res.summary["failed"].get<int>(), 1);
}

TEST(Switch, BadShapesAreInputErrors) {
  const auto chip = make_chip("2-2-2", 3);
  SwitchOptions o;
  EXPECT_THROW(simulate_switch(session(), chip, diagonal(), {1e-9}, {1e-9, 1e-9}, o), InputError);
  EXPECT_THROW(simulate_switch(session(), chip, diagonal(), {1e-9, -1e-9}, {1e-9, 1e-9}, o), InputError);
  o.t_stop_s = 0;
  EXPECT_THROW(simulate_switch(session(), chip, diagonal(), {1e-9, 1e-9}, {1e-9, 1e-9}, o), InputError);
}

TEST(Experiment, AFailedPatternIsRecordedAndTheRunGoesOn) {
  // Pattern 1 is out of range: its worker job fails (as a "timestep too small" transient would) and is
  // recorded with its error; pattern 0 is simulated and the tables are written.
  SwitchOptions o;
  o.t_stop_s = 1e-6;
  const ExperimentConfig cfg = experiment_with_a_bad_pattern({2e-3, 5e-9}, o, "nnspice_dyn_fail");
  const auto res = run_experiment(cfg);
  ASSERT_EQ(res.records.size(), 2u);
  EXPECT_TRUE(res.records[0].ok) << res.records[0].error;
  EXPECT_FALSE(res.records[1].ok);
  EXPECT_NE(res.records[1].error.find("outside"), std::string::npos) << res.records[1].error;
  EXPECT_EQ(res.summary["failed"].get<int>(), 1);
  EXPECT_EQ(res.summary["simulated"].get<int>(), 1);
  EXPECT_TRUE(std::ifstream(cfg.out_dir + "/patterns.csv").good());
  EXPECT_TRUE(std::ifstream(cfg.out_dir + "/patterns/1.json").good());
  EXPECT_EQ(res.records[0].m.time_to_output_s, 0.0);  // settled on itself: no switch, right from the start
}

// The decomposed DC engine against the full-netlist ngspice operating point of the same chip.
// Tolerance (docs/dc_engine.md): |I_dec - I_full| <= 0.5 % * |I_full| + 20 pA per soma probe, identical argmax.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "nnspice/common/rng.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/sim/decomposed_dc.hpp"

using namespace nnspice;
using namespace nnspice::sim;

static NetworkChip make_chip(const std::string& layers, std::uint64_t seed) {
  NetworkChip c;
  c.spec = netlist::NetworkSpec::parse(layers);
  c.process = netlist::load_process(std::string(NNSPICE_SOURCE_DIR) + "/data/process/tsmc180.yaml");
  c.chip = mismatch::draw_chip(c.spec, c.process, seed);
  return c;
}

static void compare(const std::string& layers, std::uint64_t seed, int n_inputs, double i_max_A, std::uint64_t wseed) {
  const NetworkChip chip = make_chip(layers, seed);
  const auto w = netlist::random_weights(chip.spec, wseed);
  Rng rng(seed * 7 + 1);
  std::vector<std::vector<double>> in(n_inputs, std::vector<double>(chip.spec.layers[0]));
  for (auto& v : in)
    for (auto& x : v) x = rng.uniform(0, i_max_A);
  ParallelOptions po;
  po.workers = 2;
  auto full = make_full_netlist_solver(chip, po);
  DecomposedOptions dopt;
  dopt.parallel = po;
  dopt.progress = false;
  if (const char* e = std::getenv("DEC_PRE")) dopt.pre_step_V = std::atof(e);
  if (const char* e = std::getenv("DEC_POST")) dopt.post_step_V = std::atof(e);
  if (const char* e = std::getenv("DEC_SOMA")) dopt.soma_step_V = std::atof(e);
  DecomposedSolver dec(chip, dopt);
  const auto rf = full->solve(w, in);
  const auto rd = dec.solve(w, in);
  double worst = 0;
  for (int k = 0; k < n_inputs; ++k) {
    ASSERT_TRUE(rf[k].ok) << rf[k].error;
    ASSERT_TRUE(rd[k].ok) << rd[k].error;
    for (size_t l = 0; l < rf[k].currents.size(); ++l)
      for (size_t i = 0; i < rf[k].currents[l].size(); ++i) {
        const double a = rf[k].currents[l][i], b = rd[k].currents[l][i];
        const double tol = 5e-3 * std::abs(a) + 20e-12;
        worst = std::max(worst, std::abs(a - b) / tol);
        if (std::getenv("DEC_VERBOSE")) std::printf("in %d l %zu n %zu full %.5e dec %.5e rel %.2e\n", k, l, i, a, b, (b - a) / a);
        EXPECT_LE(std::abs(a - b), tol) << layers << " input " << k << " layer " << l << " neuron " << i << ": full " << a << " decomposed " << b;
      }
    const auto& of = rf[k].currents.back();
    const auto& od = rd[k].currents.back();
    EXPECT_EQ(std::max_element(of.begin(), of.end()) - of.begin(), std::max_element(od.begin(), od.end()) - od.begin()) << "input " << k;
  }
  std::printf("%s: worst |error| / tolerance = %.3f over %d inputs; %zu sweep jobs, %zu points, %ld Newton iterations\n", layers.c_str(), worst,
              n_inputs, dec.stats().sweep_jobs, dec.stats().sweep_points, dec.stats().newton_iterations);
}

TEST(Decomposed, MatchesFullNetlist_4_7_3) { compare("4-7-3", 3, 8, 325e-9, 5); }
TEST(Decomposed, MatchesFullNetlist_20_10_5) { compare("20-10-5", 4, 4, 60e-9, 6); }

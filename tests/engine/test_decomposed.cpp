// The decomposed DC engine against the full-netlist ngspice operating point of the same chip.
// Tolerance (docs/dc_engine.md): |I_dec - I_full| <= 0.5 % * |I_full| + 20 pA per soma probe, identical argmax.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "nnspice/common/rng.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/engine/decomposed_dc.hpp"

using namespace nnspice;
using namespace nnspice::sim;
using namespace nnspice::engine;

static NetworkChip make_chip(const std::string& layers, std::uint64_t seed) {
  NetworkChip c;
  c.spec = netlist::NetworkSpec::parse(layers);
  c.process = netlist::load_process(std::string(NNSPICE_SOURCE_DIR) + "/data/process/tsmc180.yaml");
  c.chip = mismatch::draw_chip(c.spec, c.process, seed);
  return c;
}

// zero_fraction: that share of the codes set to 0 (characterisation routings are ~95 % zeros; trained
// MNIST weights ~20 %), which exercises the coarse code-0 tables.
static void compare(const std::string& layers, std::uint64_t seed, int n_inputs, double i_max_A, std::uint64_t wseed, double zero_fraction = 0,
                    SynapseTables method = SynapseTables::native) {
  const NetworkChip chip = make_chip(layers, seed);
  auto w = netlist::random_weights(chip.spec, wseed);
  Rng zr(wseed + 1000);
  for (auto& m : w)
    for (auto& c : m.codes)
      if (zr.uniform(0, 1) < zero_fraction) c = 0;
  Rng rng(seed * 7 + 1);
  std::vector<std::vector<double>> in(n_inputs, std::vector<double>(chip.spec.layers[0]));
  for (auto& v : in)
    for (auto& x : v) x = rng.uniform(0, i_max_A);
  ParallelOptions po;
  po.workers = 2;
  auto full = make_full_netlist_solver(chip, po);
  DecomposedOptions dopt;
  dopt.synapse_tables = method;
  dopt.parallel = po;
  dopt.progress = false;
  if (const char* e = std::getenv("DEC_PRE")) dopt.pre_step_V = std::atof(e);
  if (const char* e = std::getenv("DEC_POST")) dopt.post_step_V = std::atof(e);
  if (const char* e = std::getenv("DEC_SOMA")) dopt.soma_step_V = std::atof(e);
  if (const char* e = std::getenv("DEC_ZCF")) dopt.zero_code_pre_coarsening = static_cast<std::size_t>(std::atoi(e));
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
TEST(Decomposed, MatchesFullNetlist_MostlyZeroCodes_4_7_3) { compare("4-7-3", 5, 8, 325e-9, 7, 0.8); }
TEST(Decomposed, MatchesFullNetlist_MostlyZeroCodes_20_10_5) { compare("20-10-5", 6, 3, 60e-9, 8, 0.8); }
// The reference method (synapse tables by ngspice sweeps, code 0 on the coarse grid).
TEST(Decomposed, NgspiceTablesMatchFullNetlist_4_7_3) { compare("4-7-3", 3, 8, 325e-9, 5, 0, SynapseTables::ngspice); }
TEST(Decomposed, NgspiceTablesMatchFullNetlist_MostlyZeroCodes_4_7_3) { compare("4-7-3", 5, 8, 325e-9, 7, 0.8, SynapseTables::ngspice); }

// A second solver sharing the cache folder reuses the tables of another weight set per (synapse, code)
// (characterisation -> evaluation) and gives the same currents as a solver that tabulates everything itself
// (up to ngspice's convergence within differently composed sweep chunks: ~1e-14 relative, 1e-15 A).
static void shared_cache(SynapseTables method) {
  const NetworkChip chip = make_chip("4-7-3", 9);
  const std::string dir = testing::TempDir() + "/nnspice_shared_tables_" + synapse_tables_name(method);
  std::filesystem::remove_all(dir);
  DecomposedOptions dopt;
  dopt.synapse_tables = method;
  dopt.parallel.workers = 2;
  dopt.progress = false;
  DecomposedOptions cached = dopt;
  cached.cache_dir = dir;
  {
    DecomposedSolver first(chip, cached);
    first.tabulate_codes({0});
    EXPECT_EQ(first.stats().cached_jobs, 0u);
  }
  auto w = netlist::random_weights(chip.spec, 11);
  for (std::size_t k = 0; k < w[0].codes.size(); k += 2) w[0].codes[k] = 0;  // half of layer 0 at code 0
  const std::vector<std::vector<double>> in = {{1e-7, 5e-8, 2e-7, 3e-8}, {0, 1e-7, 1e-8, 2e-7}};
  DecomposedSolver second(chip, cached), alone(chip, dopt);
  const auto rs = second.solve(w, in), ra = alone.solve(w, in);
  EXPECT_GT(second.stats().cached_jobs, 0u);
  if (method == SynapseTables::ngspice)
    EXPECT_LT(second.stats().sweep_points, alone.stats().sweep_points);
  else
    EXPECT_LT(second.stats().native_points, alone.stats().native_points);
  for (std::size_t k = 0; k < in.size(); ++k) {
    ASSERT_TRUE(rs[k].ok && ra[k].ok);
    for (std::size_t l = 0; l < rs[k].currents.size(); ++l)
      for (std::size_t i = 0; i < rs[k].currents[l].size(); ++i)
        EXPECT_NEAR(rs[k].currents[l][i], ra[k].currents[l][i], 1e-9 * std::abs(ra[k].currents[l][i]) + 1e-15) << l << " " << i;
  }
  // Damaged keys files are ignored (those tables come from the exact chunk files or are recomputed).
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".keys") std::ofstream(e.path()) << "nnspice-synapse-tables/1 garbage\n1 2";
  DecomposedSolver third(chip, cached);
  const auto rt = third.solve(w, in);
  EXPECT_NEAR(rt[0].currents.back()[0], ra[0].currents.back()[0], 1e-9 * std::abs(ra[0].currents.back()[0]) + 1e-15);
  // A changed value in a table file fails its checksum: recomputed, never used (issue 17, class 3).
  int tampered = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".tab") {
      std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(-3, std::ios::end);
      char c = 0;
      f.get(c);
      f.seekp(-3, std::ios::end);
      f.put(static_cast<char>(c ^ 0x10));
      ++tampered;
    }
  EXPECT_GT(tampered, 0);
  DecomposedSolver fourth(chip, cached);
  const auto r4 = fourth.solve(w, in);
  EXPECT_EQ(fourth.stats().cached_jobs, 0u) << "a tampered table was used";
  ASSERT_TRUE(r4[0].ok);
  EXPECT_NEAR(r4[0].currents.back()[0], ra[0].currents.back()[0], 1e-9 * std::abs(ra[0].currents.back()[0]) + 1e-15);
  std::filesystem::remove_all(dir);
}

TEST(Decomposed, SharedCacheReusesTablesOfOtherWeightSets) { shared_cache(SynapseTables::ngspice); }
TEST(Decomposed, SharedCacheReusesNativeTablesOfOtherWeightSets) { shared_cache(SynapseTables::native); }

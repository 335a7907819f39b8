// Gains per code (--synapse-codes, docs/characterize.md §3) on the behavioural fake chip, no ngspice: every
// code's own gain recovered exactly ("all"), codes derived from their bits exactly when the chip is
// bit-additive ("bits"), the files and summary entries, option errors, and the per-code evaluation column.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "fake_solver.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/measure/outputs.hpp"
#include "nnspice/mismatch/chip.hpp"

namespace nm = nnspice::measure;
namespace fs = std::filesystem;
using nm::testing::FakeChipModel;
using nm::testing::FakeSolver;
using nm::testing::fake_runner;
using nnspice::netlist::NetworkSpec;

namespace {

/// Random slopes and ±7 gains; per-code gains: bit branches g_b (b = 1, 2, 4) drawn around the ±7 gain,
/// composite codes either the bit sum Σ b·g_b / k (additive = true) or drawn on their own.
FakeChipModel make_model(const NetworkSpec& spec, std::uint64_t seed, bool additive) {
  nnspice::Rng rng(seed);
  FakeChipModel m;
  for (std::size_t l = 0; l < spec.n_weight_layers(); ++l) {
    const std::size_t N = spec.layers[l], P = spec.layers[l + 1], NP = N * P;
    std::vector<double> a;
    for (std::size_t i = 0; i < N; ++i) a.push_back(1.0 + 0.15 * rng.normal());
    m.a.push_back(a);
    std::vector<double> gp(7 * NP), gn(7 * NP);
    for (auto* g : {&gp, &gn}) {
      const double centre = g == &gp ? 1.0 : 1.3;
      for (std::size_t s = 0; s < NP; ++s) {
        const double base = centre * (1 + 0.1 * rng.normal());
        for (int k = 1; k <= 7; ++k) (*g)[(k - 1) * NP + s] = base * (1 + 0.05 * rng.normal());
        if (additive)
          for (int k : {3, 5, 6, 7}) {
            double sum = 0;
            for (int b : {1, 2, 4})
              if (k & b) sum += b * (*g)[(b - 1) * NP + s];
            (*g)[(k - 1) * NP + s] = sum / k;
          }
      }
    }
    m.g_pos.push_back(std::vector<double>(gp.begin() + 6 * NP, gp.end()));
    m.g_neg.push_back(std::vector<double>(gn.begin() + 6 * NP, gn.end()));
    m.g_pos_code.push_back(gp);
    m.g_neg_code.push_back(gn);
  }
  return m;
}

/// Gains per code relative to the mean over post-neurons of the +7 slope (what characterize reports).
std::vector<double> expected_gains(const NetworkSpec& spec, const FakeChipModel& m, std::size_t l, bool pos) {
  const std::size_t N = spec.layers[l], P = spec.layers[l + 1], NP = N * P;
  std::vector<double> mean7(N, 0);
  for (std::size_t j = 0; j < P; ++j)
    for (std::size_t i = 0; i < N; ++i) mean7[i] += m.g_pos[l][j * N + i] / P;
  const auto& g = pos ? m.g_pos_code[l] : m.g_neg_code[l];
  std::vector<double> out(7 * NP);
  for (std::size_t k = 0; k < 7; ++k)
    for (std::size_t s = 0; s < NP; ++s) out[k * NP + s] = g[k * NP + s] / mean7[s % N];
  return out;
}

/// Every gain per code of every synapse of layers 0 and 1 equals the model's (relative 1e-9).
void expect_gains_exact(const NetworkSpec& spec, const FakeChipModel& m, const nm::Characterization& c) {
  for (std::size_t l = 0; l < 2; ++l)
    for (bool pos : {true, false}) {
      const auto want = expected_gains(spec, m, l, pos);
      const auto& got = pos ? c.synapse_gain_code_pos[l] : c.synapse_gain_code_neg[l];
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t s = 0; s < want.size(); ++s) EXPECT_NEAR(got[s], want[s], 1e-9 * want[s]) << "layer " << l << " index " << s;
    }
}

}  // namespace

TEST(SynapseCodesFake, AllCodesRecoveredExactly) {
  const auto spec = NetworkSpec::parse("5-4-3");
  const auto m = make_model(spec, 3, false);
  auto runner = fake_runner(spec, m);
  nm::CharacterizeOptions o;
  o.synapses = true;
  o.synapse_codes = nm::SynapseCodes::all;
  const auto c = nm::characterize(spec, runner, o);
  ASSERT_TRUE(c.have_codes);
  EXPECT_EQ(c.codes_measured, (std::vector<int>{1, 2, 3, 4, 5, 6}));
  expect_gains_exact(spec, m, c);
  for (const auto& src : c.code_source) EXPECT_EQ(src, "measured");
  // A chip that is not bit-additive shows it in the additivity report.
  ASSERT_FALSE(c.additivity.is_null());
  EXPECT_EQ(c.additivity.size(), 4u);  // codes 3, 5, 6, 7
  EXPECT_GT(c.additivity[0]["layers"][0]["pos"]["max_abs"].get<double>(), 1e-3);
}

TEST(SynapseCodesFake, BitsExactOnABitAdditiveChip) {
  const auto spec = NetworkSpec::parse("5-4-3");
  const auto m = make_model(spec, 4, true);
  auto runner = fake_runner(spec, m);
  nm::CharacterizeOptions o;
  o.synapses = true;
  o.synapse_codes = nm::SynapseCodes::bits;
  const auto c = nm::characterize(spec, runner, o);
  EXPECT_EQ(c.codes_measured, (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(c.code_source, (std::vector<std::string>{"measured", "measured", "bits", "measured", "bits", "bits", "measured"}));
  expect_gains_exact(spec, m, c);
  ASSERT_EQ(c.additivity.size(), 1u);  // code 7 measured and derived
  EXPECT_EQ(c.additivity[0]["code"].get<int>(), 7);
  for (const auto& le : c.additivity[0]["layers"]) EXPECT_LT(le["pos"]["max_abs"].get<double>(), 1e-9);
  // The ±7 gains and code 7 are the same numbers.
  const std::size_t NP = 5 * 4;
  for (std::size_t s = 0; s < NP; ++s) EXPECT_EQ(c.synapse_gain_code_pos[0][6 * NP + s], c.synapse_gain_pos[0][s]);
}

TEST(SynapseCodesFake, FilesSummaryAndResume) {
  const auto spec = NetworkSpec::parse("4-7-3");
  const auto m = make_model(spec, 5, true);
  const auto dir = (fs::temp_directory_path() / ("nnspice_test_codes_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  nm::CharacterizeOptions o;
  o.synapses = true;
  o.synapse_codes = nm::SynapseCodes::bits;
  nm::Characterization c;
  {
    auto runner = fake_runner(spec, m, dir + "/ops.jsonl");
    c = nm::characterize(spec, runner, o);
  }
  nm::write_characterization(dir, c, "fake", 1);
  for (std::size_t l = 0; l < 2; ++l)
    for (const char* sign : {"pos", "neg"}) {
      const auto a = nnspice::read_npy(fmt::format("{}/synapse_gain_code_{}_{}.npy", dir, sign, l));
      EXPECT_EQ(a.shape, (std::vector<std::size_t>{7, static_cast<std::size_t>(spec.layers[l + 1]), static_cast<std::size_t>(spec.layers[l])}));
    }
  const auto s = nm::summary_json(c);
  EXPECT_EQ(s["synapse_codes"], "bits");
  const auto& pc = s["per_layer"][0]["synapse_gain_code_pos"];
  ASSERT_EQ(pc.size(), 7u);
  for (std::size_t k = 0; k < 7; ++k) {
    EXPECT_EQ(pc[k]["code"].get<std::size_t>(), k + 1);
    EXPECT_EQ(pc[k]["n"].get<std::size_t>(), 28u);
    EXPECT_GT(pc[k]["sd"].get<double>(), 0);
  }
  EXPECT_EQ(pc[2]["source"], "bits");
  EXPECT_EQ(s["per_layer"][1]["synapse_gain_code_neg"].size(), 7u);
  // Resume: every point from the checkpoint, the same gains.
  auto runner = fake_runner(spec, m, dir + "/ops.jsonl", true);
  const auto again = nm::characterize(spec, runner, o);
  EXPECT_EQ(runner.stats().ops_simulated, 0u);
  EXPECT_GT(runner.stats().ops_from_log, 0u);
  EXPECT_EQ(again.synapse_gain_code_pos, c.synapse_gain_code_pos);
  EXPECT_EQ(again.synapse_gain_code_neg, c.synapse_gain_code_neg);
  fs::remove_all(dir);
}

TEST(SynapseCodesFake, OptionErrors) {
  EXPECT_EQ(nm::parse_synapse_codes("7"), nm::SynapseCodes::max_only);
  EXPECT_EQ(nm::parse_synapse_codes("bits"), nm::SynapseCodes::bits);
  EXPECT_EQ(nm::parse_synapse_codes("all"), nm::SynapseCodes::all);
  for (const char* bad : {"", "8", "bit", "ALL", "1,2,4"}) {
    try {
      nm::parse_synapse_codes(bad);
      ADD_FAILURE() << bad;
    } catch (const nnspice::InputError& e) {
      EXPECT_NE(std::string(e.what()).find("--synapse-codes"), std::string::npos) << e.what();
    }
  }
  nm::CharacterizeOptions o;
  o.synapse_codes = nm::SynapseCodes::bits;  // without --synapses
  EXPECT_THROW(o.validate(NetworkSpec::parse("4-7-3")), nnspice::InputError);
}

TEST(SynapseCodesFake, EvaluationPerCodeExactOnALinearChip) {
  const auto spec = NetworkSpec::parse("8-6-4");
  const auto m = make_model(spec, 13, false);
  auto runner = fake_runner(spec, m);
  nm::CharacterizeOptions o;
  o.synapses = true;
  o.synapse_codes = nm::SynapseCodes::all;
  const auto c = nm::characterize(spec, runner, o);
  const auto e = nm::evaluate_models(spec, runner, c, 6, 5, 1);
  EXPECT_EQ(e["codes"], "1..7");
  for (const auto& l : e["layers"]) {
    EXPECT_GT(l["post_neurons_compared"].get<std::size_t>(), 10u);
    EXPECT_LT(l["per_code"]["rms_rel_err"].get<double>(), 1e-9);
    EXPECT_GT(l["per_synapse"]["rms_rel_err"].get<double>(), 1e-3);
  }
}

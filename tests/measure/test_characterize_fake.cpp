// The whole characterisation on a behavioural (linear, rectifying) fake chip, no ngspice: the estimators
// must recover the model's neuron slopes, negative gains and per-synapse gains exactly, and the
// ground-truth comparison must report the sampling error it predicts.
#include <gtest/gtest.h>

#include <cmath>

#include "fake_solver.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/measure/characterize.hpp"
#include "nnspice/mismatch/chip.hpp"

namespace nm = nnspice::measure;
using nm::testing::FakeChipModel;
using nm::testing::FakeSolver;
using nm::testing::fake_runner;
using nnspice::netlist::NetworkSpec;

namespace {

FakeChipModel make_model(const NetworkSpec& spec, std::uint64_t seed, double syn_sd, double neg_sd) {
  nnspice::Rng rng(seed);
  FakeChipModel m;
  for (std::size_t l = 0; l < spec.n_weight_layers(); ++l) {
    const std::size_t N = spec.layers[l], P = spec.layers[l + 1];
    std::vector<double> a, gp, gn, ng;
    for (std::size_t i = 0; i < N; ++i) a.push_back(1.0 + 0.15 * rng.normal()), ng.push_back(1.3 + 0.2 * rng.normal());
    for (std::size_t j = 0; j < P; ++j)
      for (std::size_t i = 0; i < N; ++i) {
        gp.push_back(1.0 + syn_sd * rng.normal());
        gn.push_back(ng[i] * (1.0 + neg_sd * rng.normal()));
      }
    m.a.push_back(a);
    m.g_pos.push_back(gp);
    m.g_neg.push_back(gn);
  }
  return m;
}

}  // namespace

TEST(CharacterizeFake, RecoversNeuronSlopesAndNegativeGains) {
  const auto spec = NetworkSpec::parse("6-8-4");
  const auto m = make_model(spec, 5, 0.0, 0.0);  // synapses without own mismatch: estimates are exact
  auto runner = fake_runner(spec, m);
  nm::CharacterizeOptions o;
  o.routings = 3;
  const auto c = nm::characterize(spec, runner, o);
  EXPECT_EQ(c.slopes_source, "routings");
  ASSERT_EQ(c.slopes.size(), 2u);
  for (std::size_t l = 0; l < 2; ++l) {
    const auto truth = nm::normalise_mean_one(m.a[l]);
    for (std::size_t i = 0; i < truth.size(); ++i) {
      EXPECT_NEAR(c.slopes_raw[l][i], m.a[l][i], 1e-12) << l << ":" << i;
      EXPECT_NEAR(c.slopes[l][i], truth[i], 1e-12);
      EXPECT_NEAR(c.negative_gain[l][i], m.g_neg[l][i], 1e-9) << "negative gain of " << l << ":" << i;  // g_neg constant over posts
    }
    EXPECT_EQ(c.negative_fallbacks[l], 0u);
  }
  EXPECT_EQ(c.runner.ops_total, 3u * 5 + 2 * 4 * 2 * 3);
  EXPECT_EQ(c.failed_ops, 0u);
}

TEST(CharacterizeFake, PerSynapseGainsExact) {
  const auto spec = NetworkSpec::parse("5-6-3");
  const auto m = make_model(spec, 8, 0.12, 0.1);
  auto runner = fake_runner(spec, m);
  nm::CharacterizeOptions o;
  o.synapses = true;
  const auto c = nm::characterize(spec, runner, o);
  EXPECT_EQ(c.slopes_source, "synapses");
  EXPECT_TRUE(c.routings.empty()) << "--synapses alone needs no random routings";
  for (std::size_t l = 0; l < 2; ++l) {
    const std::size_t N = spec.layers[l], P = spec.layers[l + 1];
    for (std::size_t i = 0; i < N; ++i) {
      double mean_gp = 0, mean_gn = 0;
      for (std::size_t j = 0; j < P; ++j) mean_gp += m.g_pos[l][j * N + i] / P, mean_gn += m.g_neg[l][j * N + i] / P;
      EXPECT_NEAR(c.true_slopes[l][i], m.a[l][i] * mean_gp, 1e-12);
      for (std::size_t j = 0; j < P; ++j) {
        EXPECT_NEAR(c.synapse_gain_pos[l][j * N + i], m.g_pos[l][j * N + i] / mean_gp, 1e-12);
        EXPECT_NEAR(c.synapse_gain_neg[l][j * N + i], m.g_neg[l][j * N + i] / mean_gp, 1e-9);
      }
      EXPECT_NEAR(c.negative_gain[l][i], mean_gn / mean_gp, 1e-9);
    }
  }
}

TEST(CharacterizeFake, GroundTruthErrorShrinksWithRoutings) {
  const auto spec = NetworkSpec::parse("12-10-6");
  const auto m = make_model(spec, 21, 0.15, 0.0);
  auto runner = fake_runner(spec, m);
  nm::CharacterizeOptions o;
  o.ground_truth = true;
  o.routings = 5;
  o.ground_truth_routings = {5, 20, 80};
  const auto c = nm::characterize(spec, runner, o);
  const auto& cmp = c.ground_truth["slopes"];
  ASSERT_EQ(cmp.size(), 3u);
  for (std::size_t l = 0; l < 2; ++l) {
    const double e5 = cmp[0]["layers"][l]["max_rel_err"], e80 = cmp[2]["layers"][l]["max_rel_err"];
    const double r5 = cmp[0]["layers"][l]["r"], r80 = cmp[2]["layers"][l]["r"];
    EXPECT_GT(e5, 0.0);
    EXPECT_LT(e80, e5) << "layer " << l;
    EXPECT_GT(r80, r5) << "layer " << l;
    EXPECT_GT(r80, 0.99);
    // Layer 0 pre-neurons see identical inputs, so the error is pure synapse sampling: mostly within 2 expected errors.
    if (l == 0) EXPECT_GE(cmp[0]["layers"][l]["within_2_expected"].get<double>(), 0.75);
  }
}

TEST(CharacterizeFake, OptionsValidated) {
  const auto spec = NetworkSpec::parse("20-2-3");
  nm::CharacterizeOptions o;
  o.routings = 5;  // 5 routings x 2 posts < 20 neurons of layer 0
  EXPECT_THROW(o.validate(spec), nnspice::InputError);
  o.synapses = true;  // --synapses alone runs no random routings
  EXPECT_NO_THROW(o.validate(spec));
  o.synapses = false;
  o.routings = 10;
  EXPECT_NO_THROW(o.validate(spec));
  o.levels_A = {1e-9, -1e-9};
  EXPECT_THROW(o.validate(spec), nnspice::InputError);
  o.levels_A = {};
  EXPECT_THROW(o.validate(spec), nnspice::InputError);
  o.levels_A = {1e-8};
  o.negative.high_ratio = 1.0;
  EXPECT_THROW(o.validate(spec), nnspice::InputError);
}

TEST(CharacterizeFake, EvaluationPerSynapseExactOnALinearChip) {
  const auto spec = NetworkSpec::parse("8-6-4");
  const auto m = make_model(spec, 13, 0.12, 0.1);
  auto runner = fake_runner(spec, m);
  nm::CharacterizeOptions o;
  o.synapses = true;
  const auto c = nm::characterize(spec, runner, o);
  const auto e = nm::evaluate_models(spec, runner, c, 6, 5, 1);
  ASSERT_EQ(e["layers"].size(), 2u);
  for (const auto& l : e["layers"]) {
    EXPECT_GT(l["post_neurons_compared"].get<std::size_t>(), 10u);
    EXPECT_LT(l["per_synapse"]["rms_rel_err"].get<double>(), 1e-9);
    EXPECT_GT(l["per_neuron"]["rms_rel_err"].get<double>(), 0.01);
    EXPECT_GT(l["per_layer"]["rms_rel_err"].get<double>(), l["per_neuron"]["rms_rel_err"].get<double>());
  }
  nm::Characterization no_synapses = c;
  no_synapses.have_synapses = false;
  EXPECT_THROW(nm::evaluate_models(spec, runner, no_synapses, 1, 1, 1), nnspice::InputError);
}

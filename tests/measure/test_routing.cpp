// Routing designs: one-to-one structure, balance over every prefix, determinism, exhaustive coverage,
// negative designs (sources differ, roles balanced), codes and inputs built from them.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "nnspice/common/error.hpp"
#include "nnspice/measure/routing.hpp"

namespace nm = nnspice::measure;
using nnspice::netlist::NetworkSpec;

TEST(Routing, BalancedOverEveryPrefix) {
  for (const char* net : {"4-7-3", "20-10-5", "196-50-10", "3-1"}) {
    const auto spec = NetworkSpec::parse(net);
    const auto rs = nm::balanced_routings(spec, 40, 11);
    ASSERT_EQ(rs.size(), 40u);
    for (std::size_t R = 1; R <= rs.size(); ++R) {
      const std::vector<nm::Routing> prefix(rs.begin(), rs.begin() + R);
      for (std::size_t l = 0; l < spec.n_weight_layers(); ++l) {
        const auto c = nm::routing_counts(spec, prefix, l);
        const auto [mn, mx] = std::minmax_element(c.begin(), c.end());
        EXPECT_LE(*mx - *mn, 1u) << net << " layer " << l << " R " << R;
        std::size_t total = 0;
        for (auto x : c) total += x;
        EXPECT_EQ(total, R * spec.layers[l + 1]);
      }
    }
  }
}

TEST(Routing, OneToOneCodesAndSeeds) {
  const auto spec = NetworkSpec::parse("4-7-3");
  const auto a = nm::balanced_routings(spec, 5, 1), b = nm::balanced_routings(spec, 5, 1), c = nm::balanced_routings(spec, 5, 2);
  bool differs = false;
  for (std::size_t r = 0; r < a.size(); ++r) {
    EXPECT_EQ(a[r].pre, b[r].pre);
    differs |= a[r].pre != c[r].pre;
    const auto w = nm::routing_weights(spec, a[r]);
    for (std::size_t l = 0; l < w.size(); ++l)
      for (std::size_t j = 0; j < w[l].rows; ++j) {
        int on = 0;
        for (std::size_t i = 0; i < w[l].cols; ++i) {
          if (w[l].at(j, i) != 0) {
            ++on;
            EXPECT_EQ(w[l].at(j, i), 7);
            EXPECT_EQ(static_cast<int>(i), a[r].pre[l][j]);
          }
        }
        EXPECT_EQ(on, 1);
      }
  }
  EXPECT_TRUE(differs) << "another routing seed must give other routings";
}

TEST(Routing, CyclicCoversEverySynapse) {
  for (const char* net : {"4-7-3", "20-10-5", "5-9-2"}) {
    const auto spec = NetworkSpec::parse(net);
    const auto rs = nm::cyclic_routings(spec);
    for (std::size_t l = 0; l < spec.n_weight_layers(); ++l) {
      std::set<std::pair<int, int>> seen;
      for (const auto& r : rs)
        for (std::size_t j = 0; j < r.pre[l].size(); ++j) seen.insert({static_cast<int>(j), r.pre[l][j]});
      EXPECT_EQ(seen.size(), static_cast<std::size_t>(spec.layers[l]) * spec.layers[l + 1]) << net << " layer " << l;
    }
  }
}

TEST(Routing, RandomNegativeDesign) {
  const auto spec = NetworkSpec::parse("20-10-5");
  const nm::NegativeDesign d{4, 4.0};
  for (std::size_t layer = 0; layer < 2; ++layer) {
    const auto rs = nm::random_negative_routings(spec, layer, 5, 3, d);
    ASSERT_EQ(rs.size(), 6u);  // rounded up to pairs
    std::vector<int> low_count(spec.layers[layer], 0);
    for (const auto& r : rs) {
      for (int i = 0; i < spec.layers[layer]; ++i) low_count[i] += r.high[i] ? 0 : 1;
      for (std::size_t j = 0; j < r.pos.size(); ++j) {
        EXPECT_NE(r.pos[j], r.neg[j]);
        EXPECT_TRUE(r.high[r.pos[j]]);
        EXPECT_FALSE(r.high[r.neg[j]]);
      }
      const auto wb = nm::negative_weights(spec, r, true), wp = nm::negative_weights(spec, r, false);
      for (std::size_t j = 0; j < wb[layer].rows; ++j) {
        int pos = 0, neg = 0;
        for (std::size_t i = 0; i < wb[layer].cols; ++i) {
          pos += wb[layer].at(j, i) == 7;
          neg += wb[layer].at(j, i) == -7;
          EXPECT_GE(wp[layer].at(j, i), 0);
        }
        EXPECT_EQ(pos, 1);
        EXPECT_EQ(neg, 1);
      }
      if (layer == 1) {  // drive: high neurons of layer 1 get 4 inputs, low ones 1
        for (std::size_t j = 0; j < wb[0].rows; ++j) {
          int on = 0;
          for (std::size_t i = 0; i < wb[0].cols; ++i) on += wb[0].at(j, i) == 7;
          EXPECT_EQ(on, r.high[j] ? 4 : 1);
        }
      }
      const auto in = nm::negative_inputs(spec, r, 1e-8, d);
      for (int i = 0; i < spec.layers[0]; ++i) EXPECT_DOUBLE_EQ(in[i], layer == 0 && r.high[i] ? 4e-8 : 1e-8);
      for (std::size_t m = layer + 1; m < wb.size(); ++m)
        for (auto k : wb[m].codes) EXPECT_EQ(k, 0);
    }
    for (int c : low_count) EXPECT_EQ(c, 3) << "each neuron is a negative source in half the routings";
  }
  EXPECT_THROW(nm::random_negative_routings(NetworkSpec::parse("1-3"), 0, 2, 1, d), nnspice::InputError);
  EXPECT_THROW(nm::random_negative_routings(spec, 2, 2, 1, d), nnspice::InputError);
}

TEST(Routing, ExhaustiveNegativeCoversEverySynapseOnce) {
  const auto spec = NetworkSpec::parse("7-5-4");
  for (std::size_t layer = 0; layer < 2; ++layer) {
    const auto rs = nm::exhaustive_negative_routings(spec, layer, 9, {});
    EXPECT_EQ(rs.size(), static_cast<std::size_t>(spec.layers[layer]));
    std::vector<int> count(spec.layers[layer] * spec.layers[layer + 1], 0);
    for (const auto& r : rs)
      for (std::size_t j = 0; j < r.neg.size(); ++j) {
        EXPECT_NE(r.pos[j], r.neg[j]);
        ++count[j * spec.layers[layer] + r.neg[j]];
      }
    for (int c : count) EXPECT_EQ(c, 1);
  }
}

// DNPU nodes, layers and training: gradients of controls through batch norm, time-multiplexed layers and
// the Fisher loss against finite differences; the affine input transform; Adam; the genetic algorithm;
// and small, fast versions of the seed experiments on the shipped si-boron-2020 surrogate.
#include <gtest/gtest.h>

#include "nnspice/common/error.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/dnpu/experiments.hpp"
#include "nnspice/dnpu/node.hpp"
#include "nnspice/dnpu/surrogate.hpp"
#include "si_boron.hpp"

using namespace nnspice;
using namespace nnspice::dnpu;

using test::si_boron;

TEST(DnpuNode, AffineTransformMapsDataOntoRanges) {
  const auto& m = si_boron();
  DnpuNode n = DnpuNode::make(m, {1, 5}, -1, 1);
  EXPECT_EQ(n.control_electrodes, (std::vector<int>{0, 2, 3, 4, 6}));
  Eigen::MatrixXd x(2, 2);
  x << -1, 1, -1, 1;
  const Eigen::MatrixXd v = n.electrode_voltages(x);
  EXPECT_NEAR(v(1, 0), -1.2, 1e-12);
  EXPECT_NEAR(v(1, 1), 0.6, 1e-12);
  EXPECT_NEAR(v(5, 0), -0.7, 1e-12);
  EXPECT_NEAR(v(5, 1), 0.3, 1e-12);
  EXPECT_NEAR(v(0, 0), -0.3, 1e-12);  // controls start mid-range
  EXPECT_THROW(DnpuNode::make(m, {1, 7}), InputError);
  EXPECT_THROW(DnpuNode::make(m, {1, 1}), InputError);
}

TEST(DnpuNode, RangePenaltyAndGradient) {
  DnpuNode n = DnpuNode::make(si_boron(), {1, 2});
  n.controls_V << -1.5, 0.0, 0.0, 0.5, 0.0;  // e0 0.3 below, e5 0.2 above
  Eigen::VectorXd g = Eigen::VectorXd::Zero(5);
  EXPECT_NEAR(n.range_penalty(&g), 0.5, 1e-12);
  EXPECT_EQ(g(0), -1);
  EXPECT_EQ(g(3), 1);
  EXPECT_EQ(g(1), 0);
}

// A 2-2-1 network with batch-norm variants and the Fisher loss: analytic control gradients vs central differences.
TEST(DnpuLayer, ControlGradientsMatchFiniteDifferences) {
  const auto& m = si_boron();
  Rng rng(3);
  std::vector<DnpuLayer> layers(2);
  for (int k = 0; k < 2; ++k) {
    layers[0].nodes.push_back(DnpuNode::make(m, {1, 2}, -1, 1));
    layers[0].input_map.push_back({0, 1});
    BatchNorm b;
    b.gamma = 1.3;
    b.beta = 0.2;
    layers[0].norms.push_back(b);
  }
  layers[0].batch_norm = true;
  layers[1].nodes.push_back(DnpuNode::make(m, {2, 3}, -2, 2));
  layers[1].input_map.push_back({1, 0});  // crossed wiring
  for (auto& l : layers) for (auto& n : l.nodes) n.randomize_controls(rng);
  Eigen::MatrixXd x(2, 30);
  Eigen::VectorXi lab(30);
  for (int s = 0; s < 30; ++s) { x(0, s) = rng.uniform(-1, 1); x(1, s) = rng.uniform(-1, 1); lab(s) = s % 2; }
  auto loss = [&](std::vector<DnpuLayer>& L, Eigen::VectorXd* dy, std::vector<DnpuLayer::Tape>* tapes, std::vector<Eigen::MatrixXd>* acts) {
    Eigen::MatrixXd a = x;
    std::vector<DnpuLayer::Tape> local(L.size());
    for (std::size_t l = 0; l < L.size(); ++l) {
      if (acts) acts->push_back(a);
      a = L[l].forward(a, tapes ? (*tapes)[l] : local[l]);
    }
    return -fisher(a.row(0).transpose(), lab, dy);
  };
  std::vector<DnpuLayer::Tape> tapes(2);
  std::vector<Eigen::MatrixXd> acts;
  Eigen::VectorXd dy = Eigen::VectorXd::Zero(30);
  loss(layers, &dy, &tapes, &acts);
  Eigen::MatrixXd d = -dy.transpose();
  std::vector<std::vector<Eigen::VectorXd>> dc(2);
  std::vector<std::array<double, 2>> dn(2, {0, 0});
  for (int l = 1; l >= 0; --l) {
    for (auto& n : layers[l].nodes) dc[l].push_back(Eigen::VectorXd::Zero(n.controls_V.size()));
    d = layers[l].backward(acts[l], tapes[l], d, dc[l], &dn);
  }
  const double h = 1e-6;
  int checked = 0;
  for (int l = 0; l < 2; ++l)
    for (std::size_t k = 0; k < layers[l].nodes.size(); ++k)
      for (Eigen::Index c = 0; c < layers[l].nodes[k].controls_V.size(); ++c) {
        auto a = layers, b = layers;
        a[l].nodes[k].controls_V(c) += h;
        b[l].nodes[k].controls_V(c) -= h;
        const double fd = (loss(a, nullptr, nullptr, nullptr) - loss(b, nullptr, nullptr, nullptr)) / (2 * h);
        EXPECT_NEAR(dc[l][k](c), fd, 1e-4 * (1 + std::abs(fd))) << "layer " << l << " node " << k << " control " << c;
        ++checked;
      }
  EXPECT_EQ(checked, 15);
  // batch-norm gamma of node 0
  auto a = layers, b = layers;
  a[0].norms[0].gamma += h;
  b[0].norms[0].gamma -= h;
  EXPECT_NEAR(dn[0][0], (loss(a, nullptr, nullptr, nullptr) - loss(b, nullptr, nullptr, nullptr)) / (2 * h), 1e-4);
}

TEST(DnpuTraining, AdamMinimisesQuadratic) {
  Adam adam;
  adam.lr = 0.05;
  Eigen::VectorXd p(2);
  p << 3, -2;
  for (int i = 0; i < 2000; ++i) adam.step(p, 2 * (p - Eigen::Vector2d(0.5, 0.25)));
  EXPECT_NEAR(p(0), 0.5, 1e-3);
  EXPECT_NEAR(p(1), 0.25, 1e-3);
}

TEST(DnpuTraining, GeneticAlgorithmFindsMaximum) {
  Eigen::VectorXd lo = Eigen::VectorXd::Constant(5, -1), hi = Eigen::VectorXd::Constant(5, 1), c(5);
  c << 0.3, -0.5, 0.8, 0.0, -0.9;
  GaOptions o;
  o.generations = 150;
  o.seed = 9;
  const GaResult r = genetic_maximize([&](const Eigen::VectorXd& g) { return -(g - c).squaredNorm(); }, lo, hi, o);
  EXPECT_LT((r.best - c).cwiseAbs().maxCoeff(), 0.05) << r.best.transpose();
  for (std::size_t g = 1; g < r.best_per_generation.size(); ++g) EXPECT_GE(r.best_per_generation[g], r.best_per_generation[g - 1]);  // elitism
  o.elite = 26;
  EXPECT_THROW(genetic_maximize([](const Eigen::VectorXd&) { return 0.0; }, lo, hi, o), InputError);
}

// Capacity of the surrogate for N = 4, 5: every labeling is realisable (paper: VC dimension >= 6 on it).
TEST(DnpuExperiments, CapacitySmallN) {
  CapacityOptions o;
  o.n_min = 4;
  o.n_max = 5;
  o.seed = 1;
  const auto r = run_capacity(si_boron(), o);
  ASSERT_EQ(r.points.size(), 2u);
  EXPECT_EQ(r.points[0].labelings, 16u);
  EXPECT_DOUBLE_EQ(r.points[0].capacity, 1.0);
  EXPECT_DOUBLE_EQ(r.points[1].capacity, 1.0);
  EXPECT_EQ(r.vc_dimension_lower_bound, 5u);
  o.n_max = 11;
  EXPECT_THROW(run_capacity(si_boron(), o), InputError);
}

TEST(DnpuExperiments, RingDataBalancedWithGap) {
  Eigen::MatrixXd x;
  Eigen::VectorXi l;
  ring_data(400, 0.2, 4, x, l);
  EXPECT_EQ(l.sum(), 200);
  double inner_max = 0, outer_min = 10;
  for (int k = 0; k < 400; ++k) {
    const double r = x.col(k).norm();
    EXPECT_LE(r, 1.0 + 1e-12);
    if (l(k)) outer_min = std::min(outer_min, r);
    else inner_max = std::max(inner_max, r);
  }
  EXPECT_GE(outer_min - inner_max, 0.2 - 1e-12);
}

// Short ring runs: the trained single node beats its untrained start on the Fisher criterion, results are
// reproducible for a seed, and the GA path runs.
TEST(DnpuExperiments, RingShortRunIsReproducibleAndLearns) {
  RingOptions o;
  o.n_points = 120;
  o.epochs = 60;
  o.restarts = 2;
  o.seed = 5;
  const auto a = run_ring(si_boron(), o), b = run_ring(si_boron(), o);
  ASSERT_EQ(a.restarts.size(), 2u);
  EXPECT_EQ(a.restarts[0].controls_V, b.restarts[0].controls_V);
  RingOptions untrained = o;
  untrained.epochs = 1;
  untrained.learning_rate = 1e-12;
  const auto u = run_ring(si_boron(), untrained);
  EXPECT_GT(a.restarts[0].train_fisher, u.restarts[0].train_fisher);
  for (const auto& r : a.restarts) {
    EXPECT_GE(r.test_accuracy, 0.0);
    EXPECT_LE(r.test_accuracy, 1.0);
    EXPECT_EQ(r.max_range_violation_V, 0.0);  // controls are clamped onto their ranges after every step
  }
  o.optimizer = "ga";
  o.ga_generations = 5;
  o.restarts = 1;
  EXPECT_EQ(run_ring(si_boron(), o).restarts.size(), 1u);
  o.architecture = "2-2-1";
  EXPECT_THROW(run_ring(si_boron(), o), InputError);  // GA offered for single nodes only
}

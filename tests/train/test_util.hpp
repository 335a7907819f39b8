// Helpers shared by the train tests: a fresh scratch folder per test process and the message of an InputError.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "../test_support.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/train/config.hpp"
#include "nnspice/train/dataset.hpp"
#include "nnspice/train/network.hpp"
#include "nnspice/train/trainer.hpp"

namespace nnspice::train::test {

using nnspice::test::error_of;
using nnspice::test::scratch_dir;

/// Two calibrations that must describe the same model (e.g. the per-neuron one and unit per-synapse gains):
/// two networks on {5, 6, 4, 3} with the same masters give bit-identical forward outputs, effective weights,
/// clip masks, gradients, codes, predictions and set_codes masters. Returns the number of clipped weights.
inline Eigen::Index expect_same_bits(const Calibration& cal_a, const Calibration& cal_b) {
  const Layers layers = {5, 6, 4, 3};
  Network<float> a, b;
  a.configure(layers, cal_a, QuantGrid{}, true);
  b.configure(layers, cal_b, QuantGrid{}, true);
  Rng rng(21);
  a.init_uniform(rng, 2.0);  // wide enough that some codes clip
  b.master = a.master;
  Eigen::MatrixXf x(5, 9);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform(0.0, 1.0));
  ForwardCache<float> ca, cb;
  EXPECT_EQ(forward(a, x, ca), forward(b, x, cb));
  const Eigen::MatrixXf d_out = Eigen::MatrixXf::Constant(3, 9, 0.1f);
  std::vector<Eigen::MatrixXf> ga, gb;
  backward(a, ca, d_out, 0.01f, ga, 0.05f);
  backward(b, cb, d_out, 0.01f, gb, 0.05f);
  Eigen::Index clipped = 0;
  for (std::size_t l = 0; l < a.num_layers(); ++l) {
    EXPECT_EQ(ca.w_eff[l], cb.w_eff[l]) << l;
    EXPECT_EQ(ca.pass[l], cb.pass[l]) << l;
    EXPECT_EQ(ga[l], gb[l]) << l;
    EXPECT_EQ(a.codes(l), b.codes(l)) << l;
    clipped += (ca.pass[l].array() == 0).count();
    Network<float> sa = a, sb = b;  // set_codes: the same masters
    sa.set_codes(l, a.codes(l));
    sb.set_codes(l, b.codes(l));
    EXPECT_EQ(sa.master[l], sb.master[l]) << l;
  }
  EXPECT_EQ(predict(a, x), predict(b, x));
  return clipped;
}

/// The same two models trained on Iris for 15 epochs end with identical weights and test accuracy.
inline void expect_same_training(const Calibration& cal_a, const Calibration& cal_b) {
  TrainConfig c = TrainConfig::defaults_for("iris");
  c.train.epochs = 15;
  const DataSplits data = load_dataset(c.data);
  TrainHooks h;
  h.progress = false;
  const TrainResult ra = train_network(c.train, cal_a, data, h), rb = train_network(c.train, cal_b, data, h);
  for (std::size_t l = 0; l < ra.net.num_layers(); ++l) EXPECT_EQ(ra.net.master[l], rb.net.master[l]) << l;
  EXPECT_EQ(ra.test_accuracy, rb.test_accuracy);
}

}  // namespace nnspice::train::test

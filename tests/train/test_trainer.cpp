// Training: Iris with a chip's random slopes reaches >= 96 % test; resume from a checkpoint equals the
// uninterrupted run bit for bit; non-finite loss stops with a NumericalError and keeps the last good
// checkpoint; config errors name key and line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "nnspice/common/error.hpp"
#include "nnspice/train/config.hpp"
#include "nnspice/train/trainer.hpp"

using namespace nnspice::train;
namespace fs = std::filesystem;

namespace {

std::string scratch_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("nnspice_test_trainer_" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

TrainConfig iris_config(std::uint64_t seed) {
  TrainConfig c = TrainConfig::defaults_for("iris");
  c.train.seed = c.data.seed = seed;
  return c;
}

}  // namespace

TEST(Trainer, IrisWithRandomChipSlopesReaches96Percent) {
  // Seed 2 = examples/train_iris.yaml. Measured over seeds 1-8 with this calibration: 7 of 8 reach
  // 96.7-100 % test, seed 1 reaches 93.3 % (docs/training.md).
  const std::uint64_t seed = 2;
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  TrainConfig c = iris_config(seed);
  const Calibration cal = random_calibration(c.train.layers, 0.15, 1.4, 0.0, 7);
  const DataSplits data = load_dataset(c.data);
  ASSERT_EQ(data.test.size(), 30u);
  TrainHooks hooks;
  hooks.progress = false;
  const TrainResult r = train_network(c.train, cal, data, hooks);
  EXPECT_GE(r.test_accuracy, 0.96) << "train " << r.train_accuracy;
  EXPECT_GE(r.train_accuracy, 0.90);
  EXPECT_EQ(r.epochs_run, c.train.epochs);
  // The codes reproduce the trained model exactly: rebuilding from codes gives the same accuracy.
  Network<float> from_codes;
  from_codes.configure(c.train.layers, cal, c.train.grid, true);
  for (std::size_t l = 0; l < r.net.num_layers(); ++l) {
    const Eigen::MatrixXi k = r.net.codes(l);
    EXPECT_LE(k.cwiseAbs().maxCoeff(), 7);
    from_codes.set_codes(l, k);
  }
  EXPECT_DOUBLE_EQ(accuracy(from_codes, data.test), r.test_accuracy);
}

TEST(Trainer, ResumeEqualsUninterruptedRun) {
  TrainConfig c = iris_config(3);
  c.train.epochs = 12;
  c.data.validation_fraction = 0.2;
  c.train.patience = 50;
  const Calibration cal = random_calibration(c.train.layers, 0.15, 1.4, 0.1, 9);
  const DataSplits data = load_dataset(c.data);
  const std::string da = scratch_dir("full"), db = scratch_dir("resumed");
  TrainHooks h;
  h.progress = false;
  h.checkpoint_path = da + "/checkpoint.bin";
  const TrainResult full = train_network(c.train, cal, data, h);

  TrainOptions first = c.train;
  first.epochs = 5;
  h.checkpoint_path = db + "/checkpoint.bin";
  train_network(first, cal, data, h);
  EXPECT_EQ(read_checkpoint(h.checkpoint_path).epoch, 5);
  h.resume = true;
  const TrainResult resumed = train_network(c.train, cal, data, h);
  ASSERT_EQ(resumed.history.size(), full.history.size());
  for (std::size_t l = 0; l < full.net.num_layers(); ++l) EXPECT_EQ(resumed.net.master[l], full.net.master[l]) << l;
  for (std::size_t e = 0; e < full.history.size(); ++e) {
    EXPECT_EQ(resumed.history[e].train_loss, full.history[e].train_loss) << e;
    EXPECT_EQ(resumed.history[e].validation_accuracy, full.history[e].validation_accuracy) << e;
  }
  EXPECT_EQ(resumed.selected_epoch, full.selected_epoch);
  const TrainState a = read_checkpoint(da + "/checkpoint.bin"), b = read_checkpoint(db + "/checkpoint.bin");
  for (std::size_t l = 0; l < a.adam_v.size(); ++l) EXPECT_EQ(a.adam_v[l], b.adam_v[l]);
  EXPECT_EQ(a.adam_step, b.adam_step);

  // Resuming with a different configuration is refused, naming the field.
  TrainOptions other = c.train;
  other.learning_rate *= 2;
  try {
    train_network(other, cal, data, h);
    FAIL() << "expected InputError";
  } catch (const nnspice::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("learning_rate"), std::string::npos) << e.what();
  }
}

TEST(Trainer, NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint) {
  // Float weights and an absurd learning rate: epoch 1 (one batch) is finite, its Adam step makes the
  // weights ~1e37, and the forward pass of epoch 2 overflows.
  TrainConfig c = iris_config(2);
  c.train.quantize = false;
  c.train.learning_rate = 1e37;
  c.train.batch_size = 1000;
  c.train.epochs = 5;
  const Calibration cal = homogeneous_calibration(c.train.layers);
  const DataSplits data = load_dataset(c.data);
  const std::string dir = scratch_dir("nan");
  TrainHooks h;
  h.progress = false;
  h.checkpoint_path = dir + "/checkpoint.bin";
  try {
    train_network(c.train, cal, data, h);
    FAIL() << "expected NumericalError";
  } catch (const nnspice::NumericalError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("epoch 2"), std::string::npos) << m;
    EXPECT_NE(m.find("last good checkpoint (epoch 1)"), std::string::npos) << m;
  }
  const TrainState st = read_checkpoint(h.checkpoint_path);
  EXPECT_EQ(st.epoch, 1);
  for (const auto& w : st.net.master) EXPECT_TRUE(w.allFinite());
}

TEST(Trainer, OptionsAreValidated) {
  TrainOptions o;
  o.layers = {4, 3};
  o.learning_rate = -0.1;
  try {
    o.validate();
    FAIL();
  } catch (const nnspice::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--lr (YAML lr) = -0.1. Violated constraint: lr > 0"),
              std::string::npos)
        << e.what();
  }
}

TEST(Config, UnknownKeyAndWrongTypeNameKeyAndLine) {
  const std::string dir = scratch_dir("yaml");
  const std::string p = dir + "/train.yaml";
  std::ofstream(p) << "dataset: iris\nepochs: 10\nlearning_rate: 0.1\n";
  TrainConfig c;
  try {
    apply_train_yaml(p, c);
    FAIL();
  } catch (const nnspice::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("learning_rate"), std::string::npos) << m;
    EXPECT_NE(m.find(":3:"), std::string::npos) << m;
  }
  std::ofstream(p) << "dataset: iris\nepochs: ten\n";
  try {
    apply_train_yaml(p, c);
    FAIL();
  } catch (const nnspice::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("epochs"), std::string::npos) << m;
    EXPECT_NE(m.find(":2:"), std::string::npos) << m;
  }
  std::ofstream(p) << "dataset: iris\nlayers: 4-9-3\nlr: 0.02\nloss: cross_entropy\n";
  apply_train_yaml(p, c);
  EXPECT_EQ(c.train.layers, (Layers{4, 9, 3}));
  EXPECT_EQ(c.train.learning_rate, 0.02);
  EXPECT_EQ(c.train.loss, Loss::cross_entropy);
  EXPECT_EQ(c.train.batch_size, 10);  // iris default kept
}

namespace {
// The accuracy of the trained codes under another calibration (the programmed chip at another corner).
double accuracy_with(const TrainConfig& c, const Calibration& cal, const Network<float>& trained, const Dataset& set) {
  Network<float> net;
  net.configure(c.train.layers, cal, c.train.grid, c.train.quantize);
  for (std::size_t l = 0; l < trained.num_layers(); ++l) net.set_codes(l, trained.codes(l));
  return accuracy(net, set);
}
}  // namespace

TEST(CornerAware, TheSameCalibrationTwiceIsTheSingleCalibrationRunBitForBit) {
  // The mean over K copies of one calibration halves every gradient term exactly and adds the halves back:
  // any slip in the 1/K weighting, the gradient sum or the accuracy means shows as a different weight.
  TrainConfig c = iris_config(4);
  c.train.epochs = 15;
  c.train.l1_activity = 1e-3;  // the activity term is weighted per calibration too
  const Calibration cal = random_calibration(c.train.layers, 0.2, 1.3, 0.1, 11);
  const DataSplits data = load_dataset(c.data);
  TrainHooks hooks;
  hooks.progress = false;
  const TrainResult one = train_network(c.train, cal, data, hooks);
  const TrainResult two = train_network(c.train, std::vector<Calibration>{cal, cal}, data, hooks);
  for (std::size_t l = 0; l < one.net.num_layers(); ++l) EXPECT_EQ(one.net.master[l], two.net.master[l]) << "layer " << l;
  EXPECT_EQ(one.test_accuracy, two.test_accuracy);
  EXPECT_EQ(one.train_accuracy, two.train_accuracy);
  ASSERT_EQ(two.test_accuracies.size(), 2u);
  EXPECT_EQ(two.test_accuracies[0], two.test_accuracies[1]);
  ASSERT_EQ(one.history.size(), two.history.size());
  for (std::size_t e = 0; e < one.history.size(); ++e) {
    // (the reported loss adds the halves in another order: equal to the last bits, not bit for bit)
    EXPECT_DOUBLE_EQ(one.history[e].train_loss, two.history[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(one.history[e].train_accuracy, two.history[e].train_accuracy) << "epoch " << e + 1;
  }
}

TEST(CornerAware, PerCalibrationAccuraciesAreThoseOfTheWeightsUnderEachCalibration) {
  TrainConfig c = iris_config(2);
  const Calibration a = random_calibration(c.train.layers, 0.3, 1.4, 0.0, 7);
  const Calibration b = random_calibration(c.train.layers, 0.3, 0.7, 0.0, 8);
  const DataSplits data = load_dataset(c.data);
  TrainHooks hooks;
  hooks.progress = false;
  const TrainResult r = train_network(c.train, std::vector<Calibration>{a, b}, data, hooks);
  ASSERT_EQ(r.test_accuracies.size(), 2u);
  ASSERT_EQ(r.train_accuracies.size(), 2u);
  EXPECT_EQ(r.test_accuracies[0], accuracy_with(c, a, r.net, data.test));
  EXPECT_EQ(r.test_accuracies[1], accuracy_with(c, b, r.net, data.test));
  EXPECT_EQ(r.train_accuracies[1], accuracy_with(c, b, r.net, data.train));
  EXPECT_DOUBLE_EQ(r.test_accuracy, (r.test_accuracies[0] + r.test_accuracies[1]) / 2);
  EXPECT_DOUBLE_EQ(r.train_accuracy, (r.train_accuracies[0] + r.train_accuracies[1]) / 2);
}

TEST(CornerAware, MismatchedCalibrationsAreRefusedNamingThem) {
  TrainConfig c = iris_config(2);
  const DataSplits data = load_dataset(c.data);
  Calibration a = random_calibration(c.train.layers, 0.2, 1.4, 0.0, 7);
  a.source = "a.json";
  Calibration wrong = random_calibration({4, 9, 9, 3}, 0.2, 1.4, 0.0, 7);
  wrong.source = "wrong.json";
  EXPECT_THROW(train_network(c.train, std::vector<Calibration>{a, wrong}, data), nnspice::InputError);
  Calibration gains = a;
  add_random_synapse_gains(gains, 0.1, 3);
  gains.source = "gains.json";
  try {
    train_network(c.train, std::vector<Calibration>{a, gains}, data);
    ADD_FAILURE() << "no error";
  } catch (const nnspice::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("gains.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(train_network(c.train, std::vector<Calibration>{}, data), nnspice::InputError);
}

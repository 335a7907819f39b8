// Dead output units (issue 17, class 11): an output unit that is 0 on every input gets no gradient through
// its rectifier. The trainer's per-epoch monitor must find it, the recovery (surrogate slope, then re-drawn
// incoming weights) must revive it, and the final model must say whether it has collapsed. The dead unit is
// made by editing a checkpoint (its incoming weights set to -1: with non-negative hidden activations its
// pre-activation is <= 0 on every sample) and resuming from it, with and without the recovery.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "nnspice/common/error.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/train/trainer.hpp"

using namespace nnspice::train;
namespace fs = std::filesystem;

namespace {

// 3 separable classes of 4 non-negative features: feature k is high for class k, feature 3 is a constant
// (a bias input for the bias-free network).
DataSplits three_blobs() {
  nnspice::Rng rng = nnspice::Rng::stream(11, "test/dead_outputs");
  DataSplits d;
  for (Dataset* s : {&d.train, &d.test}) {
    const int per_class = s == &d.train ? 60 : 20;
    s->n_classes = 3;
    s->x.resize(4, 3 * per_class);
    for (int i = 0; i < 3 * per_class; ++i) {
      const int k = i % 3;
      for (int f = 0; f < 3; ++f) s->x(f, i) = static_cast<float>(f == k ? rng.uniform(0.7, 1.0) : rng.uniform(0.0, 0.2));
      s->x(3, i) = 0.5f;
      s->y.push_back(k);
    }
  }
  return d;
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("nnspice_test_dead_" + std::to_string(::getpid()) + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TrainOptions tiny_options() {
  TrainOptions o;
  o.layers = {4, 16, 3};
  o.loss = Loss::cross_entropy;
  o.learning_rate = 0.02;
  o.batch_size = 20;
  o.threads = 1;
  o.relu_leak = 0;  // the exact gradient: without the recovery nothing can revive a unit
  return o;
}

struct KillRun {
  TrainResult result;
  std::vector<int> dead_after_kill;  // dead_outputs of the first epoch after the edit
};

// 5 healthy epochs, output `unit` killed in the checkpoint, then `epochs` more with or without the recovery.
KillRun kill_and_resume(bool revive, int unit, int epochs) {
  const fs::path dir = scratch(revive ? "_r" : "_n");
  TrainOptions o = tiny_options();
  o.revive_dead = true;  // a healthy start (a 4-16-3 network at this lr loses outputs in its first epoch)
  o.epochs = 5;
  const DataSplits data = three_blobs();
  const Calibration cal = homogeneous_calibration(o.layers);
  TrainHooks h;
  h.progress = false;
  h.checkpoint_path = (dir / "checkpoint.bin").string();
  const TrainResult first = train_network(o, cal, data, h);
  EXPECT_TRUE(first.history.back().dead_outputs.empty()) << "no healthy start";
  EXPECT_TRUE(first.train_health.dead_units.empty()) << "no healthy start";
  TrainState st = read_checkpoint(h.checkpoint_path);
  st.net.master.back().row(unit).setConstant(-1.0f);
  st.options["revive_dead"] = revive;  // resumed with or without the recovery
  write_checkpoint(h.checkpoint_path, st);
  o.revive_dead = revive;
  o.epochs = 5 + epochs;
  h.resume = true;
  KillRun r;
  r.result = train_network(o, cal, data, h);
  r.dead_after_kill = r.result.history.at(5).dead_outputs;
  fs::remove_all(dir);
  return r;
}

}  // namespace

TEST(DeadOutputs, HealthCountsDeadUnitsAndAllZeroSamples) {
  Eigen::MatrixXf out(3, 200);
  out.setZero();
  out.row(0).setConstant(1.0f);           // active everywhere
  out(1, 0) = out(1, 1) = 0.5f;           // active on 2 of 200 = 1 %: not below the 1 % threshold
  out.row(0).tail(10).setZero();          // 10 samples with all outputs zero
  const OutputHealth h = output_health(out, 0.01);
  EXPECT_EQ(h.dead_units, std::vector<int>({2}));
  EXPECT_EQ(h.active_samples, std::vector<std::size_t>({190, 2, 0}));
  EXPECT_EQ(h.all_zero_samples, 10u);
  EXPECT_EQ(output_health(out, 0.02).dead_units, std::vector<int>({1, 2}));  // 2 < 4 samples
}

TEST(DeadOutputs, WithoutRecoveryAKilledOutputStaysDeadAndTheModelIsCollapsed) {
  const KillRun r = kill_and_resume(false, 2, 15);
  EXPECT_EQ(r.dead_after_kill, std::vector<int>({2}));     // detected during training …
  EXPECT_EQ(r.result.history.back().dead_outputs, std::vector<int>({2}));
  for (std::size_t e = 5; e < r.result.history.size(); ++e) EXPECT_TRUE(r.result.history[e].revived.empty());
  EXPECT_EQ(r.result.train_health.dead_units, std::vector<int>({2}));  // … and at the end
  EXPECT_TRUE(r.result.collapsed());
  EXPECT_LE(r.result.test_accuracy, 2.0 / 3.0 + 1e-9);   // class 2 is never predicted
}

TEST(DeadOutputs, RecoveryRevivesAKilledOutput) {
  for (int unit : {0, 2}) {
    SCOPED_TRACE(testing::Message() << "killed output " << unit);
    const KillRun r = kill_and_resume(true, unit, 15);
    EXPECT_EQ(r.dead_after_kill, std::vector<int>({unit}));
    EXPECT_TRUE(r.result.history.back().dead_outputs.empty());
    EXPECT_TRUE(r.result.train_health.dead_units.empty());
    EXPECT_TRUE(r.result.test_health.dead_units.empty());
    EXPECT_FALSE(r.result.collapsed());
    EXPECT_EQ(r.result.test_health.all_zero_samples, 0u);
    EXPECT_GE(r.result.test_accuracy, 0.95);  // measured: see the test output
    std::size_t revived = 0;
    int dead_epochs = 0;
    for (std::size_t e = 5; e < r.result.history.size(); ++e) {
      revived += r.result.history[e].revived.size();
      dead_epochs += !r.result.history[e].dead_outputs.empty();
    }
    EXPECT_GE(revived, 1u);  // measured: the slope alone does not revive a row of -1 weights in 2 epochs
    std::cout << "killed output " << unit << ": test accuracy " << r.result.test_accuracy << ", re-drawn " << revived
              << " time(s), dead in " << dead_epochs << " epoch(s) after the kill\n";
  }
}

TEST(DeadOutputs, ResumeRefusesAnOutputUnitOutsideTheNetwork) {
  const fs::path dir = scratch("_bad");
  TrainOptions o = tiny_options();
  o.epochs = 1;
  const DataSplits data = three_blobs();
  const Calibration cal = homogeneous_calibration(o.layers);
  TrainHooks h;
  h.progress = false;
  h.checkpoint_path = (dir / "checkpoint.bin").string();
  train_network(o, cal, data, h);
  TrainState st = read_checkpoint(h.checkpoint_path);
  st.history.back().dead_outputs = {7};  // an edited checkpoint: there are 3 outputs
  write_checkpoint(h.checkpoint_path, st);
  o.epochs = 2;
  h.resume = true;
  try {
    train_network(o, cal, data, h);
    ADD_FAILURE() << "expected InputError";
  } catch (const nnspice::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("output unit 7 is outside 0 … 2"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

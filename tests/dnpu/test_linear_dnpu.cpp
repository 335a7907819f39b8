// The single-layer DNPU classifier (seed experiment 3) on a small synthetic task: it learns; the controls stay
// inside their ranges when clamped; a run stopped after k epochs and resumed from its checkpoint equals an
// uninterrupted run bit for bit; checkpoints from other options or damaged files are refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/dnpu/linear_dnpu.hpp"
#include "nnspice/dnpu/node.hpp"
#include "nnspice/dnpu/surrogate.hpp"
#include "si_boron.hpp"

using namespace nnspice;
using namespace nnspice::dnpu;

namespace {

using test::si_boron;

/// 3 classes over 12 "pixels": class c lights pixels 4c..4c+3 (+0.5), the rest is noise in [-0.5, -0.3].
void toy(std::size_t n, std::uint64_t seed, Eigen::MatrixXd& x, std::vector<int>& y) {
  Rng rng = Rng::stream(seed, "toy");
  x.resize(12, static_cast<Eigen::Index>(n));
  y.resize(n);
  for (std::size_t s = 0; s < n; ++s) {
    y[s] = static_cast<int>(s % 3);
    for (Eigen::Index p = 0; p < 12; ++p)
      x(p, static_cast<Eigen::Index>(s)) = p / 4 == y[s] ? 0.5 : rng.uniform(-0.5, -0.3);
  }
}

struct Toy {
  Eigen::MatrixXd xtr, xval, xte;
  std::vector<int> ytr, yval, yte;
  Toy() {
    toy(150, 1, xtr, ytr);
    toy(30, 2, xval, yval);
    toy(60, 3, xte, yte);
  }
};

LinearDnpuOptions toy_options() {
  LinearDnpuOptions o;
  o.classes = 3;
  o.epochs = 3;
  o.batch = 16;
  o.learning_rate = 1e-2;
  o.weight_decay = 1e-3;
  return o;
}

std::string scratch(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("nnspice_linear_dnpu_" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d.string();
}

}  // namespace

TEST(DnpuNode, ClampProjectsControlsOntoRanges) {
  DnpuNode n = DnpuNode::make(si_boron(), {1, 2});
  n.controls_V << -1.5, 0.0, 0.9, 0.5, -0.2;  // e0 0.3 below, e4 0.3 above, e5 0.2 above
  EXPECT_NEAR(n.max_range_violation(), 0.3, 1e-12);
  n.clamp_controls();
  EXPECT_EQ(n.max_range_violation(), 0.0);
  EXPECT_DOUBLE_EQ(n.controls_V(0), -1.2);
  EXPECT_DOUBLE_EQ(n.controls_V(1), 0.0);
  EXPECT_DOUBLE_EQ(n.controls_V(2), 0.6);
  EXPECT_DOUBLE_EQ(n.controls_V(3), 0.3);
  EXPECT_DOUBLE_EQ(n.controls_V(4), -0.2);
}

TEST(LinearDnpu, LearnsToyTask) {
  const Toy t;
  LinearDnpuOptions o = toy_options();
  o.epochs = 8;
  const auto r = train_linear_dnpu(si_boron(), t.xtr, t.ytr, t.xval, t.yval, t.xte, t.yte, o);
  ASSERT_EQ(r.history.size(), 8u);
  EXPECT_GT(r.test_accuracy, 0.9);
  EXPECT_LT(r.history.back().loss, r.history.front().loss);
  o.baseline = true;
  EXPECT_GT(train_linear_dnpu(si_boron(), t.xtr, t.ytr, t.xval, t.yval, t.xte, t.yte, o).test_accuracy, 0.9);
}

TEST(LinearDnpu, ResumedRunEqualsUninterruptedRun) {
  const Toy t;
  LinearDnpuOptions o = toy_options();
  const auto whole = train_linear_dnpu(si_boron(), t.xtr, t.ytr, t.xval, t.yval, t.xte, t.yte, o);
  o.checkpoint = scratch("resume") + "/checkpoint.bin";
  o.epochs = 2;
  const auto part = train_linear_dnpu(si_boron(), t.xtr, t.ytr, t.xval, t.yval, t.xte, t.yte, o);
  ASSERT_EQ(part.history.size(), 2u);
  ASSERT_TRUE(file_exists(o.checkpoint));
  o.epochs = 3;
  std::vector<std::size_t> restored;
  const auto resumed = train_linear_dnpu(si_boron(), t.xtr, t.ytr, t.xval, t.yval, t.xte, t.yte, o, {},
                                         [&](std::size_t ep, const EpochRecord&, bool from_ck) { if (from_ck) restored.push_back(ep); });
  EXPECT_EQ(restored, (std::vector<std::size_t>{1, 2}));
  ASSERT_EQ(resumed.history.size(), 3u);
  for (std::size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(resumed.history[e].loss, whole.history[e].loss) << "epoch " << e + 1;
    EXPECT_EQ(resumed.history[e].val_accuracy, whole.history[e].val_accuracy);
  }
  EXPECT_EQ(resumed.test_accuracy, whole.test_accuracy);
  EXPECT_EQ(resumed.best_epoch, whole.best_epoch);
  EXPECT_TRUE(resumed.linear_weights == whole.linear_weights);
  // fewer epochs than the checkpoint holds: refused
  o.epochs = 1;
  EXPECT_THROW(train_linear_dnpu(si_boron(), t.xtr, t.ytr, t.xval, t.yval, t.xte, t.yte, o), InputError);
}

// A checkpoint of other options is refused; a damaged one (issue 17) is not used: training starts from the first
// epoch and ends as an uninterrupted run.
TEST(LinearDnpu, RefusesForeignAndRecomputesDamagedCheckpoint) {
  const Toy t;
  LinearDnpuOptions o = toy_options();
  o.epochs = 1;
  o.checkpoint = scratch("damaged") + "/checkpoint.bin";
  train_linear_dnpu(si_boron(), t.xtr, t.ytr, t.xval, t.yval, t.xte, t.yte, o);
  LinearDnpuOptions other = o;
  other.learning_rate = 2e-2;
  other.epochs = 2;
  try {
    train_linear_dnpu(si_boron(), t.xtr, t.ytr, t.xval, t.yval, t.xte, t.yte, other);
    FAIL() << "a checkpoint of other options was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("other options"), std::string::npos) << e.what();
  }
  const std::string bytes = read_file(o.checkpoint);
  LinearDnpuOptions fresh = o;
  fresh.epochs = 2;
  fresh.checkpoint = scratch("damaged_ref") + "/checkpoint.bin";
  const auto want = train_linear_dnpu(si_boron(), t.xtr, t.ytr, t.xval, t.yval, t.xte, t.yte, fresh);
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x5a;
  for (const std::string& damaged : {bytes.substr(0, 10), bytes.substr(0, bytes.size() / 2), bytes.substr(0, bytes.size() - 1), flipped}) {
    write_file_atomic(o.checkpoint, damaged);
    o.epochs = 2;
    const auto got = train_linear_dnpu(si_boron(), t.xtr, t.ytr, t.xval, t.yval, t.xte, t.yte, o);
    ASSERT_EQ(got.history.size(), 2u) << damaged.size() << " bytes";
    EXPECT_EQ(got.test_accuracy, want.test_accuracy);
    EXPECT_EQ(got.linear_weights, want.linear_weights);
    EXPECT_EQ(got.history[0].loss, want.history[0].loss);
  }
}

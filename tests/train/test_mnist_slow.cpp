// Slow (label `slow`): the real MNIST files. The checkerboard rule selects exactly 196 pixels on the
// 60k training images, and 5 epochs of 196-100-50-10 on the 60k images with chip slopes reach >= 93 % test.
#include <gtest/gtest.h>

#include "nnspice/common/fs_util.hpp"
#include "nnspice/train/config.hpp"
#include "nnspice/train/mnist.hpp"

using namespace nnspice::train;

namespace {
std::string mnist_dir() { return resolve_mnist_dir(""); }
bool have_mnist() { return nnspice::file_exists(mnist_dir() + "/train-images-idx3-ubyte"); }
}  // namespace

TEST(MnistSlow, CheckerboardSelects196PixelsOnTheTrainingSet) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not installed (scripts/fetch_mnist.sh)";
  const ImageSet tr = read_image_set(mnist_dir() + "/train-images-idx3-ubyte", mnist_dir() + "/train-labels-idx1-ubyte");
  ASSERT_EQ(tr.n, 60000u);
  const auto means = pixel_means(tr);
  const auto cb = select_checkerboard(means, 28, 28, 0.027);
  EXPECT_EQ(cb.size(), 196u);
  // Spread over the whole digit area: first and last selected rows are far apart.
  EXPECT_GE(cb.back() / 28 - cb.front() / 28, 15u);
  const auto top = select_most_active(means, 196);
  EXPECT_EQ(top.size(), 196u);
  EXPECT_NE(top, cb);
}

TEST(MnistSlow, ShortTrainingRunLearns) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not installed (scripts/fetch_mnist.sh)";
  TrainConfig c = TrainConfig::defaults_for("mnist");
  c.train.epochs = 5;
  const DataSplits data = load_dataset(c.data);
  EXPECT_EQ(data.info["num_pixels_selected"].get<int>(), 196);
  TrainHooks h;
  h.progress = false;
  const TrainResult r = train_network(c.train, random_calibration(c.train.layers, 0.15, 1.4, 0.0, 3), data, h);
  EXPECT_GE(r.test_accuracy, 0.93);  // the 50-epoch runs reach ~97.8 %
}

// Data sets for training and inference: features as non-negative input currents (arbitrary units,
// one sample per column), integer class labels. Loaders: MNIST-layout IDX files (mnist.hpp), FSDD
// spoken digits (audio.hpp), Iris (the shipped CSV). load_dataset() builds train/validation/test.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nnspice::train {

struct Dataset {
  Eigen::MatrixXf x;    ///< (features, samples)
  std::vector<int> y;   ///< class of each sample, 0 … n_classes-1
  int n_classes = 0;
  std::size_t size() const { return y.size(); }
  std::size_t features() const { return static_cast<std::size_t>(x.rows()); }
  /// The samples at `index` (in that order).
  Dataset subset(const std::vector<std::size_t>& index) const;
};

struct DataSplits {
  Dataset train, validation, test;  ///< validation may be empty
  nlohmann::json info;              ///< what was loaded and how (for summary.json / run.json)
};

/// Stratified split: per class, a seeded shuffle, then round(fraction·count) samples go to `second`.
void stratified_split(const Dataset& all, double fraction, std::uint64_t seed, const std::string& stream,
                      Dataset& first, Dataset& second);

/// Scales every sample (column) to mean `mean` (samples that are all zero stay zero).
void normalise_sample_mean(Dataset& d, double mean);

struct DatasetOptions {
  std::string name = "mnist";        ///< mnist | fsdd | iris
  std::string mnist_dir;             ///< "" = $NNSPICE_MNIST_DIR, else /usr/local/share/nnspice/mnist
  std::string fsdd_dir;              ///< FSDD root (with recordings/) or the recordings folder itself
  std::string iris_csv;              ///< "" = the shipped data/datasets/iris.csv
  std::string pixels = "checkerboard";  ///< MNIST input pixels: checkerboard | most_active | all
  int num_pixels = 196;              ///< for most_active
  double pixel_threshold = 0.027;    ///< checkerboard: training-set mean pixel (in [0, 1]) must exceed this
  double input_mean = -1;            ///< per-sample mean after normalisation; < 0 = the data set's default
  bool augment = false;              ///< FSDD: hop stretching ×0.8, 0.9, 1.1, 1.3 added to the training set
  double validation_fraction = 0.0;  ///< taken (stratified) from the training set
  double iris_test_fraction = 0.2;   ///< Iris has no official split: 120 train / 30 test
  std::size_t train_limit = 0;       ///< > 0: use only the first N training samples (quick runs, tests)
  std::size_t test_limit = 0;        ///< > 0: use only the first N test samples
  std::uint64_t seed = 1;            ///< validation / Iris splits
};

/// Loads and preprocesses a data set. Errors (missing files, bad formats) are InputErrors naming the file.
DataSplits load_dataset(const DatasetOptions& options);

/// The MNIST directory by the documented search order (option, $NNSPICE_MNIST_DIR, the installed default).
std::string resolve_mnist_dir(const std::string& option);

/// Iris: 150 rows, 4 features (cm), labels 0/1/2 (setosa, versicolor, virginica).
Dataset read_iris_csv(const std::string& path);
/// The shipped Iris file (data/datasets/iris.csv in the installed data dir or the source tree).
std::string default_iris_csv();

}  // namespace nnspice::train

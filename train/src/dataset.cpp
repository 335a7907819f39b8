#include "nnspice/train/dataset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>

#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/train/audio.hpp"
#include "nnspice/train/mnist.hpp"

namespace nnspice::train {

Dataset Dataset::subset(const std::vector<std::size_t>& index) const {
  Dataset d;
  d.n_classes = n_classes;
  d.x.resize(x.rows(), static_cast<Eigen::Index>(index.size()));
  d.y.resize(index.size());
  for (std::size_t i = 0; i < index.size(); ++i) {
    d.x.col(static_cast<Eigen::Index>(i)) = x.col(static_cast<Eigen::Index>(index[i]));
    d.y[i] = y[index[i]];
  }
  return d;
}

namespace {

// Fisher–Yates with our Rng (same permutation on every platform).
void shuffle(std::vector<std::size_t>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

// Indices per class, in order.
std::map<int, std::vector<std::size_t>> by_class(const std::vector<int>& y) {
  std::map<int, std::vector<std::size_t>> m;
  for (std::size_t i = 0; i < y.size(); ++i) m[y[i]].push_back(i);
  return m;
}

void limit(Dataset& d, std::size_t n) {
  if (n == 0 || n >= d.size()) return;
  std::vector<std::size_t> idx(n);
  for (std::size_t i = 0; i < n; ++i) idx[i] = i;
  d = d.subset(idx);
}

/// n samples drawn without replacement from stream (seed, name), kept in their original order.
void limit_random(Dataset& d, std::size_t n, std::uint64_t seed, const std::string& name) {
  if (n == 0 || n >= d.size()) return;
  std::vector<std::size_t> idx(d.size());
  std::iota(idx.begin(), idx.end(), 0);
  Rng rng = Rng::stream(seed, name);
  for (std::size_t i = idx.size(); i-- > 1;) std::swap(idx[i], idx[rng.below(i + 1)]);
  idx.resize(n);
  std::sort(idx.begin(), idx.end());
  d = d.subset(idx);
}

// Split index list (stratified by `labels`): returns {first, second}.
std::pair<std::vector<std::size_t>, std::vector<std::size_t>> split_indices(const std::vector<int>& labels,
                                                                          double fraction, Rng& rng) {
  std::vector<std::size_t> first, second;
  for (auto& [cls, idx] : by_class(labels)) {
    shuffle(idx, rng);
    const auto k = static_cast<std::size_t>(std::lround(fraction * static_cast<double>(idx.size())));
    for (std::size_t i = 0; i < idx.size(); ++i) (i < k ? second : first).push_back(idx[i]);
  }
  std::sort(first.begin(), first.end());
  std::sort(second.begin(), second.end());
  return {first, second};
}

Dataset from_columns(const std::vector<std::vector<double>>& cols, const std::vector<int>& y, int n_classes) {
  Dataset d;
  d.n_classes = n_classes;
  d.y = y;
  const std::size_t f = cols.empty() ? 0 : cols[0].size();
  d.x.resize(static_cast<Eigen::Index>(f), static_cast<Eigen::Index>(cols.size()));
  for (std::size_t j = 0; j < cols.size(); ++j)
    for (std::size_t i = 0; i < f; ++i) d.x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = static_cast<float>(cols[j][i]);
  return d;
}

// Per-feature [0, 1] scaling with the statistics of `ref`; values below 0 are clipped (input currents).
nlohmann::json minmax_scale(const Dataset& ref, std::vector<Dataset*> sets) {
  Eigen::VectorXf lo = ref.x.rowwise().minCoeff(), hi = ref.x.rowwise().maxCoeff();
  for (Dataset* d : sets) {
    if (d->size() == 0) continue;
    for (Eigen::Index i = 0; i < d->x.rows(); ++i) {
      const float span = hi[i] - lo[i];
      if (span > 0) d->x.row(i) = ((d->x.row(i).array() - lo[i]) / span).cwiseMax(0.0f).matrix();
      else d->x.row(i).setZero();
    }
  }
  return {{"feature_scaling", "per feature to [0, 1] with training-set min/max; clipped below 0"}};
}

// The readers check labels against their files' class ranges (naming file and sample); this is the
// backstop for every split, so no label outside 0..n_classes-1 reaches training or inference.
void check_labels(const DataSplits& s, const std::string& name) {
  const std::pair<const Dataset*, const char*> splits[] = {{&s.train, "train"}, {&s.validation, "validation"}, {&s.test, "test"}};
  for (const auto& [d, split] : splits)
    for (std::size_t i = 0; i < d->y.size(); ++i)
      if (d->y[i] < 0 || d->y[i] >= d->n_classes)
        throw InputError(fmt::format("data set {}: {} sample {} has label {}, outside the class range 0..{}", name, split, i, d->y[i], d->n_classes - 1));
}

DataSplits load_mnist(const DatasetOptions& o) {
  const std::string dir = resolve_mnist_dir(o.mnist_dir);
  const ImageSet tr = read_idx_split(dir, false);
  const ImageSet te = read_idx_split(dir, true);
  if (te.rows != tr.rows || te.cols != tr.cols)
    throw InputError(fmt::format("{}: test images are {}x{}, training images {}x{}", dir, te.rows, te.cols, tr.rows,
                                 tr.cols));
  const auto means = pixel_means(tr);
  std::vector<std::size_t> pix;
  if (o.pixels == "checkerboard") pix = select_checkerboard(means, tr.rows, tr.cols, o.pixel_threshold);
  else if (o.pixels == "most_active") pix = select_most_active(means, static_cast<std::size_t>(o.num_pixels));
  else if (o.pixels == "all") {
    pix.resize(tr.rows * tr.cols);
    for (std::size_t i = 0; i < pix.size(); ++i) pix[i] = i;
  } else
    throw InputError(fmt::format("pixels = '{}': expected checkerboard, most_active or all", o.pixels));
  if (pix.empty()) throw InputError(fmt::format("pixels = '{}': no pixel selected", o.pixels));
  const double mean = o.input_mean > 0 ? o.input_mean : 0.1;
  auto build = [&](const ImageSet& s) {
    Dataset d;
    d.x.resize(static_cast<Eigen::Index>(pix.size()), static_cast<Eigen::Index>(s.n));
    const std::size_t D = s.rows * s.cols;
    for (std::size_t n = 0; n < s.n; ++n)
      for (std::size_t i = 0; i < pix.size(); ++i)
        d.x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(n)) = static_cast<float>(s.pixels[n * D + pix[i]] / 255.0);
    d.y = s.labels;
    return d;
  };
  DataSplits out;
  Dataset train = build(tr);
  out.test = build(te);
  int nc = 0;
  for (int v : train.y) nc = std::max(nc, v + 1);
  for (int v : out.test.y) nc = std::max(nc, v + 1);
  train.n_classes = out.test.n_classes = nc;
  limit(train, o.train_limit);
  limit(out.test, o.test_limit);
  if (o.validation_fraction > 0) stratified_split(train, o.validation_fraction, o.seed, "split/validation", out.train, out.validation);
  else out.train = std::move(train);
  for (Dataset* d : {&out.train, &out.validation, &out.test}) normalise_sample_mean(*d, mean);
  out.info = {{"name", "mnist"},
              {"dir", dir},
              {"image_rows", tr.rows},
              {"image_cols", tr.cols},
              {"pixels", o.pixels},
              {"pixel_threshold", o.pixel_threshold},
              {"num_pixels_selected", pix.size()},
              {"selected_pixels", pix},
              {"input_mean", mean}};
  return out;
}

DataSplits load_fsdd(const DatasetOptions& o) {
  if (o.fsdd_dir.empty()) throw InputError("dataset fsdd needs --fsdd DIR (the FSDD repository or its recordings/)");
  const auto items = list_fsdd(o.fsdd_dir);
  MfccOptions mo;
  std::vector<std::vector<double>> tr_feat, te_feat;
  std::vector<int> tr_y, te_y;
  std::vector<const FsddItem*> tr_items;
  std::vector<Wav> tr_wav;
  int rate = 0;
  for (const auto& it : items) {
    Wav w = read_wav(it.path);
    if (rate == 0) rate = w.sample_rate_Hz;
    if (it.index <= 4) {  // official split: takes 0–4 are the test set
      te_feat.push_back(mfcc(w.samples, w.sample_rate_Hz, mo));
      te_y.push_back(it.digit);
    } else {
      tr_feat.push_back(mfcc(w.samples, w.sample_rate_Hz, mo));
      tr_y.push_back(it.digit);
      tr_items.push_back(&it);
      if (o.augment) tr_wav.push_back(std::move(w));
    }
  }
  DataSplits out;
  Dataset train_all = from_columns(tr_feat, tr_y, 10);
  out.test = from_columns(te_feat, te_y, 10);
  // Validation files are chosen before augmentation so that no stretched copy of them is trained on.
  std::vector<std::size_t> keep(train_all.size()), val;
  for (std::size_t i = 0; i < keep.size(); ++i) keep[i] = i;
  if (o.validation_fraction > 0) {
    Rng rng = Rng::stream(o.seed, "split/validation");
    std::tie(keep, val) = split_indices(train_all.y, o.validation_fraction, rng);
  }
  out.train = train_all.subset(keep);
  out.validation = train_all.subset(val);
  const Dataset unaugmented = out.train;
  const std::vector<double> scales = {0.8, 0.9, 1.1, 1.3};
  if (o.augment) {
    std::vector<std::vector<double>> extra;
    std::vector<int> ey;
    for (double s : scales) {
      MfccOptions m2 = mo;
      m2.hop_scale = s;
      for (std::size_t i : keep) {
        extra.push_back(mfcc(tr_wav[i].samples, tr_wav[i].sample_rate_Hz, m2));
        ey.push_back(tr_y[i]);
      }
    }
    Dataset aug = from_columns(extra, ey, 10);
    Dataset merged;
    merged.n_classes = 10;
    merged.x.resize(out.train.x.rows(), out.train.x.cols() + aug.x.cols());
    merged.x << out.train.x, aug.x;
    merged.y = out.train.y;
    merged.y.insert(merged.y.end(), aug.y.begin(), aug.y.end());
    out.train = std::move(merged);
  }
  nlohmann::json scaling = minmax_scale(unaugmented, {&out.train, &out.validation, &out.test});
  limit(out.train, o.train_limit);
  limit(out.test, o.test_limit);
  const double mean = o.input_mean > 0 ? o.input_mean : 0.03;
  for (Dataset* d : {&out.train, &out.validation, &out.test}) normalise_sample_mean(*d, mean);
  out.info = {{"name", "fsdd"},
              {"dir", o.fsdd_dir},
              {"files", items.size()},
              {"split", "official: takes 0-4 test, 5-49 train"},
              {"sample_rate_Hz", rate},
              {"mfcc",
               {{"coefficients", mo.coefficients},
                {"slices", mo.slices},
                {"mel_filters", mo.mel_filters},
                {"frame_samples", std::lround(mo.frame_s * rate)},
                {"hop_samples", std::lround(mo.hop_s * rate)},
                {"band_Hz", {mo.f_min_Hz, rate / 2.0}}}},
              {"augment", o.augment},
              {"augment_hop_scales", o.augment ? nlohmann::json(scales) : nlohmann::json::array()},
              {"input_mean", mean}};
  out.info.update(scaling);
  return out;
}

DataSplits load_iris(const DatasetOptions& o) {
  const std::string path = o.iris_csv.empty() ? default_iris_csv() : o.iris_csv;
  Dataset all = read_iris_csv(path);
  DataSplits out;
  Dataset train;
  stratified_split(all, o.iris_test_fraction, o.seed, "split/iris-test", train, out.test);
  if (o.validation_fraction > 0) stratified_split(train, o.validation_fraction, o.seed, "split/validation", out.train, out.validation);
  else out.train = std::move(train);
  // Divide by the training-set maximum (no offset): inputs stay proportional to the measurements, so
  // the always-large sepal length acts like a bias input for the bias-free network. (Min-max scaling
  // removes that and costs ~20 points of accuracy.)
  const Eigen::VectorXf hi = out.train.x.rowwise().maxCoeff();
  for (Dataset* d : {&out.train, &out.validation, &out.test})
    for (Eigen::Index i = 0; i < d->x.rows(); ++i) d->x.row(i) = (d->x.row(i).array() / hi[i]).cwiseMax(0.0f).matrix();
  // iris.csv is sorted by class: a limit takes a seeded random subset, not the first rows (one class)
  limit_random(out.train, o.train_limit, o.seed, "limit/iris-train");
  limit_random(out.test, o.test_limit, o.seed, "limit/iris-test");
  out.info = {{"name", "iris"}, {"csv", path}, {"test_fraction", o.iris_test_fraction},
              {"feature_scaling", "per feature divided by the training-set maximum"}};
  return out;
}

}  // namespace

void stratified_split(const Dataset& all, double fraction, std::uint64_t seed, const std::string& stream,
                      Dataset& first, Dataset& second) {
  if (!(fraction >= 0 && fraction < 1)) throw InputError(fmt::format("split fraction {}: must be in [0, 1)", fraction));
  Rng rng = Rng::stream(seed, stream);
  auto [a, b] = split_indices(all.y, fraction, rng);
  first = all.subset(a);
  second = all.subset(b);
}

void normalise_sample_mean(Dataset& d, double mean) {
  for (Eigen::Index j = 0; j < d.x.cols(); ++j) {
    const double m = d.x.col(j).cast<double>().mean();
    if (m > 0) d.x.col(j) *= static_cast<float>(mean / m);
  }
}

std::string resolve_mnist_dir(const std::string& option) {
  if (!option.empty()) return option;
  if (const char* e = std::getenv("NNSPICE_MNIST_DIR"); e && *e) return e;
  return "/usr/local/share/nnspice/mnist";
}

std::string default_iris_csv() {
  const std::string rel = "datasets/iris.csv";
  const std::string p = resolve_data_path(rel);
  if (file_exists(p)) return p;
  const std::string src = std::string(NNSPICE_TRAIN_DATA_SOURCE_DIR) + "/" + rel;
  if (file_exists(src)) return src;
  return p;
}

Dataset read_iris_csv(const std::string& path) {
  const CsvTable t = read_csv(path);
  if (t.cols != 5)
    throw InputError(fmt::format("{}: expected 5 columns (4 features, class 0/1/2), found {}", path, t.cols));
  Dataset d;
  d.n_classes = 3;
  d.x.resize(4, static_cast<Eigen::Index>(t.rows));
  for (std::size_t r = 0; r < t.rows; ++r) {
    for (std::size_t c = 0; c < 4; ++c) d.x(static_cast<Eigen::Index>(c), static_cast<Eigen::Index>(r)) = static_cast<float>(t.at(r, c));
    const double cls = t.at(r, 4);
    if (cls != 0 && cls != 1 && cls != 2)
      throw InputError(fmt::format("{}: row {}: class = {}, expected 0, 1 or 2", path, r + 1, cls));
    d.y.push_back(static_cast<int>(cls));
  }
  return d;
}

DataSplits load_dataset(const DatasetOptions& o) {
  if (!(o.validation_fraction >= 0 && o.validation_fraction < 1))
    throw InputError(fmt::format("validation_fraction = {}: must be in [0, 1)", o.validation_fraction));
  DataSplits s;
  if (o.name == "mnist") s = load_mnist(o);
  else if (o.name == "fsdd") s = load_fsdd(o);
  else if (o.name == "iris") s = load_iris(o);
  else throw InputError(fmt::format("dataset = '{}': expected mnist, fsdd or iris", o.name));
  check_labels(s, o.name);
  s.info["train_samples"] = s.train.size();
  s.info["validation_samples"] = s.validation.size();
  s.info["test_samples"] = s.test.size();
  s.info["features"] = s.train.features();
  s.info["classes"] = s.train.n_classes;
  s.info["validation_fraction"] = o.validation_fraction;
  return s;
}

}  // namespace nnspice::train

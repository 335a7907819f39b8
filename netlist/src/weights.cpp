#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/netlist/network.hpp"

namespace nnspice::netlist {

WeightCodes random_weights(const NetworkSpec& spec, std::uint64_t seed) {
  check_network_size(spec);
  WeightCodes w;
  for (size_t l = 0; l + 1 < spec.layers.size(); ++l) {
    Rng rng = Rng::stream(seed, fmt::format("weights.layer{}", l));
    CodeMatrix m{static_cast<size_t>(spec.layers[l + 1]), static_cast<size_t>(spec.layers[l]), {}};
    m.codes.resize(m.rows * m.cols);
    for (auto& c : m.codes) c = static_cast<std::int8_t>(static_cast<int>(rng.below(2 * kMaxCode + 1)) - kMaxCode);
    w.push_back(std::move(m));
  }
  return w;
}

WeightCodes constant_weights(const NetworkSpec& spec, int code) {
  if (code < -kMaxCode || code > kMaxCode) throw InputError(fmt::format("weight code {} is outside -7..7", code));
  check_network_size(spec);
  WeightCodes w;
  for (size_t l = 0; l + 1 < spec.layers.size(); ++l) {
    CodeMatrix m{static_cast<size_t>(spec.layers[l + 1]), static_cast<size_t>(spec.layers[l]), {}};
    m.codes.assign(m.rows * m.cols, static_cast<std::int8_t>(code));
    w.push_back(std::move(m));
  }
  return w;
}

void validate_weights(const WeightCodes& w, const NetworkSpec& spec, const std::string& name) {
  if (w.size() != spec.n_weight_layers())
    throw InputError(fmt::format("{}: {} weight matrices for network {} (needs {})", name, w.size(), spec.str(), spec.n_weight_layers()));
  for (size_t l = 0; l < w.size(); ++l) {
    const size_t rows = spec.layers[l + 1], cols = spec.layers[l];
    if (w[l].rows != rows || w[l].cols != cols)
      throw InputError(fmt::format("{}: weight layer {} has shape ({}, {}), expected ({}, {}) = (post-neurons, pre-neurons) for network {}",
                                   name, l, w[l].rows, w[l].cols, rows, cols, spec.str()));
    for (auto c : w[l].codes)
      if (c < -kMaxCode || c > kMaxCode) throw InputError(fmt::format("{}: weight layer {} holds code {} outside -7..7", name, l, int(c)));
  }
}

namespace {

CodeMatrix matrix_from(const std::string& path, const std::vector<double>& values, size_t rows, size_t cols) {
  CodeMatrix m{rows, cols, {}};
  m.codes.resize(values.size());
  for (size_t k = 0; k < values.size(); ++k) {
    const double v = values[k];
    if (!std::isfinite(v) || v != std::round(v))
      throw InputError(fmt::format("{}: row {}, column {}: weight code {} is not an integer (codes are -7..7)", path, k / cols, k % cols, v));
    if (v < -kMaxCode || v > kMaxCode)
      throw InputError(fmt::format("{}: row {}, column {}: weight code {} is outside -7..7 (sign + 3 bits)", path, k / cols, k % cols, v));
    m.codes[k] = static_cast<std::int8_t>(v);
  }
  return m;
}

CodeMatrix load_one(const std::string& path, size_t want_rows, size_t want_cols, size_t layer) {
  std::vector<double> values;
  size_t rows = 0, cols = 0;
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".npy") {
    NpyArray a = read_npy(path);
    if (a.shape.size() != 2) throw InputError(fmt::format("{}: weight layer {} must be a 2-D array, got {} dimensions", path, layer, a.shape.size()));
    rows = a.shape[0];
    cols = a.shape[1];
    values = std::move(a.data);
  } else if (ext == ".csv" || ext == ".txt") {
    CsvTable t = read_csv(path);
    rows = t.rows;
    cols = t.cols;
    values = std::move(t.data);
  } else {
    throw InputError(fmt::format("{}: unknown weight file type '{}' (use .npy or .csv)", path, ext));
  }
  if (rows != want_rows || cols != want_cols)
    throw InputError(fmt::format("{}: weight layer {} has shape ({}, {}), expected ({}, {}) = (post-neurons, pre-neurons)", path, layer, rows, cols,
                                 want_rows, want_cols));
  return matrix_from(path, values, rows, cols);
}

}  // namespace

WeightCodes load_weights(const std::vector<std::string>& paths, const NetworkSpec& spec) {
  check_network_size(spec);
  std::vector<std::string> files = paths;
  if (paths.size() == 1 && std::filesystem::is_directory(paths[0])) {
    files.clear();
    for (size_t l = 0; l < spec.n_weight_layers(); ++l) {
      const std::string npy = fmt::format("{}/weights_{}.npy", paths[0], l), csv = fmt::format("{}/weights_{}.csv", paths[0], l);
      if (file_exists(npy)) files.push_back(npy);
      else if (file_exists(csv)) files.push_back(csv);
      else throw InputError(fmt::format("{}: no weights_{}.npy or weights_{}.csv for weight layer {} of network {}", paths[0], l, l, l, spec.str()));
    }
  }
  if (files.size() != spec.n_weight_layers())
    throw InputError(fmt::format("{} weight files given for network {}, which has {} weight layers", files.size(), spec.str(), spec.n_weight_layers()));
  WeightCodes w;
  for (size_t l = 0; l < files.size(); ++l) w.push_back(load_one(files[l], spec.layers[l + 1], spec.layers[l], l));
  return w;
}

void save_weights(const WeightCodes& w, const std::string& dir) {
  make_dirs(dir);
  for (size_t l = 0; l < w.size(); ++l) {
    std::vector<std::int32_t> v(w[l].codes.begin(), w[l].codes.end());
    write_npy(fmt::format("{}/weights_{}.npy", dir, l), v, {w[l].rows, w[l].cols});
  }
}

}  // namespace nnspice::netlist

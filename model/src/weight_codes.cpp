#include "nnspice/model/weight_codes.hpp"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <filesystem>

#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"

namespace nnspice::model {

namespace {

CodeMatrix read_one(const std::string& path, int max_code) {
  std::vector<double> values;
  std::size_t rows = 0, cols = 0;
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".npy") {
    NpyArray a = read_npy(path);
    if (a.shape.size() != 2)
      throw InputError(fmt::format("{}: a weight layer must be a 2-d array (post-neurons, pre-neurons), found {} dimensions", path,
                                   a.shape.size()));
    rows = a.shape[0];
    cols = a.shape[1];
    values = std::move(a.data);
  } else if (ext == ".csv" || ext == ".txt") {
    CsvTable t = read_csv(path);
    if (!t.header.empty()) throw InputError(fmt::format("{}: weight CSV files have no header line (found '{}')", path, t.header.front()));
    rows = t.rows;
    cols = t.cols;
    values = std::move(t.data);
  } else {
    throw InputError(fmt::format("{}: unknown weight file type '{}' (use .npy or .csv)", path, ext));
  }
  if (rows == 0 || cols == 0) throw InputError(fmt::format("{}: empty weight matrix ({} x {})", path, rows, cols));
  CodeMatrix m{rows, cols, {}};
  m.codes.resize(values.size());
  for (std::size_t k = 0; k < values.size(); ++k) {
    const double v = values[k];
    if (!std::isfinite(v) || v != std::round(v))
      throw InputError(fmt::format("{}: row {}, column {}: weight code {} is not an integer (codes are -{}..{})", path, k / cols, k % cols, v,
                                   max_code, max_code));
    if (std::fabs(v) > max_code)
      throw InputError(fmt::format("{}: row {}, column {}: weight code {} is outside -{}..{} (sign + {} bits)", path, k / cols, k % cols, v,
                                   max_code, max_code, std::bit_width(static_cast<unsigned>(max_code))));
    m.codes[k] = static_cast<std::int8_t>(v);
  }
  return m;
}

// The file of weight layer l in `dir`: weights_<l>.npy or .csv ("" when neither; both is an error).
std::string layer_file(const std::string& dir, std::size_t l) {
  const std::string npy = fmt::format("{}/weights_{}.npy", dir, l), csv = fmt::format("{}/weights_{}.csv", dir, l);
  const bool has_npy = file_exists(npy), has_csv = file_exists(csv);
  if (has_npy && has_csv)
    throw InputError(fmt::format("{} and {}: two files for weight layer {} (keep one)", npy, csv, l));
  return has_npy ? npy : has_csv ? csv : std::string();
}

}  // namespace

WeightCodes read_weight_codes(const std::vector<std::string>& paths, const Layers& layers, int max_code) {
  const std::size_t n_expected = layers.empty() ? 0 : layers.size() - 1;
  std::vector<std::string> files = paths;
  if (paths.size() == 1 && !std::filesystem::exists(paths[0]) && std::filesystem::path(paths[0]).extension().empty())
    throw InputError(fmt::format("{}: no such folder (no weights_0.npy or weights_0.csv found)", paths[0]));
  if (paths.size() == 1 && std::filesystem::is_directory(paths[0])) {
    files.clear();
    for (std::size_t l = 0; layers.empty() || l < n_expected; ++l) {
      std::string f = layer_file(paths[0], l);
      if (f.empty()) {
        if (layers.empty() && l > 0) break;
        throw InputError(layers.empty() ? fmt::format("{}: no weights_0.npy (or weights_0.csv) found", paths[0])
                                        : fmt::format("{}: no weights_{}.npy or weights_{}.csv for weight layer {} of network {}",
                                                      paths[0], l, l, l, format_layers(layers)));
      }
      files.push_back(std::move(f));
    }
    if (!layers.empty() && !layer_file(paths[0], n_expected).empty())
      throw InputError(fmt::format("{}: holds weights_{} but network {} has only {} weight layers", paths[0], n_expected,
                                   format_layers(layers), n_expected));
  }
  if (files.empty()) throw InputError("no weight files given");
  if (!layers.empty() && files.size() != n_expected)
    throw InputError(fmt::format("{} weight files given for network {}, which has {} weight layers", files.size(), format_layers(layers),
                                 n_expected));
  WeightCodes w;
  for (std::size_t l = 0; l < files.size(); ++l) {
    CodeMatrix m = read_one(files[l], max_code);
    if (!layers.empty()) {
      const std::size_t rows = static_cast<std::size_t>(layers[l + 1]), cols = static_cast<std::size_t>(layers[l]);
      if (m.rows != rows || m.cols != cols)
        throw InputError(fmt::format("{}: weight layer {} has shape ({}, {}), expected ({}, {}) = (post-neurons, pre-neurons) for network {}",
                                     files[l], l, m.rows, m.cols, rows, cols, format_layers(layers)));
    } else if (!w.empty() && w.back().rows != m.cols) {
      throw InputError(fmt::format("{}: shape ({}, {}) does not chain with the previous layer's ({}, {}): expected {} columns", files[l],
                                   m.rows, m.cols, w.back().rows, w.back().cols, w.back().rows));
    }
    w.push_back(std::move(m));
  }
  if (layers.empty()) {  // the layer-spec bounds hold for networks read from weights too
    std::vector<long long> sizes{static_cast<long long>(w.front().cols)};
    for (const auto& m : w) sizes.push_back(static_cast<long long>(m.rows));
    check_layers(sizes, fmt::format("{}: layers of the weights", paths[0]));
  }
  return w;
}

std::vector<std::string> write_weight_codes(const std::string& dir, const WeightCodes& codes) {
  make_dirs(dir);
  std::vector<std::string> files;
  for (std::size_t l = 0; l < codes.size(); ++l) {
    std::vector<std::int32_t> v(codes[l].codes.begin(), codes[l].codes.end());
    files.push_back(fmt::format("{}/weights_{}.npy", dir, l));
    write_npy(files.back(), v, {codes[l].rows, codes[l].cols});
  }
  return files;
}

void check_weight_codes(const WeightCodes& w, const Layers& layers, const std::string& name, int max_code) {
  if (w.size() + 1 != layers.size())
    throw InputError(fmt::format("{}: {} weight matrices for network {} (needs {})", name, w.size(), format_layers(layers), layers.size() - 1));
  for (std::size_t l = 0; l < w.size(); ++l) {
    const std::size_t rows = static_cast<std::size_t>(layers[l + 1]), cols = static_cast<std::size_t>(layers[l]);
    if (w[l].rows != rows || w[l].cols != cols || w[l].codes.size() != rows * cols)
      throw InputError(fmt::format("{}: weight layer {} has shape ({}, {}), expected ({}, {}) = (post-neurons, pre-neurons) for network {}",
                                   name, l, w[l].rows, w[l].cols, rows, cols, format_layers(layers)));
    for (std::size_t k = 0; k < w[l].codes.size(); ++k)
      if (w[l].codes[k] < -max_code || w[l].codes[k] > max_code)
        throw InputError(fmt::format("{}: weight layer {}, row {}, column {}: code {} is outside -{}..{}", name, l, k / cols, k % cols,
                                     int(w[l].codes[k]), max_code, max_code));
  }
}

Layers layers_of(const WeightCodes& codes) {
  Layers l;
  if (codes.empty()) return l;
  l.push_back(static_cast<int>(codes.front().cols));
  for (const auto& k : codes) l.push_back(static_cast<int>(k.rows));
  return l;
}

}  // namespace nnspice::model

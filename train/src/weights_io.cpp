#include "nnspice/train/weights_io.hpp"

#include <fmt/format.h>

#include <cmath>

#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"

namespace nnspice::train {

std::vector<std::string> write_weight_codes(const std::string& dir, const Network<float>& net) {
  std::vector<std::string> files;
  for (std::size_t l = 0; l < net.num_layers(); ++l) {
    const Eigen::MatrixXi k = net.codes(l);
    std::vector<std::int32_t> v(static_cast<std::size_t>(k.size()));
    for (Eigen::Index i = 0; i < k.rows(); ++i)
      for (Eigen::Index j = 0; j < k.cols(); ++j) v[static_cast<std::size_t>(i * k.cols() + j)] = k(i, j);  // C order
    const std::string path = fmt::format("{}/weights_{}.npy", dir, l);
    write_npy(path, v, {static_cast<std::size_t>(k.rows()), static_cast<std::size_t>(k.cols())});
    files.push_back(path);
  }
  return files;
}

std::vector<Eigen::MatrixXi> read_weight_codes(const std::string& dir, int max_code) {
  std::vector<Eigen::MatrixXi> out;
  for (int l = 0;; ++l) {
    const std::string npy = fmt::format("{}/weights_{}.npy", dir, l), csv = fmt::format("{}/weights_{}.csv", dir, l);
    std::string path;
    std::size_t rows = 0, cols = 0;
    std::vector<double> data;
    if (file_exists(npy)) {
      path = npy;
      NpyArray a = read_npy(npy);
      if (a.shape.size() != 2)
        throw InputError(fmt::format("{}: expected a 2-d array (N_out, N_in), found {} dimensions", npy, a.shape.size()));
      rows = a.shape[0];
      cols = a.shape[1];
      data = std::move(a.data);
    } else if (file_exists(csv)) {
      path = csv;
      CsvTable t = read_csv(csv);
      if (!t.header.empty()) throw InputError(fmt::format("{}: weight CSV files have no header line", csv));
      rows = t.rows;
      cols = t.cols;
      data = std::move(t.data);
    } else {
      break;
    }
    if (rows == 0 || cols == 0) throw InputError(fmt::format("{}: empty weight matrix", path));
    Eigen::MatrixXi k(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) {
        const double v = data[i * cols + j];
        if (!(v == std::round(v)) || std::fabs(v) > max_code)
          throw InputError(fmt::format("{}: entry [{}, {}] = {} is not an integer code in -{}..{}", path, i, j, v,
                                       max_code, max_code));
        k(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = static_cast<int>(v);
      }
    if (!out.empty() && out.back().rows() != k.cols())
      throw InputError(fmt::format("{}: shape ({}, {}) does not chain with the previous layer's ({}, {}): "
                                   "expected {} columns",
                                   path, rows, cols, out.back().rows(), out.back().cols(), out.back().rows()));
    out.push_back(std::move(k));
  }
  if (out.empty()) throw InputError(fmt::format("{}: no weights_0.npy (or weights_0.csv) found", dir));
  return out;
}

Layers layers_of(const std::vector<Eigen::MatrixXi>& codes) {
  Layers l;
  l.push_back(static_cast<int>(codes.front().cols()));
  for (const auto& k : codes) l.push_back(static_cast<int>(k.rows()));
  return l;
}

}  // namespace nnspice::train

#include "nnspice/train/weights_io.hpp"

#include <fmt/format.h>

#include "nnspice/model/weight_codes.hpp"

namespace nnspice::train {

namespace {

model::WeightCodes to_model(const std::vector<Eigen::MatrixXi>& codes) {
  model::WeightCodes w;
  for (const auto& k : codes) {
    model::CodeMatrix m{static_cast<std::size_t>(k.rows()), static_cast<std::size_t>(k.cols()), {}};
    m.codes.resize(m.rows * m.cols);
    for (Eigen::Index i = 0; i < k.rows(); ++i)
      for (Eigen::Index j = 0; j < k.cols(); ++j) m.codes[static_cast<std::size_t>(i * k.cols() + j)] = static_cast<std::int8_t>(k(i, j));
    w.push_back(std::move(m));
  }
  return w;
}

}  // namespace

std::vector<std::string> write_weight_codes(const std::string& dir, const Network<float>& net) {
  std::vector<Eigen::MatrixXi> codes;
  for (std::size_t l = 0; l < net.num_layers(); ++l) codes.push_back(net.codes(l));
  return model::write_weight_codes(dir, to_model(codes));
}

std::vector<Eigen::MatrixXi> read_weight_codes(const std::string& dir, int max_code) {
  std::vector<Eigen::MatrixXi> out;
  for (const model::CodeMatrix& m : model::read_weight_codes({dir}, {}, max_code)) {
    Eigen::MatrixXi k(static_cast<Eigen::Index>(m.rows), static_cast<Eigen::Index>(m.cols));
    for (std::size_t i = 0; i < m.rows; ++i)
      for (std::size_t j = 0; j < m.cols; ++j) k(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = m.at(i, j);
    out.push_back(std::move(k));
  }
  return out;
}

Layers layers_of(const std::vector<Eigen::MatrixXi>& codes) { return model::layers_of(to_model(codes)); }

}  // namespace nnspice::train

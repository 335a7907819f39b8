// Weight-code files (docs/conventions.md): weights_<l>.npy, int32 codes −K … K, shape (N_{l+1}, N_l);
// CSV files of the same shape (no header) are accepted when reading. And the learning-curve figure.
#pragma once

#include <Eigen/Core>

#include <string>
#include <vector>

#include "nnspice/train/trainer.hpp"

namespace nnspice::train {

/// Writes DIR/weights_<l>.npy for every layer (codes of the network's quantised weights; model::write_weight_codes).
std::vector<std::string> write_weight_codes(const std::string& dir, const Network<float>& net);

/// Reads DIR/weights_0.npy … (or .csv) until the first missing index with model::read_weight_codes (the
/// one reader): integers in −max_code … max_code, shapes that chain; errors name the file and entry.
std::vector<Eigen::MatrixXi> read_weight_codes(const std::string& dir, int max_code = 7);

/// Layer sizes implied by weight matrices of shapes (N_{l+1}, N_l).
Layers layers_of(const std::vector<Eigen::MatrixXi>& codes);

/// Writes DIR/learning_curve.csv (accuracies per epoch) and its figure DIR/learning_curve.{png,svg}; the
/// script DIR/figures/learning_curve.gp reads ../learning_curve.csv. Without gnuplot: a warning, CSV and
/// script stay. Returns false when no image was produced.
bool plot_learning_curve(const std::string& dir, const std::vector<EpochRecord>& history, const std::string& title);

}  // namespace nnspice::train

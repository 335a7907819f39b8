// The seed experiments of Ruiz-Euler et al. 2021 on a DNPU surrogate (docs/dnpu.md §experiments):
// capacity / VC dimension of one node (data on e1, e2; binary labelings of fixed points; batch norm +
// logistic decision, BCE, Adam), and the concentric-ring task for a single node vs a 2-2-1 network
// (negative Fisher loss with output noise, then a logistic readout; many random restarts).
// Restarts / labelings run in parallel (OpenMP) with per-task RNG streams: results do not depend on threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nnspice/dnpu/surrogate.hpp"

namespace nnspice::dnpu {

using ProgressFn = std::function<void(std::size_t done, std::size_t total)>;

struct CapacityOptions {
  std::size_t n_min = 4, n_max = 6;        ///< numbers of points N (the paper: 4 ... 10)
  std::size_t epochs = 1500;
  double learning_rate = 0.03, beta1 = 0.995, beta2 = 0.999;
  std::size_t attempts = 15;               ///< random restarts per labeling before giving up
  double penalty = 1.0;                    ///< weight of the out-of-range penalty on the controls
  bool clamp_controls = true;              ///< project the controls onto their ranges after every step
  bool stop_when_found = true;             ///< end an attempt as soon as all N points are classified
  std::vector<int> data_electrodes{1, 2};
  std::uint64_t seed = 1;
  void validate() const;
};

struct CapacityPoint {
  std::size_t n = 0, labelings = 0, found = 0;
  double capacity = 0;               ///< found / labelings
  double mean_attempts_found = 0;    ///< attempts used by the labelings that were found
  std::vector<std::uint32_t> missed; ///< labelings (bit k = label of point k) not found
};

struct CapacityResult {
  std::vector<CapacityPoint> points;
  std::size_t vc_dimension_lower_bound = 0;  ///< largest N (from n_min, consecutive) with capacity 1
};

/// The paper's points (V) on the data electrodes; the first n are used.
std::vector<std::array<double, 2>> capacity_points();
CapacityResult run_capacity(const SurrogateModel& m, const CapacityOptions& o, const ProgressFn& progress = {});

struct RingOptions {
  std::size_t n_points = 400;      ///< half train, half test; classes balanced
  double gap_V = 0.00625;          ///< radial gap between the classes, in volts on the data electrodes
  std::size_t epochs = 400;
  double learning_rate = 0.0065;
  double noise_var_nA2 = 1.97;     ///< output noise variance during training (noise-aware training)
  double penalty = 1.0;
  bool clamp_controls = true;      ///< project the controls onto their ranges after every Adam step
  std::size_t restarts = 100;
  std::string architecture = "single";  ///< "single" or "2-2-1"
  std::string optimizer = "adam";       ///< "adam" or "ga" (single only; fitness = Fisher)
  std::size_t ga_generations = 60;
  std::size_t first_restart = 0;  ///< restart r draws from stream first_restart + r (run restarts in chunks)
  std::uint64_t seed = 1;
  void validate() const;
};

struct RingRestart {
  double train_fisher = 0;     ///< Fisher criterion of the trained output on the training set (>= 0)
  double train_accuracy = 0, test_accuracy = 0;
  std::vector<double> controls_V;  ///< all nodes' control voltages, node after node
  double max_range_violation_V = 0;  ///< largest distance of a trained control outside its range (0 = all inside)
};

struct RingResult {
  std::vector<RingRestart> restarts;
  std::size_t best_by_fisher = 0, best_by_test = 0;
  double data_unit_V = 0;  ///< volts per unit of the normalised data (the gap in data units = gap_V / this)
};

/// Draws the data set: x in [-1, 1]^2 (normalised), labels; `gap` in normalised units.
void ring_data(std::size_t n, double gap, std::uint64_t seed, Eigen::MatrixXd& x, Eigen::VectorXi& labels);
RingResult run_ring(const SurrogateModel& m, const RingOptions& o, const ProgressFn& progress = {});
/// Volts per unit of normalised ring data: data in [-1, 1] map onto e1's range, so one unit is half its width.
double ring_data_unit_V(const SurrogateModel& m);

}  // namespace nnspice::dnpu

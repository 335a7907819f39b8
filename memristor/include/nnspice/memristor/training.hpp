// In-place training of a crossbar layer with pulsed, asymmetric device updates (docs/memristor.md §training):
// a single-layer softmax classifier y = W [x; 1] whose weights live on device arrays, trained sample by sample
// with rank-1 pulsed updates (per-device pulse counts by stochastic rounding). Rules:
//   ideal      floating-point SGD (the reference);
//   sgd        plain in-place SGD on one array C (reference device at mid-window): drifts to the symmetry point;
//   tiki-taka  Gokmen & Haensch 2020: gradient pulses on A (reference = A's symmetry point), W = gamma A + C,
//              A's columns read and transferred to C in turn;
//   shd        our Stochastic-Hamiltonian-Descent-style rule (Onen et al. 2022; formulation in the docs): A holds a
//              momentum p (its asymmetric drift adds to an explicit friction), W = C = position q, every
//              transfer_every samples q += eta_q p and p -= friction p for all weights, with an update-energy term
//              lambda |pulses| in the objective (soft threshold on the pulse counts).
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nnspice/memristor/device.hpp"

namespace nnspice::memristor {

enum class UpdateRule { ideal, sgd, tiki_taka, shd };
UpdateRule parse_update_rule(const std::string& name);  ///< "ideal", "sgd", "tiki-taka", "shd"; else InputError
std::string to_string(UpdateRule r);

struct InPlaceOptions {
  UpdateRule rule = UpdateRule::sgd;
  std::size_t epochs = 3;
  std::size_t classes = 10;
  double learning_rate = 0.01;      ///< per-sample SGD step (weight units per unit gradient)
  double w_scale = 2.0;             ///< weight of a full-window conductance difference (w = w_scale (g - g_ref)/(g_max - g_min))
  long max_pulses = 31;             ///< pulses per device per update (the pulse-train length)
  double gamma = 0.5;               ///< tiki-taka: W = gamma A + C
  double transfer_lr = 0.01;        ///< tiki-taka: C update = transfer_lr x (read of a column of A)
  std::size_t transfer_columns = 4; ///< tiki-taka: columns of A transferred after every sample
  double shd_lr = 0.1;              ///< shd: q += shd_lr p at every transfer
  std::size_t transfer_every = 10;  ///< shd: samples between two full transfers
  double pulse_cost = 1.0;          ///< shd: lambda of the update-energy term, in pulses (soft threshold)
  double friction = 0.0;            ///< shd: explicit friction, p -= friction p at every transfer (pulses on A)
  std::uint64_t seed = 1;
  void validate() const;
};

struct InPlaceEpoch {
  double loss = 0, train_accuracy = 0, test_accuracy = 0;
  std::uint64_t pulses = 0;         ///< programming pulses applied in this epoch (all arrays)
};

struct InPlaceResult {
  std::vector<InPlaceEpoch> history;
  double test_accuracy = 0;                    ///< after the last epoch
  std::uint64_t pulses = 0;                    ///< total programming pulses
  double update_energy_J = 0;                  ///< pulses x energy_per_pulse_J
  double symmetry_point_mean = 0;              ///< mean symmetry point (normalised state) of the trained devices
  Eigen::MatrixXd weights;                     ///< final effective weights (classes x (inputs + 1), last column = bias)
};

/// x: (inputs x samples), labels 0..classes-1. Test accuracy is measured after every epoch (noiseless weights
/// plus read noise). progress(epoch, samples_done, samples_per_epoch).
InPlaceResult train_in_place(const DeviceParams& device, const Eigen::MatrixXd& x_train, const std::vector<int>& y_train,
                             const Eigen::MatrixXd& x_test, const std::vector<int>& y_test, const InPlaceOptions& o,
                             const std::function<void(std::size_t, std::size_t, std::size_t)>& progress = {});

}  // namespace nnspice::memristor

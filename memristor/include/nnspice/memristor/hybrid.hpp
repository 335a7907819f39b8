// The hybrid classifier: a memristor crossbar as the 784 -> 10*field linear layer of the 10-DNPU MNIST
// classifier (nnspice/dnpu/linear_dnpu.hpp). Hardware-aware training: every training batch goes through a
// freshly drawn and programmed crossbar (nearest levels, d2d, programming noise, DAC/ADC, read noise), the
// gradient passes straight through to the floating-point weights; validation and test run on the chip of
// chip_seed (never used in training), programmed once per evaluation. Energy per inference from the device figures.
#pragma once

#include <Eigen/Dense>

#include <functional>
#include <optional>

#include "nnspice/dnpu/linear_dnpu.hpp"
#include "nnspice/memristor/crossbar.hpp"
#include "nnspice/memristor/device.hpp"

namespace nnspice::memristor {

struct HybridOptions {
  dnpu::LinearDnpuOptions dnpu;      ///< the classifier and its training (dnpu.linear_layer is set by train_hybrid)
  CrossbarOptions crossbar;          ///< x_max = 0.5 for pixels in [-0.5, 0.5]
  bool hardware_aware = true;        ///< false: train the ideal layer, then program it (test on the chip only)
  std::uint64_t chip_seed = 1;       ///< d2d draw and programming noise of the evaluated chip
  double dnpu_time_s = 1e-6;         ///< assumed duration of one DNPU evaluation (energy; docs/memristor.md)
  double dnpu_bias_V = 1.0;          ///< assumed voltage across which a DNPU's output current flows (energy)
};

struct HybridResult {
  dnpu::LinearDnpuResult train;      ///< test_accuracy: on the evaluated chip (or ideal when no device)
  ReadEnergy crossbar_energy;        ///< per inference (mean over the test set)
  double dnpu_energy_J = 0;          ///< per inference, 10 DNPUs: |I_out| x dnpu_bias_V x dnpu_time_s (assumption)
  double weight_rms_error = 0;       ///< rms(W_programmed - W) / rms(W) on the evaluated chip
  std::size_t tiles = 0, devices = 0;
  double mean_abs_dnpu_current_nA = 0;
};

/// device = nullopt: the ideal linear layer (the reference). progress as in train_linear_dnpu.
HybridResult train_hybrid(const dnpu::SurrogateModel& m, const std::optional<DeviceParams>& device, const Eigen::MatrixXd& x_train,
                          const std::vector<int>& y_train, const Eigen::MatrixXd& x_val, const std::vector<int>& y_val, const Eigen::MatrixXd& x_test,
                          const std::vector<int>& y_test, const HybridOptions& o,
                          const std::function<void(std::size_t, std::size_t, std::size_t)>& progress = {});

}  // namespace nnspice::memristor

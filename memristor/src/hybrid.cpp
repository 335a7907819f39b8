#include "nnspice/memristor/hybrid.hpp"

#include <fmt/format.h>

#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/common/rng.hpp"

namespace nnspice::memristor {

HybridResult train_hybrid(const dnpu::SurrogateModel& m, const std::optional<DeviceParams>& device, const Eigen::MatrixXd& xtr,
                          const std::vector<int>& ytr, const Eigen::MatrixXd& xval, const std::vector<int>& yval, const Eigen::MatrixXd& xte,
                          const std::vector<int>& yte, const HybridOptions& o, const std::function<void(std::size_t, std::size_t, std::size_t)>& progress) {
  o.crossbar.validate();
  if (!(o.dnpu_time_s >= 0) || !(o.dnpu_bias_V >= 0)) throw InputError("HybridOptions: dnpu_time_s and dnpu_bias_V must be >= 0");
  HybridResult res;
  dnpu::LinearDnpuOptions d = o.dnpu;
  const std::size_t hidden = d.classes * d.field, n_in = static_cast<std::size_t>(xtr.rows());
  std::unique_ptr<CrossbarLayer> train_chip, eval_chip;
  const Eigen::MatrixXd calib = xtr.leftCols(std::min<Eigen::Index>(256, xtr.cols()));
  std::uint64_t batch_counter = 0;
  Rng train_read = Rng::stream(o.chip_seed, "memristor/hybrid/train-read");
  if (device) {
    train_chip = std::make_unique<CrossbarLayer>(*device, o.crossbar, hidden, n_in, o.chip_seed + 1000003, "hybrid-train");
    eval_chip = std::make_unique<CrossbarLayer>(*device, o.crossbar, hidden, n_in, o.chip_seed, "hybrid");
    d.linear_layer = [&](const Eigen::MatrixXd& w, const Eigen::MatrixXd& x, dnpu::LinearPhase phase) -> Eigen::MatrixXd {
      if (phase == dnpu::LinearPhase::train) {
        if (!o.hardware_aware) return w * x;
        // a fresh chip per batch (d2d, stuck devices, programming noise): training sees the device family, not one chip
        const std::uint64_t s = o.chip_seed * 7919 + 1000003 + ++batch_counter;
        train_chip = std::make_unique<CrossbarLayer>(*device, o.crossbar, hidden, n_in, s, "hybrid-train");
        train_chip->program(w, s);
        train_chip->calibrate_adc(x);
        return train_chip->forward(x, &train_read);
      }
      eval_chip->program(w, o.chip_seed);
      eval_chip->calibrate_adc(calib);
      Rng read = Rng::stream(o.chip_seed, phase == dnpu::LinearPhase::test ? "memristor/hybrid/test-read" : "memristor/hybrid/val-read");
      return eval_chip->forward(x, &read);
    };
  }
  res.train = dnpu::train_linear_dnpu(m, xtr, ytr, xval, yval, xte, yte, d, progress);
  if (device) {
    const Eigen::MatrixXd& w = res.train.linear_weights;
    eval_chip->program(w, o.chip_seed);
    eval_chip->calibrate_adc(calib);
    const double rms = std::sqrt(w.squaredNorm() / static_cast<double>(w.size()));
    res.weight_rms_error = std::sqrt((eval_chip->effective_weights() - w).squaredNorm() / static_cast<double>(w.size())) / (rms > 0 ? rms : 1.0);
    res.crossbar_energy = eval_chip->read_energy(xte);
    res.tiles = eval_chip->tiles_in() * eval_chip->tiles_out();
    res.devices = eval_chip->devices();
  }
  // DNPU energy (assumption): each node's output current |I| flows across dnpu_bias_V for dnpu_time_s
  res.mean_abs_dnpu_current_nA = res.train.mean_abs_output_nA;
  res.dnpu_energy_J = static_cast<double>(d.classes) * res.mean_abs_dnpu_current_nA * 1e-9 * o.dnpu_bias_V * o.dnpu_time_s;
  return res;
}

}  // namespace nnspice::memristor

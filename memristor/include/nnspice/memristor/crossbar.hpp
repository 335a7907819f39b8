// A crossbar as a linear layer y = W x: signed weights as conductance pairs (G+ - G-, differential
// columns), tiling of large layers over tile_rows x tile_cols arrays (digital sum of the tiles' ADC codes),
// DAC on the inputs (read voltages), ADC on each tile's differential column current, read noise, and the
// energy of one read from the device conductances. Units: V, A, S, s, J. Layout as PyTorch: W is (out, in).
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <string>

#include "nnspice/common/rng.hpp"
#include "nnspice/memristor/device.hpp"

namespace nnspice::memristor {

struct CrossbarOptions {
  std::size_t tile_rows = 256;     ///< inputs (rows) per physical array
  std::size_t tile_cols = 64;      ///< weights (differential column pairs) per physical array
  int dac_bits = 8;                ///< signed input DAC resolution (0 = ideal)
  int adc_bits = 8;                ///< signed ADC resolution of each differential column (0 = ideal)
  double v_read_V = 0.2;           ///< read voltage for |x| = x_max (bipolar reads)
  double x_max = 1.0;              ///< input magnitude mapped to v_read_V (larger inputs are clipped)
  double w_max = 0.0;              ///< weight mapped to g_max - g_min; 0 = max |W| at programming time
  double adc_headroom = 1.0;       ///< ADC full scale = headroom x the largest |column current| of the calibration batch
  double t_read_s = 1e-8;          ///< duration of one read (energy)
  double dac_energy_J = 5e-14;     ///< per input conversion (assumption, docs/memristor.md)
  double adc_energy_J = 1e-12;     ///< per column conversion (assumption: 8-bit SAR class)
  void validate() const;
};

struct ReadEnergy {
  double array_J = 0, dac_J = 0, adc_J = 0;  ///< per input vector (mean over the batch)
  double total_J() const { return array_J + dac_J + adc_J; }
};

class CrossbarLayer {
 public:
  CrossbarLayer(const DeviceParams& device, const CrossbarOptions& options, std::size_t out, std::size_t in, std::uint64_t seed,
                const std::string& name = "layer");

  /// Programs W (out x in) into the conductance pairs (write-verify to the nearest level + programming noise;
  /// `program_seed` draws that noise, the d2d variation is fixed at construction).
  void program(const Eigen::MatrixXd& w, std::uint64_t program_seed);
  /// Sets the ADC full scale from a calibration batch x (in x samples) through the programmed array.
  void calibrate_adc(const Eigen::MatrixXd& x);
  /// y = W_hw x (out x samples) in weight units, through DAC, devices, read noise (when rng != nullptr), ADC.
  Eigen::MatrixXd forward(const Eigen::MatrixXd& x, Rng* read_rng) const;
  /// (G+ - G-) / g_unit: the weights the devices hold (no DAC/ADC/noise).
  Eigen::MatrixXd effective_weights() const;
  const Eigen::MatrixXd& g_pos() const { return gp_; }
  const Eigen::MatrixXd& g_neg() const { return gn_; }
  /// Energy per input vector (mean over the columns of x).
  ReadEnergy read_energy(const Eigen::MatrixXd& x) const;
  std::size_t tiles_in() const { return (in_ + o_.tile_rows - 1) / o_.tile_rows; }
  std::size_t tiles_out() const { return (out_ + o_.tile_cols - 1) / o_.tile_cols; }
  std::size_t devices() const { return 2 * in_ * out_; }
  double g_unit_S() const { return g_unit_; }
  double adc_full_scale_A() const { return i_fs_; }
  const CrossbarOptions& options() const { return o_; }

 private:
  Eigen::MatrixXd dac(const Eigen::MatrixXd& x) const;  // volts
  DeviceParams d_;
  CrossbarOptions o_;
  std::size_t out_, in_;
  DeviceArray pos_, neg_;
  Eigen::MatrixXd gp_, gn_;  // (out x in), siemens
  double g_unit_ = 0, i_fs_ = 0;
};

}  // namespace nnspice::memristor

#include "nnspice/memristor/crossbar.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "nnspice/common/error.hpp"

namespace nnspice::memristor {

void CrossbarOptions::validate() const {
  auto bad = [](const char* f, const std::string& v, const char* c) {
    throw InputError(fmt::format("CrossbarOptions::{} = {}. Violated constraint: {}", f, v, c));
  };
  if (tile_rows < 1) bad("tile_rows", std::to_string(tile_rows), "tile_rows >= 1");
  if (tile_cols < 1) bad("tile_cols", std::to_string(tile_cols), "tile_cols >= 1");
  if (dac_bits < 0 || dac_bits == 1 || dac_bits > 24) bad("dac_bits", std::to_string(dac_bits), "dac_bits = 0 (ideal) or 2..24");
  if (adc_bits < 0 || adc_bits == 1 || adc_bits > 24) bad("adc_bits", std::to_string(adc_bits), "adc_bits = 0 (ideal) or 2..24");
  if (!(v_read_V > 0 && v_read_V <= 5)) bad("v_read_V", fmt::format("{}", v_read_V), "0 < v_read_V <= 5");
  if (!(x_max > 0)) bad("x_max", fmt::format("{}", x_max), "x_max > 0");
  if (!(w_max >= 0)) bad("w_max", fmt::format("{}", w_max), "w_max >= 0");
  if (!(adc_headroom > 0)) bad("adc_headroom", fmt::format("{}", adc_headroom), "adc_headroom > 0");
  if (!(t_read_s > 0)) bad("t_read_s", fmt::format("{}", t_read_s), "t_read_s > 0");
  if (!(dac_energy_J >= 0)) bad("dac_energy_J", fmt::format("{}", dac_energy_J), "dac_energy_J >= 0");
  if (!(adc_energy_J >= 0)) bad("adc_energy_J", fmt::format("{}", adc_energy_J), "adc_energy_J >= 0");
}

CrossbarLayer::CrossbarLayer(const DeviceParams& device, const CrossbarOptions& options, std::size_t out, std::size_t in, std::uint64_t seed,
                             const std::string& name)
    : d_(device), o_(options), out_(out), in_(in), pos_(device, out * in, seed, name + "/pos"), neg_(device, out * in, seed, name + "/neg"),
      gp_(Eigen::MatrixXd::Constant(static_cast<Eigen::Index>(out), static_cast<Eigen::Index>(in), device.g_min_S)), gn_(gp_) {
  o_.validate();
  device.validate();
  if (out < 1 || in < 1) throw InputError(fmt::format("crossbar layer {}: shape {} x {} must be at least 1 x 1", name, out, in));
}

void CrossbarLayer::program(const Eigen::MatrixXd& w, std::uint64_t program_seed) {
  if (w.rows() != static_cast<Eigen::Index>(out_) || w.cols() != static_cast<Eigen::Index>(in_))
    throw InputError(fmt::format("crossbar: weights are {} x {}, the layer is {} x {}", w.rows(), w.cols(), out_, in_));
  const double wm = o_.w_max > 0 ? o_.w_max : w.cwiseAbs().maxCoeff();
  g_unit_ = (d_.g_max_S - d_.g_min_S) / (wm > 0 ? wm : 1.0);
  Rng rng = Rng::stream(program_seed, "memristor/program");
  for (Eigen::Index c = 0; c < w.cols(); ++c)
    for (Eigen::Index r = 0; r < w.rows(); ++r) {
      const auto i = static_cast<std::size_t>(c * w.rows() + r);
      const double dg = std::clamp(w(r, c), -wm, wm) * g_unit_;
      pos_.program(i, d_.g_min_S + std::max(dg, 0.0), rng);
      neg_.program(i, d_.g_min_S + std::max(-dg, 0.0), rng);
      gp_(r, c) = pos_.conductance(i);
      gn_(r, c) = neg_.conductance(i);
    }
  i_fs_ = 0;
}

Eigen::MatrixXd CrossbarLayer::effective_weights() const { return (gp_ - gn_) / g_unit_; }

Eigen::MatrixXd CrossbarLayer::dac(const Eigen::MatrixXd& x) const {
  const double vs = o_.v_read_V / o_.x_max;
  Eigen::MatrixXd v = x.cwiseMax(-o_.x_max).cwiseMin(o_.x_max);
  if (o_.dac_bits > 0) {
    const double levels = std::ldexp(1.0, o_.dac_bits - 1) - 1;
    v = ((v / o_.x_max * levels).array().round() / levels * o_.x_max).matrix();
  }
  return v * vs;
}

void CrossbarLayer::calibrate_adc(const Eigen::MatrixXd& x) {
  const Eigen::MatrixXd v = dac(x);
  double m = 0;
  for (std::size_t t = 0; t < tiles_in(); ++t) {
    const auto r0 = static_cast<Eigen::Index>(t * o_.tile_rows), nr = static_cast<Eigen::Index>(std::min(o_.tile_rows, in_ - t * o_.tile_rows));
    const Eigen::MatrixXd i = (gp_.middleCols(r0, nr) - gn_.middleCols(r0, nr)) * v.middleRows(r0, nr);
    m = std::max(m, i.cwiseAbs().maxCoeff());
  }
  i_fs_ = o_.adc_headroom * (m > 0 ? m : 1e-30);
}

Eigen::MatrixXd CrossbarLayer::forward(const Eigen::MatrixXd& x, Rng* read_rng) const {
  if (x.rows() != static_cast<Eigen::Index>(in_)) throw InputError(fmt::format("crossbar: input has {} rows, the layer {} inputs", x.rows(), in_));
  const Eigen::MatrixXd v = dac(x);
  const double vs = o_.v_read_V / o_.x_max;
  const double sd_g = d_.read_noise_sd * d_.g_max_S;
  const double levels = o_.adc_bits > 0 ? std::ldexp(1.0, o_.adc_bits - 1) - 1 : 0;
  double i_fs = i_fs_;
  if (o_.adc_bits > 0 && !(i_fs > 0)) i_fs = static_cast<double>(std::min(o_.tile_rows, in_)) * o_.v_read_V * (d_.g_max_S - d_.g_min_S) * 0.25;
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(out_), x.cols());
  for (std::size_t t = 0; t < tiles_in(); ++t) {
    const auto r0 = static_cast<Eigen::Index>(t * o_.tile_rows), nr = static_cast<Eigen::Index>(std::min(o_.tile_rows, in_ - t * o_.tile_rows));
    Eigen::MatrixXd i = (gp_.middleCols(r0, nr) - gn_.middleCols(r0, nr)) * v.middleRows(r0, nr);  // differential column currents
    if (read_rng && sd_g > 0) {
      // the sum of independent Gaussian conductance errors of the 2*nr devices of a column pair: sd = sd_g * sqrt(2 * sum V^2)
      const Eigen::RowVectorXd sd = (2.0 * v.middleRows(r0, nr).colwise().squaredNorm()).cwiseSqrt() * sd_g;
      for (Eigen::Index s = 0; s < i.cols(); ++s)
        for (Eigen::Index r = 0; r < i.rows(); ++r) i(r, s) += sd(s) * read_rng->normal();
    }
    if (o_.adc_bits > 0) i = (((i / i_fs).cwiseMax(-1.0).cwiseMin(1.0).array() * levels).round() / levels * i_fs).matrix();
    y += i;
  }
  return y / (vs * g_unit_);
}

ReadEnergy CrossbarLayer::read_energy(const Eigen::MatrixXd& x) const {
  ReadEnergy e;
  if (x.cols() == 0) return e;
  const Eigen::MatrixXd v = dac(x);
  // power in the devices during a read: sum_ij V_i^2 (G+_ji + G-_ji); wires and drivers not included
  const Eigen::VectorXd gsum = (gp_ + gn_).colwise().sum().transpose();  // per input row
  const Eigen::VectorXd p = v.array().square().matrix().transpose() * gsum;
  e.array_J = p.mean() * o_.t_read_s;
  e.dac_J = static_cast<double>(in_) * o_.dac_energy_J;
  e.adc_J = static_cast<double>(tiles_in() * out_) * o_.adc_energy_J;
  return e;
}

}  // namespace nnspice::memristor

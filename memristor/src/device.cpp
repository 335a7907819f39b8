#include "nnspice/memristor/device.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/yaml_util.hpp"

namespace nnspice::memristor {

const std::vector<DeviceParamSpec>& device_param_table() {
  static const std::vector<DeviceParamSpec> t = {
      {"g_min_S", "S", 1e-12, 1.0, "lowest conductance of the window", &DeviceParams::g_min_S},
      {"g_max_S", "S", 1e-12, 1.0, "highest conductance of the window (> g_min_S)", &DeviceParams::g_max_S},
      {"states", "", 2, 1e6, "conductance levels from g_min to g_max by up pulses (pulses = states - 1)", &DeviceParams::states},
      {"nonlinearity_up", "", 0, 20, "nu of the up curve G(P) ~ 1 - exp(-nu P / (states - 1)); 0 = linear", &DeviceParams::nonlinearity_up},
      {"nonlinearity_down", "", 0, 20, "nu of the down curve (mirrored); 0 = linear", &DeviceParams::nonlinearity_down},
      {"step_ratio_down", "", 0.01, 100, "nominal down-step / up-step size (1 = symmetric magnitude)", &DeviceParams::step_ratio_down},
      {"d2d_sd", "", 0, 1, "device-to-device relative sd (lognormal) of step sizes and window edges", &DeviceParams::d2d_sd},
      {"c2c_sd", "", 0, 5, "cycle-to-cycle relative sd of each pulse's step (and of programming)", &DeviceParams::c2c_sd},
      {"read_noise_sd", "", 0, 1, "read noise sd relative to g_max_S (additive Gaussian per device and read)", &DeviceParams::read_noise_sd},
      {"stuck_fraction", "", 0, 1, "fraction of stuck devices (half at g_min, half at g_max)", &DeviceParams::stuck_fraction},
      {"pulse_width_s", "s", 1e-12, 1.0, "programming pulse width", &DeviceParams::pulse_width_s},
      {"energy_per_pulse_J", "J", 0, 1e-6, "energy of one programming pulse", &DeviceParams::energy_per_pulse_J},
  };
  return t;
}

void DeviceParams::validate() const {
  for (const auto& s : device_param_table()) {
    const double v = this->*s.member;
    if (!(v >= s.lo && v <= s.hi))
      throw InputError(fmt::format("DeviceParams::{} = {} ({}). Violated constraint: {} <= {} <= {}", s.name, v, name, s.lo, s.name, s.hi));
  }
  if (!(g_max_S > g_min_S))
    throw InputError(fmt::format("DeviceParams::g_max_S = {} ({}). Violated constraint: g_max_S > g_min_S = {}", g_max_S, name, g_min_S));
}

std::vector<std::string> device_preset_names() { return {"protonic", "rram", "symmetric"}; }

DeviceParams device_preset(const std::string& name) {
  DeviceParams p;
  if (name == "protonic") {
    // Onen et al. 2022 (seed slides): 1,000 states over a 20x range, 5 ns pulses, 2.5 fJ per update,
    // near-ideal modulation. Absolute scale, nonlinearity and noise are our assumptions (docs/memristor.md).
    p.name = "protonic";
    p.g_min_S = 5e-8;
    p.g_max_S = 1e-6;
    p.states = 1000;
    p.nonlinearity_up = 0.5;
    p.nonlinearity_down = 0.5;
    p.step_ratio_down = 1.0;
    p.d2d_sd = 0.05;
    p.c2c_sd = 0.1;
    p.read_noise_sd = 0.002;
    p.pulse_width_s = 5e-9;
    p.energy_per_pulse_J = 2.5e-15;
  } else if (name == "rram") {
    // A typical analog HfOx RRAM (literature ranges; our choice of values): 10 uS ... 100 uS, 64 levels,
    // strongly nonlinear and asymmetric (depression steeper), 50 ns pulses at ~1 V / ~50 uA -> ~2.5 pJ.
    p.name = "rram";
    p.g_min_S = 1e-5;
    p.g_max_S = 1e-4;
    p.states = 64;
    p.nonlinearity_up = 3.0;
    p.nonlinearity_down = 5.0;
    p.step_ratio_down = 1.5;
    p.d2d_sd = 0.1;
    p.c2c_sd = 0.3;
    p.read_noise_sd = 0.01;
    p.stuck_fraction = 0.0;
    p.pulse_width_s = 5e-8;
    p.energy_per_pulse_J = 2.5e-12;
  } else if (name == "symmetric") {
    p.name = "symmetric";
    p.states = 1000;
  } else {
    throw InputError(fmt::format("unknown device preset '{}' (presets: {}; or a YAML file)", name, fmt::join(device_preset_names(), ", ")));
  }
  p.validate();
  return p;
}

DeviceParams load_device(const std::string& preset_or_file) {
  const auto names = device_preset_names();
  if (std::find(names.begin(), names.end(), preset_or_file) != names.end()) return device_preset(preset_or_file);
  if (!file_exists(preset_or_file))
    throw InputError(fmt::format("device '{}' is neither a preset ({}) nor an existing YAML file", preset_or_file, fmt::join(names, ", ")));
  const YamlMap m(load_yaml_file(preset_or_file), preset_or_file, "device");
  std::vector<std::string> keys{"preset", "name"};
  for (const auto& s : device_param_table()) keys.emplace_back(s.name);
  m.check_keys(keys);
  DeviceParams p;
  if (m.has("preset")) {
    const std::string base = m.get_string("preset");
    if (std::find(names.begin(), names.end(), base) == names.end()) m.fail("preset", fmt::format("unknown preset (presets: {})", fmt::join(names, ", ")));
    p = device_preset(base);
  }
  p.name = m.get_string("name", m.has("preset") ? p.name + "-custom" : "custom");
  for (const auto& s : device_param_table()) {
    if (!m.has(s.name)) continue;
    const double v = m.get_double(s.name);
    if (!(v >= s.lo && v <= s.hi)) m.fail(s.name, fmt::format("outside the valid range [{}, {}] {}", s.lo, s.hi, s.unit));
    p.*s.member = v;
  }
  if (!(p.g_max_S > p.g_min_S)) m.fail("g_max_S", fmt::format("must exceed g_min_S = {}", p.g_min_S));
  p.validate();
  return p;
}

StepCurve step_curve(const DeviceParams& p) {
  StepCurve c;
  const double n_up = p.states - 1, n_down = n_up / p.step_ratio_down;
  c.states_up = n_up;
  auto coeffs = [](double nu, double n, double& c0, double& c1) {
    if (nu < 1e-9) {
      c0 = 1.0 / n;
      c1 = 0;
    } else {
      const double beta = -std::expm1(-nu / n), a = 1.0 / -std::expm1(-nu);
      c0 = beta * a;
      c1 = beta;
    }
  };
  coeffs(p.nonlinearity_up, n_up, c.c0_up, c.c1_up);
  coeffs(p.nonlinearity_down, n_down, c.c0_down, c.c1_down);
  return c;
}

double up_curve_state(const DeviceParams& p, double pulses) {
  const double n = p.states - 1, nu = p.nonlinearity_up;
  if (nu < 1e-9) return std::clamp(pulses / n, 0.0, 1.0);
  return std::clamp(std::expm1(-nu * pulses / n) / std::expm1(-nu), 0.0, 1.0);
}

namespace {
/// Pulse count on the up curve nearest state w.
double up_curve_pulses(const DeviceParams& p, double w) {
  const double n = p.states - 1, nu = p.nonlinearity_up;
  if (nu < 1e-9) return w * n;
  return -n / nu * std::log1p(w * std::expm1(-nu));
}
}  // namespace

double symmetry_point(const StepCurve& c, double su, double sd) {
  const double den = su * c.c1_up + sd * c.c1_down;
  const double num = su * c.c0_up - sd * c.c0_down + sd * c.c1_down;
  if (den < 1e-15) {
    const double diff = su * c.c0_up - sd * c.c0_down;
    if (std::abs(diff) < 1e-12 * (su * c.c0_up)) return 0.5;
    return diff > 0 ? 1.0 : 0.0;
  }
  return std::clamp(num / den, 0.0, 1.0);
}

DeviceArray::DeviceArray(const DeviceParams& p, std::size_t n, std::uint64_t seed, const std::string& stream_name, double w0)
    : p_(p), c_(step_curve(p)), w_(n, std::clamp(w0, 0.0, 1.0)), up_scale_(n, 1.0), down_scale_(n, 1.0), g_lo_(n, p.g_min_S), g_hi_(n, p.g_max_S), stuck_(n, 0) {
  p.validate();
  if (p.d2d_sd > 0 || p.stuck_fraction > 0) {
    Rng rng = Rng::stream(seed, "memristor/d2d/" + stream_name);
    for (std::size_t i = 0; i < n; ++i) {
      up_scale_[i] = std::exp(p.d2d_sd * rng.normal());
      down_scale_[i] = std::exp(p.d2d_sd * rng.normal());
      g_lo_[i] = p.g_min_S * std::exp(p.d2d_sd * rng.normal());
      g_hi_[i] = std::max(p.g_max_S * std::exp(p.d2d_sd * rng.normal()), g_lo_[i] * 1.01);
      const double u = rng.uniform();
      if (u < p.stuck_fraction) {
        stuck_[i] = u < 0.5 * p.stuck_fraction ? 1 : 2;
        w_[i] = stuck_[i] == 1 ? 0.0 : 1.0;
      }
    }
  }
}

double DeviceArray::conductance(std::size_t i) const { return g_lo_[i] + (g_hi_[i] - g_lo_[i]) * w_[i]; }

std::size_t DeviceArray::pulse(std::size_t i, long n, Rng& rng) {
  if (n == 0) return 0;
  const std::size_t count = static_cast<std::size_t>(n > 0 ? n : -n);
  pulses_ += count;
  if (stuck_[i]) return count;
  double w = w_[i];
  for (std::size_t k = 0; k < count; ++k) {
    double dw = n > 0 ? up_scale_[i] * (c_.c0_up - c_.c1_up * w) : -down_scale_[i] * (c_.c0_down - c_.c1_down * (1.0 - w));
    if (p_.c2c_sd > 0) dw *= 1.0 + p_.c2c_sd * rng.normal();
    w = std::clamp(w + dw, 0.0, 1.0);
  }
  w_[i] = w;
  return count;
}

void DeviceArray::program(std::size_t i, double g_target_S, Rng& rng) {
  if (stuck_[i]) return;
  const double wt = std::clamp((g_target_S - g_lo_[i]) / (g_hi_[i] - g_lo_[i]), 0.0, 1.0);
  const double pulses = std::clamp(std::round(up_curve_pulses(p_, wt)), 0.0, p_.states - 1);
  double w = up_curve_state(p_, pulses);
  if (p_.c2c_sd > 0) w += p_.c2c_sd * (c_.c0_up - c_.c1_up * w) * rng.normal();
  w_[i] = std::clamp(w, 0.0, 1.0);
}

void DeviceArray::set_state(std::size_t i, double w) { w_[i] = std::clamp(w, 0.0, 1.0); }

double DeviceArray::symmetry_point_of(std::size_t i) const { return symmetry_point(c_, up_scale_[i], down_scale_[i]); }

}  // namespace nnspice::memristor

// Behavioural model of a programmable conductance (memristor, RRAM, protonic resistor) as used in
// crossbars: finite states between G_min and G_max, nonlinear and asymmetric response to up/down pulses,
// device-to-device (d2d) and cycle-to-cycle (c2c) variation, read noise, stuck devices. Units: siemens,
// seconds, joules. Pulse response: the exponential model (NeuroSim-style), closed form in docs/memristor.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nnspice/common/rng.hpp"

namespace nnspice::memristor {

/// The parameters of a device family. Declared once in device_param_table() (name, unit, range, help):
/// validation, YAML reading, `--help` and docs/memristor.md read that table.
struct DeviceParams {
  std::string name = "protonic";
  double g_min_S = 5e-8;              ///< lowest conductance (all states lie in [g_min, g_max])
  double g_max_S = 1e-6;              ///< highest conductance
  double states = 1000;               ///< distinct conductance levels reached by up pulses from g_min to g_max
  double nonlinearity_up = 0.0;       ///< ν of the up (potentiation) curve; 0 = linear (equal steps)
  double nonlinearity_down = 0.0;     ///< ν of the down (depression) curve
  double step_ratio_down = 1.0;       ///< nominal down-step size / up-step size (asymmetry of magnitude)
  double d2d_sd = 0.0;                ///< relative sd (lognormal) of each device's step sizes and window edges
  double c2c_sd = 0.0;                ///< relative sd of every single pulse's step (cycle-to-cycle)
  double read_noise_sd = 0.0;         ///< sd of a read, relative to g_max (additive Gaussian)
  double stuck_fraction = 0.0;        ///< fraction of devices stuck (half at g_min, half at g_max)
  double pulse_width_s = 5e-9;        ///< programming pulse width
  double energy_per_pulse_J = 2.5e-15;  ///< energy of one programming pulse (one update)
  void validate() const;              ///< throws InputError "DeviceParams::<field> = <v>. Violated constraint: ..."
};

struct DeviceParamSpec {
  const char* name;
  const char* unit;
  double lo, hi;     ///< valid closed range
  const char* help;
  double DeviceParams::*member;
};
const std::vector<DeviceParamSpec>& device_param_table();

/// Presets: "protonic" (Onen et al. 2022: 1,000 states over 20x, 5 ns, 2.5 fJ per update, near-ideal),
/// "rram" (a typical HfOx filamentary RRAM: 64 levels over 10x, nonlinear and asymmetric), "symmetric" (ideal
/// linear device with the protonic window: the reference for training). Unknown name -> InputError listing them.
DeviceParams device_preset(const std::string& name);
std::vector<std::string> device_preset_names();

/// A preset name, or a YAML file: `preset: <name>` (optional base) plus any parameter of the table; unknown
/// keys and wrong types are rejected with file:line.
DeviceParams load_device(const std::string& preset_or_file);

/// Per-pulse nominal step of the normalised state w in [0, 1] (w = (g - g_lo)/(g_hi - g_lo)):
/// up: dw = c0_up - c1_up*w; down: |dw| = c0_down - c1_down*(1 - w). Linear devices have c1 = 0.
struct StepCurve {
  double c0_up = 0, c1_up = 0, c0_down = 0, c1_down = 0;
  double states_up = 0;  ///< pulses from g_min to g_max
};
StepCurve step_curve(const DeviceParams& p);
/// State reached after P up pulses from w = 0 (the programmable levels), P in [0, states - 1].
double up_curve_state(const DeviceParams& p, double pulses);
/// Symmetry point: the state where one up and one down pulse cancel (for step scales su, sd); clamped to [0, 1].
/// For linear devices with equal steps every state is one: returns 0.5.
double symmetry_point(const StepCurve& c, double su = 1.0, double sd = 1.0);

/// An array of devices of one family with their drawn d2d variation and their states.
class DeviceArray {
 public:
  DeviceArray() = default;
  /// Draws d2d variation and stuck devices from Rng::stream(seed, stream_name); all states start at w0.
  DeviceArray(const DeviceParams& p, std::size_t n, std::uint64_t seed, const std::string& stream_name, double w0 = 0.0);

  std::size_t size() const { return w_.size(); }
  const DeviceParams& params() const { return p_; }
  /// Normalised state (0 at the device's own g_lo, 1 at its g_hi).
  double state(std::size_t i) const { return w_[i]; }
  /// Noiseless conductance of device i.
  double conductance(std::size_t i) const;
  /// Applies n pulses (n > 0 up, n < 0 down) with c2c noise; returns the number applied (|n|).
  std::size_t pulse(std::size_t i, long n, Rng& rng);
  /// Sets device i to the programmable level nearest the target conductance (write-verify to the
  /// nearest up-curve state) plus programming noise of c2c_sd steps. Stuck devices do not move.
  void program(std::size_t i, double g_target_S, Rng& rng);
  /// Sets the normalised state directly (tests, references); clamped to [0, 1].
  void set_state(std::size_t i, double w);
  /// This device's symmetry point (its own step scales).
  double symmetry_point_of(std::size_t i) const;
  /// Normalised-state value of device i's conductance g.
  double g_lo(std::size_t i) const { return g_lo_[i]; }
  double g_hi(std::size_t i) const { return g_hi_[i]; }
  bool stuck(std::size_t i) const { return stuck_[i] != 0; }
  std::uint64_t pulses_applied() const { return pulses_; }

 private:
  DeviceParams p_;
  StepCurve c_;
  std::vector<double> w_, up_scale_, down_scale_, g_lo_, g_hi_;
  std::vector<std::uint8_t> stuck_;  // 0 free, 1 stuck at g_lo, 2 stuck at g_hi
  std::uint64_t pulses_ = 0;
};

}  // namespace nnspice::memristor

// Device model: presets, parameter table, YAML loading errors, pulse response, symmetry point, programming.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "nnspice/common/error.hpp"
#include "nnspice/memristor/device.hpp"

using namespace nnspice;
using namespace nnspice::memristor;

namespace {
std::string write_tmp(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "nnspice_memristor_test";
  std::filesystem::create_directories(dir);
  const auto p = (dir / name).string();
  std::ofstream(p) << text;
  return p;
}
}  // namespace

TEST(Device, PresetsAreValidAndProtonicMatchesTheSlides) {
  for (const auto& n : device_preset_names()) EXPECT_NO_THROW(device_preset(n).validate()) << n;
  const DeviceParams p = device_preset("protonic");
  EXPECT_EQ(p.states, 1000);
  EXPECT_NEAR(p.g_max_S / p.g_min_S, 20.0, 1e-12);
  EXPECT_EQ(p.pulse_width_s, 5e-9);
  EXPECT_EQ(p.energy_per_pulse_J, 2.5e-15);
  EXPECT_THROW(device_preset("nope"), InputError);
}

TEST(Device, LinearDeviceReachesGmaxAfterStatesMinusOnePulses) {
  DeviceParams p = device_preset("symmetric");
  p.states = 11;
  DeviceArray a(p, 1, 1, "t");
  Rng rng(1);
  EXPECT_DOUBLE_EQ(a.conductance(0), p.g_min_S);
  a.pulse(0, 10, rng);
  EXPECT_NEAR(a.conductance(0), p.g_max_S, 1e-12 * p.g_max_S);
  a.pulse(0, 5, rng);  // saturates
  EXPECT_NEAR(a.conductance(0), p.g_max_S, 1e-12 * p.g_max_S);
  a.pulse(0, -5, rng);
  EXPECT_NEAR(a.state(0), 0.5, 1e-12);
  EXPECT_EQ(a.pulses_applied(), 20u);
}

TEST(Device, NonlinearUpCurveMatchesTheClosedForm) {
  DeviceParams p = device_preset("rram");
  p.c2c_sd = 0;
  p.d2d_sd = 0;
  DeviceArray a(p, 1, 1, "t");
  Rng rng(1);
  for (int k = 1; k < static_cast<int>(p.states); ++k) {
    a.pulse(0, 1, rng);
    ASSERT_NEAR(a.state(0), up_curve_state(p, k), 1e-9) << "pulse " << k;
  }
  EXPECT_NEAR(a.state(0), 1.0, 1e-9);
  // steps shrink towards g_max (nonlinear)
  EXPECT_GT(up_curve_state(p, 1) - up_curve_state(p, 0), up_curve_state(p, 63) - up_curve_state(p, 62));
}

TEST(Device, AlternatingPulsesConvergeToTheSymmetryPoint) {
  DeviceParams p = device_preset("rram");
  p.c2c_sd = 0;
  p.d2d_sd = 0;
  const double ws = symmetry_point(step_curve(p));
  EXPECT_GT(ws, 0.05);
  EXPECT_LT(ws, 0.6);  // down steps are larger: the symmetry point lies below mid-window
  for (double w0 : {0.0, 1.0}) {
    DeviceArray a(p, 1, 1, "t", w0);
    Rng rng(3);
    for (int k = 0; k < 2000; ++k) a.pulse(0, k % 2 ? -1 : 1, rng);
    EXPECT_NEAR(a.state(0), ws, 0.1) << "start " << w0;  // within one step pair of the fixed point
  }
}

TEST(Device, ProgrammingHitsTheNearestLevelAndD2dIsSeeded) {
  DeviceParams p = device_preset("rram");
  p.c2c_sd = 0;
  DeviceArray a(p, 100, 7, "x"), b(p, 100, 7, "x"), c(p, 100, 8, "x");
  Rng rng(1);
  bool differs = false;
  for (std::size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(a.g_lo(i), b.g_lo(i));
    differs = differs || a.g_lo(i) != c.g_lo(i);
    const double target = 0.5 * (a.g_lo(i) + a.g_hi(i));
    a.program(i, target, rng);
    // the nearest up-curve level lies within one step (<= 1/states of the window for the nonlinear curve's largest step)
    EXPECT_NEAR(a.conductance(i), target, 0.06 * (a.g_hi(i) - a.g_lo(i)));
  }
  EXPECT_TRUE(differs);
}

TEST(Device, YamlFileOverridesAPresetAndRejectsUnknownKeysAndBadValues) {
  const auto ok = write_tmp("ok.yaml", "preset: rram\nstates: 128\nread_noise_sd: 0\n");
  const DeviceParams p = load_device(ok);
  EXPECT_EQ(p.states, 128);
  EXPECT_EQ(p.read_noise_sd, 0);
  EXPECT_EQ(p.g_min_S, device_preset("rram").g_min_S);
  const auto unknown = write_tmp("unknown.yaml", "preset: rram\nstatez: 128\n");
  try {
    load_device(unknown);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown.yaml:2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("statez"), std::string::npos);
  }
  const auto type = write_tmp("type.yaml", "g_min_S: lots\n");
  try {
    load_device(type);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("type.yaml:1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("g_min_S"), std::string::npos);
  }
  const auto range = write_tmp("range.yaml", "preset: protonic\ng_max_S: 1e-8\n");
  EXPECT_THROW(load_device(range), InputError);
  EXPECT_THROW(load_device("/nonexistent/device.yaml"), InputError);
}

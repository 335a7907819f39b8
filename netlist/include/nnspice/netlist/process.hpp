// The process: model card, model names, supply, temperature, transistor sizes (paper Table 2),
// Pelgrom mismatch coefficients per device class, synapse parasitics and simulator options.
// Loaded from a process YAML (docs/process.md); the shipped default is data/process/tsmc180.yaml.
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace nnspice::netlist {

enum class Polarity { n, p };

/// Device classes of the circuits (circuits.md §2). Sizes and mismatch coefficients are per class.
enum class DeviceRole { soma, mirror_lsb, mirror_mid, mirror_msb, sw, sink };
constexpr std::size_t kDeviceRoles = 6;

/// One table of the bounds that the process validation, the chip writer (draw_chip) and the chip loader
/// share, so that a process the tool accepts can never write a chip the tool's own loader rejects.
struct ProcessBounds {
  static constexpr double min_size_m = 1e-8;   ///< W and L of a transistor >= 10 nm
  static constexpr double max_size_m = 1e-3;   ///< and < 1 mm
  static constexpr double max_delvto_V = 1.0;  ///< |dVT| a chip file may hold
  static constexpr double max_sigma_vt_V = 0.1;  ///< sigma_VT of a role: max_delvto_V is 10 sigma
};
/// "soma", "mirror_lsb", "mirror_mid", "mirror_msb", "switch", "sink"
const char* role_name(DeviceRole role);

struct DeviceSize {
  double w_m = 0, l_m = 0;
};

enum class MismatchConvention {
  per_device,      ///< sigma(dVT) = A_VT / sqrt(W L) for each device (the authors' code; default)
  pair_difference  ///< A_VT is Pelgrom's coefficient of a pair difference: per device A_VT / sqrt(2 W L)
};

struct Process {
  std::string name = "tsmc180-mosis-t58f";
  std::string source;          ///< file it was loaded from ("" = built-in defaults)
  std::string model_card;      ///< absolute path of the BSIM3v3 card
  std::string nmos_model = "nfet", pmos_model = "pfet";
  double vdd_V = 1.8;
  double temp_C = 27;
  std::array<DeviceSize, kDeviceRoles> sizes{{{2.7e-6, 0.45e-6},
                                              {0.27e-6, 0.54e-6},
                                              {0.54e-6, 0.54e-6},
                                              {1.08e-6, 0.54e-6},
                                              {0.54e-6, 0.54e-6},
                                              {0.45e-6, 0.45e-6}}};
  MismatchConvention convention = MismatchConvention::per_device;
  /// Pelgrom coefficient per class in V*m (3.3 mV*um = 3.3e-9 V*m).
  std::array<double, kDeviceRoles> a_vt_V_m{{3.3e-9, 3.3e-9, 3.3e-9, 3.3e-9, 3.3e-9, 3.3e-9}};
  /// Per-synapse parasitic capacitances (circuits.md §2: 11 fF in all).
  double c_vn_F = 2e-15, c_vp_F = 2e-15, c_out_F = 3.5e-15;
  std::array<double, 3> c_bit_F{{1.5e-15, 1e-15, 1e-15}};  ///< on b_LSB, b_mid, b_MSB
  /// Magnitude bits of every synapse (YAML `weight_bits`, 1..6, default 3): bit m has a current mirror pair of
  /// size mirror_size(m) and a switch; codes -(2^B - 1) .. 2^B - 1.
  int weight_bits = 3;
  std::vector<std::pair<std::string, std::string>> ngspice_options;

  const DeviceSize& size(DeviceRole r) const { return sizes[static_cast<std::size_t>(r)]; }
  int max_code() const { return (1 << weight_bits) - 1; }
  /// The mirror transistors of magnitude bit m (0 = LSB): with 3 bits the mirror_lsb / mid / msb sizes; with other
  /// counts binary-scaled from mirror_lsb (W x 2^m, the same L), as the default sizes are.
  DeviceSize mirror_size(int m) const;
  /// The role whose A_VT and (3 bits) size bit m's mirrors take: mirror_lsb for m = 0, mirror_msb for the top bit,
  /// mirror_mid between.
  DeviceRole mirror_role(int m) const;
  /// sigma of the threshold shift (V) of a mirror transistor of bit m.
  double sigma_mirror_vt_V(int m) const;
  /// Parasitic capacitance on the node b_m: bit_fF's LSB value for m = 0, MSB value for the top bit, mid between.
  double c_bit(int m) const;
  /// sigma of the threshold shift (V) of one device of class `r`.
  double sigma_vt_V(DeviceRole r) const;
  /// Model name for a polarity.
  const std::string& model(Polarity p) const { return p == Polarity::n ? nmos_model : pmos_model; }
  /// Throws InputError when fields are out of range.
  void validate() const;
};

/// Loads a process YAML. Relative model_card paths resolve against the YAML's folder, then the data dir.
/// Unknown keys, wrong types, out-of-range values, a missing card or a card ngspice cannot use for
/// mismatch (BSIM3 VERSION 3.1 selects BSIM3v1, which rejects delvto) -> InputError naming file:line.
Process load_process(const std::string& path);
/// The process as a YAML that load_process reads back to the same values (every field explicit, the model card
/// as an absolute path), e.g. a derived process (scaled A_VT or sizes) of a sweep.
std::string process_yaml(const Process& process);
/// The shipped default process (data/process/tsmc180.yaml).
Process default_process();
/// Loads `path`, or the default when empty.
Process load_process_or_default(const std::string& path);

/// Checks the model card: readable, defines the two model names, and each is a BSIM3 model with
/// VERSION >= 3.2 (or another level that accepts delvto). Throws InputError naming the card and line.
void check_model_card(const Process& process);

}  // namespace nnspice::netlist

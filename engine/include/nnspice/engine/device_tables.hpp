// Device tables (docs/dc_engine.md "The native engine"): the channel current of every transistor
// geometry class of a process, tabulated once by ngspice on a (V_GS, V_DS, V_SB) grid at the process
// temperature, with the threshold shift of a mismatched device as a gate shift plus a tabulated mobility
// correction (engine-notes §1):
//   I(V_GS; δ) = I0(V_GS − δ, V_DS, V_SB) · exp(δ · r(V_GS − δ, V_DS, V_SB)),
// stored as L = ln(I / (V_T (1 − e^(−V_DS/V_T)))) and r, read by tricubic Catmull-Rom interpolation with
// partial derivatives. Voltages are "magnitudes" (sign-flipped for pFETs), V_DS >= 0 (drain and source
// swap for V_DS < 0). Junctions: BSIM3's zero-area drain/source–bulk diodes, I_s (e^(V/(n V_T)) − 1) +
// gmin V, with I_s, n V_T and gmin fitted per class from three ngspice operating points.
// Built tables are cached on disk (common/store record) under a hash of the card's bytes, model names,
// sizes, temperature, grid and ngspice version; a damaged or foreign cache file is rebuilt, never used.
// Units: V, A.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "nnspice/netlist/process.hpp"
#include "nnspice/sim/parallel.hpp"

namespace nnspice::engine {

/// One transistor geometry class: polarity and drawn size.
struct DeviceClass {
  netlist::Polarity polarity = netlist::Polarity::n;
  double w_m = 0, l_m = 0;
  bool operator==(const DeviceClass& o) const { return polarity == o.polarity && w_m == o.w_m && l_m == o.l_m; }
  std::string str() const;  ///< "nFET 0.54/0.54 um"
};

/// The classes of a process's synapse circuits (3 mirror sizes x n/p and the switch sizes; duplicates merged).
std::vector<DeviceClass> synapse_classes(const netlist::Process& process);

/// Table grid in magnitude voltages. The defaults are engine-notes §2's 5 / 10 / 50 mV (≤ 0.12 % on
/// mismatched synapses) over what the circuits reach (§5: V_SB from −0.15 to 0.9 V).
struct TableGrid {
  double vgs_min_V = -0.80, vgs_max_V = 1.95, vgs_step_V = 0.005;
  double vds_max_V = 1.95, vds_step_V = 0.010;
  double vsb_min_V = -0.15, vsb_max_V = 0.95, vsb_step_V = 0.05;
  /// Threshold shift of the two extra devices per class that measure the correction r (must equal vgs_step_V).
  double shift_V = 0.005;
  std::size_t n_vgs() const;
  std::size_t n_vds() const;
  std::size_t n_vsb() const;
  void validate() const;  ///< InputError naming the field
};

/// The grid `base` widened so its V_GS range covers VDD + 0.25 V and its V_DS range VDD + 0.15 V (supply corners
/// get tables of their own, reaching their own VDD).
TableGrid grid_for(const netlist::Process& process, TableGrid base = {});

/// Temperatures the device tables are built for: the range of the cards' temperature models (BSIM3 cards are
/// extracted at TNOM = 27 °C and used from -40 to 125 °C).
inline constexpr double kTableMinTemp_C = -40, kTableMaxTemp_C = 125;
/// Refuses (InputError naming the process file and field) a process the device tables cannot cover:
/// temperature outside the range above, or a supply above the tables' 5 V limit.
void check_table_conditions(const netlist::Process& process);

/// Terminal currents into one transistor (drain, source, bulk; the gate draws none at DC) and their
/// partial derivatives with respect to the terminal voltages, order (d, g, s, b).
struct DeviceEval {
  double i[3];      ///< into d, s, b
  double di[3][4];  ///< d i[t] / d V[(d, g, s, b)]
  bool in_range = true;  ///< false: the operating point is outside the table (value clamped; not to be trusted)
};

struct DeviceTableStats {
  bool built = false;        ///< built now (else loaded from the cache)
  double build_s = 0;        ///< wall time of the ngspice sweeps (or of the load)
  std::size_t sweep_points = 0;
  std::size_t bytes = 0;     ///< size of the tables in memory
  std::string cache_file;    ///< where they are (or would be) cached ("" = no cache)
  std::string cache_note;    ///< why a cache file was not used ("" when used or absent)
};

struct DeviceTableOptions {
  TableGrid grid;
  std::string cache_dir;        ///< "" = no cache (build every time)
  sim::ParallelOptions parallel;  ///< worker processes for the sweeps
  bool progress = true;
};

/// Where the device-table cache lives by default: $NNSPICE_CACHE_DIR, else $XDG_CACHE_HOME/nnspice, else
/// ~/.cache/nnspice, else "" (no cache).
std::string default_cache_dir();

/// What a set of device tables is built from, hashed: the card's bytes, model names, temperature, ngspice
/// options, classes, grid and ngspice version. The cache file name and everything derived from the tables
/// (the solver's synapse-table cache) key on it.
std::uint64_t device_table_key(const netlist::Process& process, const std::vector<DeviceClass>& classes, const TableGrid& grid);

class DeviceTables {
 public:
  /// Loads from the cache, or builds by ngspice sweeps (and caches). Throws InputError for a bad grid or
  /// process, SimError when ngspice fails.
  static std::shared_ptr<const DeviceTables> get(const netlist::Process& process, const std::vector<DeviceClass>& classes,
                                                 const DeviceTableOptions& options, DeviceTableStats* stats = nullptr);

  /// Index of a class; throws std::logic_error when it was not tabulated.
  std::size_t index(netlist::Polarity polarity, double w_m, double l_m) const;
  const std::vector<DeviceClass>& classes() const { return classes_; }
  const TableGrid& grid() const { return grid_; }
  double thermal_voltage() const { return vt_; }
  /// Terminal currents of a device of class `cls` with threshold shift `delvto_V` (ngspice's instance
  /// parameter: added to the signed vth0) at actual terminal voltages d, g, s, b.
  void eval(std::size_t cls, double vd, double vg, double vs, double vb, double delvto_V, DeviceEval& out) const;
  /// Hash of what the tables were built from (card bytes, models, sizes, temperature, grid, ngspice version).
  std::uint64_t key() const { return key_; }
  std::size_t bytes() const;

  DeviceTables() = default;  // use get()

 private:
  friend struct TableBuilder;
  std::vector<DeviceClass> classes_;
  TableGrid grid_;
  double vt_ = 0.025852;
  std::uint64_t key_ = 0;
  struct Junction {
    double is_A = 0, nvt_V = 0.0258, gmin_S = 0;
  };
  std::vector<Junction> junction_;        // per class
  std::vector<std::vector<float>> L_, r_;  // per class, [(ksb * n_vds + kds) * n_vgs + kgs]
};

}  // namespace nnspice::engine

// Pelgrom threshold mismatch (Pelgrom et al. 1989; circuits.md §3): every transistor gets
// dVT ~ N(0, sigma), sigma = A_VT / sqrt(W L) (convention per_device, the default) or
// A_VT / sqrt(2 W L) (pair_difference), A_VT per device class from the process (3.3 mV*um default).
// One draw = one "chip": saved as a file under stable element names and reused for every later
// simulation of that chip with any weights and inputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nnspice/netlist/network.hpp"
#include "nnspice/netlist/process.hpp"

namespace nnspice::mismatch {

struct Chip {
  netlist::NetworkSpec spec;
  std::uint64_t seed = 0;
  std::string process_name;
  std::string convention;                 ///< "per_device" or "pair_difference"
  std::vector<std::string> names;         ///< canonical order of netlist::enumerate_transistors(spec)
  std::vector<double> delvto_V;           ///< one threshold shift per transistor (V)
};

/// Draws a chip: z ~ N(0,1) per transistor in canonical order from Rng::stream(seed, "mismatch"),
/// dVT = sigma(class) * z. Same (spec, process, seed) -> identical chip on every platform.
Chip draw_chip(const netlist::NetworkSpec& spec, const netlist::Process& process, std::uint64_t seed);
/// A chip without mismatch (all dVT = 0).
Chip ideal_chip(const netlist::NetworkSpec& spec);

/// Chip file: CSV "name,delvto_V" with '#' metadata lines (pandas: read_csv(f, comment='#')).
/// Values are written in shortest round-trip form, so load(save(chip)) == chip exactly.
void save_chip(const Chip& chip, const std::string& path);
/// Loads a chip file. When `expect` is given, a chip of another network shape is an InputError
/// naming both shapes. Truncated or corrupted files -> InputError naming file:line.
Chip load_chip(const std::string& path, const netlist::NetworkSpec* expect = nullptr);

/// Sample statistics of a chip per device class (for the mismatch-statistics test and `netlist` summaries).
struct ClassStats {
  std::string role;
  std::size_t count = 0;
  double mean_V = 0, sd_V = 0;   ///< sample mean and standard deviation of dVT
  double sigma_V = 0;            ///< the process's sigma for the class
};
std::vector<ClassStats> class_statistics(const Chip& chip, const netlist::Process& process);

}  // namespace nnspice::mismatch

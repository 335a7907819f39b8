#include "nnspice/mismatch/chip.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/rng.hpp"

namespace nnspice::mismatch {

using netlist::DeviceRole;
using netlist::kDeviceRoles;

static const char* convention_name(netlist::MismatchConvention c) {
  return c == netlist::MismatchConvention::per_device ? "per_device" : "pair_difference";
}

Chip draw_chip(const netlist::NetworkSpec& spec, const netlist::Process& process, std::uint64_t seed) {
  Chip chip;
  chip.spec = spec;
  chip.seed = seed;
  chip.process_name = process.name;
  chip.convention = convention_name(process.convention);
  if (spec.weight_bits != process.weight_bits)
    throw InputError(fmt::format("network {} has {}-bit synapses, process {} {} (weight_bits)", spec.str(), spec.weight_bits, process.name, process.weight_bits));
  const auto sites = netlist::enumerate_transistors(spec);
  double sigma[kDeviceRoles];
  for (size_t r = 0; r < kDeviceRoles; ++r) sigma[r] = process.sigma_vt_V(static_cast<DeviceRole>(r));
  Rng rng = Rng::stream(seed, "mismatch");
  chip.names.reserve(sites.size());
  chip.delvto_V.reserve(sites.size());
  for (const auto& s : sites) {
    chip.names.push_back(s.name);
    const double sd = s.bit >= 0 ? process.sigma_mirror_vt_V(s.bit) : sigma[static_cast<size_t>(s.role)];
    chip.delvto_V.push_back(sd * rng.normal());
    // A validated process has sigma_VT <= max_sigma_vt_V: a 10-sigma draw is the only way here.
    if (!(std::abs(chip.delvto_V.back()) <= netlist::ProcessBounds::max_delvto_V))
      throw InputError(fmt::format("process {}: transistor {} drew dVT = {} V, beyond the chip file's bound |dVT| <= {} V (sigma_VT {} V)",
                                   process.source.empty() ? process.name : process.source, s.name, chip.delvto_V.back(),
                                   netlist::ProcessBounds::max_delvto_V, sd));
  }
  return chip;
}

Chip ideal_chip(const netlist::NetworkSpec& spec) {
  Chip chip;
  chip.spec = spec;
  chip.process_name = "ideal";
  chip.convention = "none";
  for (auto& s : netlist::enumerate_transistors(spec)) chip.names.push_back(s.name);
  chip.delvto_V.assign(chip.names.size(), 0.0);
  return chip;
}

void save_chip(const Chip& chip, const std::string& path) {
  fmt::memory_buffer b;
  auto out = std::back_inserter(b);
  fmt::format_to(out, "# nnspice chip v1\n{}# layers: {}\n# seed: {}\n# process: {}\n# convention: {}\n# transistors: {}\nname,delvto_V\n",
                 chip.spec.weight_bits == model::kDefaultWeightBits ? std::string() : fmt::format("# weight_bits: {}\n", chip.spec.weight_bits),
                 chip.spec.str(), chip.seed, chip.process_name, chip.convention, chip.names.size());
  for (size_t i = 0; i < chip.names.size(); ++i) fmt::format_to(out, "{},{}\n", chip.names[i], chip.delvto_V[i]);
  write_file_atomic(path, fmt::to_string(b));
}

Chip load_chip(const std::string& path, const netlist::NetworkSpec* expect) {
  const std::string text = read_file(path);
  Chip chip;
  size_t pos = 0;
  int lineno = 0;
  bool header_seen = false, have_layers = false;
  size_t declared = 0;
  int bits = model::kDefaultWeightBits;
  std::vector<netlist::TransistorSite> sites;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto at = [&](int col = 0) { return SourceLocation{path, lineno, col, std::string(line)}; };
    if (line[0] == '#') {
      auto meta = [&](std::string_view key) -> std::string {
        const std::string k = fmt::format("# {}: ", key);
        return line.substr(0, k.size()) == k ? std::string(line.substr(k.size())) : std::string();
      };
      if (lineno == 1 && line != "# nnspice chip v1") throw InputError(at(), "not an nnspice chip file (first line must be '# nnspice chip v1')");
      if (auto v = meta("weight_bits"); !v.empty()) {
        if (have_layers) throw InputError(at(), "'# weight_bits:' must come before '# layers:'");
        if (v.size() != 1 || v[0] < '1' || v[0] > '6') throw InputError(at(15), fmt::format("weight_bits '{}': expected 1..6", v));
        bits = v[0] - '0';
      }
      if (auto v = meta("layers"); !v.empty()) {
        try {
          chip.spec = netlist::NetworkSpec::parse(v, "# layers");
        } catch (const InputError& e) {
          throw InputError(at(), e.what());
        }
        chip.spec.weight_bits = bits;
        have_layers = true;
        if (expect && !(*expect == chip.spec))
          throw InputError(at(), chip.spec.layers == expect->layers
                                     ? fmt::format("chip was drawn with {}-bit synapses, but the network {} has {} (the process's weight_bits)",
                                                   chip.spec.weight_bits, expect->str(), expect->weight_bits)
                                     : fmt::format("chip was drawn for network {}, but the network is {}", chip.spec.str(), expect->str()));
        // Every transistor needs a line of at least 6 bytes ("MO0,0\n"): a header announcing more than the file
        // can hold is a truncated (or corrupt) file, found before enumerating billions of names.
        if (const std::size_t n = netlist::count_transistors(chip.spec); n > text.size() / 6)
          throw InputError(at(), fmt::format("truncated chip file: network {} has {} transistors, the file ({} bytes) cannot hold them",
                                             chip.spec.str(), n, text.size()));
        sites = netlist::enumerate_transistors(chip.spec);
        chip.names.reserve(sites.size());
        chip.delvto_V.reserve(sites.size());
      }
      if (auto v = meta("seed"); !v.empty()) chip.seed = std::strtoull(v.c_str(), nullptr, 10);
      if (auto v = meta("process"); !v.empty()) chip.process_name = v;
      if (auto v = meta("convention"); !v.empty()) chip.convention = v;
      if (auto v = meta("transistors"); !v.empty()) declared = std::strtoull(v.c_str(), nullptr, 10);
      continue;
    }
    if (lineno == 1) throw InputError(at(), "not an nnspice chip file (first line must be '# nnspice chip v1')");
    if (!header_seen) {
      if (line != "name,delvto_V") throw InputError(at(1), "expected the column header 'name,delvto_V'");
      if (!have_layers) throw InputError(at(), "chip file lacks the '# layers:' line");
      header_seen = true;
      continue;
    }
    const size_t comma = line.find(',');
    if (comma == std::string_view::npos) throw InputError(at(), "expected 'name,delvto_V'");
    const std::string_view name = line.substr(0, comma), val = line.substr(comma + 1);
    const size_t idx = chip.names.size();
    if (idx >= sites.size()) throw InputError(at(), fmt::format("more transistors than network {} has ({})", chip.spec.str(), sites.size()));
    if (name != sites[idx].name)
      throw InputError(at(1), fmt::format("transistor {} should be '{}' for network {}, found '{}'", idx, sites[idx].name, chip.spec.str(), name));
    double v;
    auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), v);
    if (ec != std::errc() || p != val.data() + val.size() || !std::isfinite(v) || std::abs(v) > netlist::ProcessBounds::max_delvto_V)
      throw InputError(at(static_cast<int>(comma) + 2),
                       fmt::format("'{}' is not a threshold shift in volts (|dVT| <= {} V)", val, netlist::ProcessBounds::max_delvto_V));
    chip.names.emplace_back(name);
    chip.delvto_V.push_back(v);
  }
  if (!have_layers) throw InputError(fmt::format("{}: not an nnspice chip file (no '# layers:' line)", path));
  if (chip.names.size() != sites.size())
    throw InputError(fmt::format("{}: truncated chip file: {} of {} transistors of network {}", path, chip.names.size(), sites.size(), chip.spec.str()));
  if (declared && declared != sites.size())
    throw InputError(fmt::format("{}: header declares {} transistors, network {} has {}", path, declared, chip.spec.str(), sites.size()));
  return chip;
}

std::vector<ClassStats> class_statistics(const Chip& chip, const netlist::Process& process) {
  const auto sites = netlist::enumerate_transistors(chip.spec);
  std::vector<ClassStats> out(kDeviceRoles);
  std::vector<double> s1(kDeviceRoles, 0), s2(kDeviceRoles, 0);
  for (size_t i = 0; i < sites.size(); ++i) {
    const size_t r = static_cast<size_t>(sites[i].role);
    out[r].count++;
    // Mirrors of other bit counts are binary-scaled: each shift is scaled to its role's sigma (the same for 3 bits).
    const double v = sites[i].bit < 0 ? chip.delvto_V[i]
                                      : chip.delvto_V[i] * process.sigma_vt_V(sites[i].role) / process.sigma_mirror_vt_V(sites[i].bit);
    s1[r] += v;
    s2[r] += v * v;
  }
  for (size_t r = 0; r < kDeviceRoles; ++r) {
    auto& c = out[r];
    c.role = netlist::role_name(static_cast<DeviceRole>(r));
    c.sigma_V = process.sigma_vt_V(static_cast<DeviceRole>(r));
    if (c.count > 0) c.mean_V = s1[r] / c.count;
    if (c.count > 1) c.sd_V = std::sqrt(std::max(0.0, (s2[r] - c.count * c.mean_V * c.mean_V) / (c.count - 1)));
  }
  return out;
}

}  // namespace nnspice::mismatch

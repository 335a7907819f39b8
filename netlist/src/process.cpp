#include "nnspice/netlist/process.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/common/yaml_util.hpp"
#include "nnspice/netlist/spice_text.hpp"

namespace nnspice::netlist {

const char* role_name(DeviceRole role) {
  static const char* names[] = {"soma", "mirror_lsb", "mirror_mid", "mirror_msb", "switch", "sink"};
  return names[static_cast<std::size_t>(role)];
}

double Process::sigma_vt_V(DeviceRole r) const {
  const auto& s = size(r);
  const double a = a_vt_V_m[static_cast<std::size_t>(r)];
  const double area = s.w_m * s.l_m;
  return convention == MismatchConvention::per_device ? a / std::sqrt(area) : a / std::sqrt(2 * area);
}

DeviceRole Process::mirror_role(int m) const {
  return m == 0 ? DeviceRole::mirror_lsb : m == weight_bits - 1 ? DeviceRole::mirror_msb : DeviceRole::mirror_mid;
}

DeviceSize Process::mirror_size(int m) const {
  if (weight_bits == 3) return size(mirror_role(m));
  const DeviceSize& lsb = size(DeviceRole::mirror_lsb);
  return {lsb.w_m * static_cast<double>(1 << m), lsb.l_m};
}

double Process::sigma_mirror_vt_V(int m) const {
  const DeviceSize s = mirror_size(m);
  const double a = a_vt_V_m[static_cast<std::size_t>(mirror_role(m))];
  const double area = s.w_m * s.l_m;
  return convention == MismatchConvention::per_device ? a / std::sqrt(area) : a / std::sqrt(2 * area);
}

double Process::c_bit(int m) const { return c_bit_F[m == 0 ? 0 : m == weight_bits - 1 ? 2 : 1]; }

void Process::validate() const {
  auto bad = [&](const std::string& field, double v, const std::string& rule) {
    throw InputError(fmt::format("{}: process.{} = {}. Violated constraint: {}", source.empty() ? "process" : source, field, v, rule));
  };
  if (!(vdd_V > 0 && vdd_V <= 5)) bad("vdd_V", vdd_V, "0 < vdd_V <= 5");
  if (!(temp_C > -273.15 && temp_C < 500)) bad("temp_C", temp_C, "-273.15 < temp_C < 500");
  for (std::size_t i = 0; i < kDeviceRoles; ++i) {
    const auto r = static_cast<DeviceRole>(i);
    using B = ProcessBounds;
    const std::string size_rule = fmt::format("{} <= {{}} < {}", B::min_size_m * 1e6, B::max_size_m * 1e6);
    if (!(sizes[i].w_m >= B::min_size_m && sizes[i].w_m < B::max_size_m))
      bad(fmt::format("sizes.{}.w_um", role_name(r)), sizes[i].w_m * 1e6, fmt::format(fmt::runtime(size_rule), "w_um"));
    if (!(sizes[i].l_m >= B::min_size_m && sizes[i].l_m < B::max_size_m))
      bad(fmt::format("sizes.{}.l_um", role_name(r)), sizes[i].l_m * 1e6, fmt::format(fmt::runtime(size_rule), "l_um"));
    if (!(a_vt_V_m[i] >= 0 && a_vt_V_m[i] < 1e-7)) bad(fmt::format("mismatch.a_vt_mV_um({})", role_name(r)), a_vt_V_m[i] * 1e9, "0 <= a_vt_mV_um < 100");
    // The chip this process draws must load again: sigma_VT = A_VT / sqrt(W L) within the chip file's bound.
    if (!(sigma_vt_V(r) <= B::max_sigma_vt_V))
      bad(fmt::format("sizes.{} (sigma_VT = A_VT / sqrt(W L))", role_name(r)), sigma_vt_V(r),
          fmt::format("sigma_VT <= {} V (chip files hold |dVT| <= {} V)", B::max_sigma_vt_V, B::max_delvto_V));
  }
  if (!(weight_bits >= 1 && weight_bits <= 6)) bad("weight_bits", weight_bits, "1 <= weight_bits <= 6 (magnitude bits of a synapse; 3 = the paper's)");
  for (int m = 0; m < weight_bits; ++m) {
    const DeviceSize s = mirror_size(m);
    if (!(s.w_m < ProcessBounds::max_size_m))
      bad(fmt::format("sizes.mirror_lsb.w_um x 2^{} (bit {} of {})", m, m, weight_bits), s.w_m * 1e6,
          fmt::format("the mirror width of every bit < {} um", ProcessBounds::max_size_m * 1e6));
    if (!(sigma_mirror_vt_V(m) <= ProcessBounds::max_sigma_vt_V))
      bad(fmt::format("mirror of bit {} (sigma_VT = A_VT / sqrt(W L))", m), sigma_mirror_vt_V(m),
          fmt::format("sigma_VT <= {} V (chip files hold |dVT| <= {} V)", ProcessBounds::max_sigma_vt_V, ProcessBounds::max_delvto_V));
  }
  for (double c : {c_vn_F, c_vp_F, c_out_F, c_bit_F[0], c_bit_F[1], c_bit_F[2]})
    if (!(c >= 0 && c < 1e-9)) bad("parasitics", c * 1e15, "0 <= capacitance_fF < 1e6");
  // Everything below reaches netlist text (spice_text.hpp).
  const std::string where = source.empty() ? "process" : source;
  auto text = [&](const std::string& field, const std::string& value, const std::string& why) {
    if (!why.empty()) throw InputError(fmt::format("{}: process.{} = {}: {}", where, field, spice_text::quote(value), why));
  };
  text("name", name, spice_text::why_not_line_text(name));
  text("model_card", model_card, model_card.empty() ? std::string() : spice_text::why_not_path(model_card));
  text("nmos_model", nmos_model, spice_text::why_not_name(nmos_model));
  text("pmos_model", pmos_model, spice_text::why_not_name(pmos_model));
  for (const auto& [k, v] : ngspice_options) {
    text("ngspice_options", k, spice_text::why_not_option_key(k));
    text("ngspice_options." + k, v, spice_text::why_not_option_value(v));
  }
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

struct CardModel {
  std::string name;
  int line = 0;
  std::string level, version;
  int version_line = 0;
};

// A small reader of .model statements (with + continuation lines) that extracts LEVEL and VERSION.
std::vector<CardModel> scan_card(const std::string& text) {
  std::vector<CardModel> models;
  std::istringstream in(text);
  std::string raw;
  int lineno = 0;
  CardModel* cur = nullptr;
  while (std::getline(in, raw)) {
    ++lineno;
    std::string l = lower(raw);
    const auto first = l.find_first_not_of(" \t");
    if (first == std::string::npos || l[first] == '*') continue;
    if (l.compare(first, 6, ".model") == 0) {
      std::istringstream ss(l.substr(first + 6));
      CardModel m;
      ss >> m.name;
      m.line = lineno;
      models.push_back(m);
      cur = &models.back();
    } else if (l[first] != '+') {
      cur = nullptr;
      continue;
    }
    if (!cur) continue;
    // key = value pairs, spaces around '=' allowed
    if (l[first] == '+') l[first] = ' ';
    for (char& c : l)
      if (c == '(' || c == ')' || c == ',') c = ' ';
    std::string s;
    for (size_t i = 0; i < l.size(); ++i) {
      if (l[i] == '=') {
        while (!s.empty() && s.back() == ' ') s.pop_back();
        s += '=';
        ++i;
        while (i < l.size() && l[i] == ' ') ++i;
        --i;
      } else {
        s += l[i];
      }
    }
    std::istringstream ts(s);
    std::string tok;
    while (ts >> tok) {
      const auto eq = tok.find('=');
      if (eq == std::string::npos) continue;
      const std::string k = tok.substr(0, eq), v = tok.substr(eq + 1);
      if (k == "level") cur->level = v;
      if (k == "version") {
        cur->version = v;
        cur->version_line = lineno;
      }
    }
  }
  return models;
}

}  // namespace

void check_model_card(const Process& p) {
  if (p.model_card.empty()) throw InputError(fmt::format("{}: process.model_card is not set", p.source.empty() ? "process" : p.source));
  if (!file_exists(p.model_card))
    throw InputError(fmt::format("{}: model card '{}' not found", p.source.empty() ? "process" : p.source, p.model_card));
  const std::string text = read_file(p.model_card);
  const auto models = scan_card(text);
  for (const std::string* want : {&p.nmos_model, &p.pmos_model}) {
    const auto it = std::find_if(models.begin(), models.end(), [&](const CardModel& m) { return m.name == lower(*want); });
    if (it == models.end())
      throw InputError(fmt::format("model card {} defines no model named '{}' (process {}); it defines: {}", p.model_card, *want,
                                   p.source.empty() ? "default" : p.source, [&] {
                                     std::string s;
                                     for (auto& m : models) s += (s.empty() ? "" : ", ") + m.name;
                                     return s.empty() ? std::string("none") : s;
                                   }()));
    const bool bsim3 = it->level == "49" || it->level == "8" || it->level == "53";
    if (bsim3) {
      double v = 3.3;
      if (!it->version.empty()) {
        try {
          v = std::stod(it->version);
        } catch (...) {
          v = 0;
        }
      }
      if (v < 3.2) {
        SourceLocation at{p.model_card, it->version_line ? it->version_line : it->line, 0,
                          read_line_of_file(p.model_card, it->version_line ? it->version_line : it->line)};
        throw InputError(at, fmt::format("model '{}' has BSIM3 VERSION = {}: ngspice maps it to BSIM3v1, which rejects the "
                                         "delvto mismatch parameter. Set VERSION = 3.3.0 (and RSH = 0) in the card.",
                                         it->name, it->version.empty() ? "(unset)" : it->version));
      }
    }
  }
}

namespace {

/// Throws InputError at `key` of `map` ("FILE:LINE:COL: FIELD = "VALUE": WHY") when `why` is non-empty.
void require_text(const YamlMap& map, const std::string& key, const std::string& field, const std::string& value, const std::string& why) {
  if (!why.empty()) throw InputError(map.where(key), fmt::format("{} = {}: {}", field, spice_text::quote(value), why));
}

}  // namespace

Process load_process(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  YamlMap m(root, path, "process");
  m.check_keys({"name", "model_card", "nmos_model", "pmos_model", "vdd_V", "temp_C", "weight_bits", "sizes", "mismatch", "parasitics", "ngspice_options"});
  Process p;
  p.source = path;
  p.name = m.get_string("name", std::filesystem::path(path).stem().string());
  require_text(m, "name", "process.name", p.name, spice_text::why_not_line_text(p.name));
  const std::string card = m.get_string("model_card");
  require_text(m, "model_card", "process.model_card", card, spice_text::why_not_path(card));
  std::filesystem::path cp(card);
  if (cp.is_relative()) {
    const auto beside = std::filesystem::path(path).parent_path() / cp;
    cp = file_exists(beside.string()) ? beside : std::filesystem::path(resolve_data_path(card));
  }
  std::error_code ec;
  auto abs = std::filesystem::absolute(cp, ec);
  p.model_card = (ec ? cp : abs).lexically_normal().string();
  if (!file_exists(p.model_card)) throw InputError(m.where("model_card"), fmt::format("model card '{}' not found (resolved to {})", card, p.model_card));
  p.nmos_model = m.get_string("nmos_model", p.nmos_model);
  p.pmos_model = m.get_string("pmos_model", p.pmos_model);
  require_text(m, "nmos_model", "process.nmos_model", p.nmos_model, spice_text::why_not_name(p.nmos_model));
  require_text(m, "pmos_model", "process.pmos_model", p.pmos_model, spice_text::why_not_name(p.pmos_model));
  p.vdd_V = m.get_double("vdd_V", p.vdd_V);
  p.temp_C = m.get_double("temp_C", p.temp_C);
  {
    const long long b = m.get_int("weight_bits", p.weight_bits);
    if (b < 1 || b > 6) m.fail("weight_bits", fmt::format("{}: expected 1..6 magnitude bits (3 = the paper's synapse)", b));
    p.weight_bits = static_cast<int>(b);
  }

  std::vector<std::string> role_keys;
  for (std::size_t i = 0; i < kDeviceRoles; ++i) role_keys.push_back(role_name(static_cast<DeviceRole>(i)));

  const YamlMap sizes = m.get_map("sizes");
  sizes.check_keys(role_keys);
  for (std::size_t i = 0; i < kDeviceRoles; ++i) {
    if (!sizes.has(role_keys[i])) continue;
    const YamlMap s = sizes.get_map(role_keys[i]);
    s.check_keys({"w_um", "l_um"});
    p.sizes[i].w_m = s.get_double("w_um", p.sizes[i].w_m * 1e6) * 1e-6;
    p.sizes[i].l_m = s.get_double("l_um", p.sizes[i].l_m * 1e6) * 1e-6;
  }

  const YamlMap mm = m.get_map("mismatch");
  mm.check_keys({"convention", "a_vt_mV_um", "classes"});
  const std::string conv = mm.get_string("convention", "per_device");
  if (conv == "per_device") p.convention = MismatchConvention::per_device;
  else if (conv == "pair_difference") p.convention = MismatchConvention::pair_difference;
  else mm.fail("convention", "expected per_device or pair_difference");
  const double a_default = mm.get_double("a_vt_mV_um", 3.3);
  if (!(a_default >= 0 && a_default < 100)) mm.fail("a_vt_mV_um", "expected 0 <= a_vt_mV_um < 100");
  p.a_vt_V_m.fill(a_default * 1e-9);
  const YamlMap classes = mm.get_map("classes");
  classes.check_keys(role_keys);
  for (std::size_t i = 0; i < kDeviceRoles; ++i) {
    if (!classes.has(role_keys[i])) continue;
    const double a = classes.get_double(role_keys[i]);
    if (!(a >= 0 && a < 100)) classes.fail(role_keys[i], "expected 0 <= a_vt_mV_um < 100");
    p.a_vt_V_m[i] = a * 1e-9;
  }

  const YamlMap par = m.get_map("parasitics");
  par.check_keys({"vn_fF", "vp_fF", "out_fF", "bit_fF"});
  p.c_vn_F = par.get_double("vn_fF", 2) * 1e-15;
  p.c_vp_F = par.get_double("vp_fF", 2) * 1e-15;
  p.c_out_F = par.get_double("out_fF", 3.5) * 1e-15;
  if (par.has("bit_fF")) {
    const YAML::Node b = par.node()["bit_fF"];
    if (!b.IsSequence() || b.size() != 3) par.fail("bit_fF", "expected a list of 3 capacitances [LSB, mid, MSB] in fF");
    for (int i = 0; i < 3; ++i) {
      double v;
      if (!YAML::convert<double>::decode(b[i], v)) par.fail("bit_fF", "expected numbers");
      p.c_bit_F[i] = v * 1e-15;
    }
  }

  const YamlMap opts = m.get_map("ngspice_options");
  for (auto it = opts.node().begin(); it != opts.node().end(); ++it) {
    const std::string key = it->first.Scalar();
    if (!it->second.IsScalar()) opts.fail(key, "expected a scalar value");
    require_text(opts, key, "process.ngspice_options", key, spice_text::why_not_option_key(key));
    require_text(opts, key, "process.ngspice_options." + key, it->second.Scalar(), spice_text::why_not_option_value(it->second.Scalar()));
    p.ngspice_options.emplace_back(key, it->second.Scalar());
  }
  p.validate();
  check_model_card(p);
  return p;
}

std::string process_yaml(const Process& p) {
  // Every field, in load_process's keys and units; numbers with 17 significant digits so the file reads back
  // to the same doubles. Text fields were checked by load_process (or are the built-in defaults).
  auto num = [](double v) { return fmt::format("{:.17g}", v); };
  auto text = [](const std::string& v) {  // a YAML single-quoted scalar: ' doubled, nothing else special
    std::string q = "'";
    for (char c : v) q += c == '\'' ? std::string("''") : std::string(1, c);
    return q + "'";
  };
  std::string y = "# written by nnspice (netlist::process_yaml)\n";
  y += fmt::format("name: {}\nmodel_card: {}\nnmos_model: {}\npmos_model: {}\nvdd_V: {}\ntemp_C: {}\nweight_bits: {}\nsizes:\n", text(p.name),
                   text(p.model_card), text(p.nmos_model), text(p.pmos_model), num(p.vdd_V), num(p.temp_C), p.weight_bits);
  for (std::size_t i = 0; i < kDeviceRoles; ++i)
    y += fmt::format("  {}: {{w_um: {}, l_um: {}}}\n", role_name(static_cast<DeviceRole>(i)), num(p.sizes[i].w_m * 1e6), num(p.sizes[i].l_m * 1e6));
  y += fmt::format("mismatch:\n  convention: {}\n  a_vt_mV_um: {}\n  classes:\n",
                   p.convention == MismatchConvention::per_device ? "per_device" : "pair_difference", num(p.a_vt_V_m[0] * 1e9));
  for (std::size_t i = 0; i < kDeviceRoles; ++i) y += fmt::format("    {}: {}\n", role_name(static_cast<DeviceRole>(i)), num(p.a_vt_V_m[i] * 1e9));
  y += fmt::format("parasitics:\n  vn_fF: {}\n  vp_fF: {}\n  out_fF: {}\n  bit_fF: [{}, {}, {}]\n", num(p.c_vn_F * 1e15), num(p.c_vp_F * 1e15),
                   num(p.c_out_F * 1e15), num(p.c_bit_F[0] * 1e15), num(p.c_bit_F[1] * 1e15), num(p.c_bit_F[2] * 1e15));
  y += "ngspice_options:";
  if (p.ngspice_options.empty()) y += " {}";
  for (const auto& [k, v] : p.ngspice_options) y += fmt::format("\n  {}: {}", text(k), text(v));
  return y + "\n";
}

Process default_process() { return load_process(data_dir() + "/process/tsmc180.yaml"); }

Process load_process_or_default(const std::string& path) { return path.empty() ? default_process() : load_process(path); }

}  // namespace nnspice::netlist

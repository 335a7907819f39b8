#include "nnspice/train/calibration.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/json_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/common/run_info.hpp"

namespace nnspice::train {

void Calibration::check_matches(const Layers& net) const {
  const std::string src = source.empty() ? std::string("calibration") : source;
  if (layers != net)
    throw InputError(fmt::format("{}: calibration is for network {}, but the network is {}", src,
                                 format_layers(layers), format_layers(net)));
  for (std::size_t l = 0; l + 1 < net.size(); ++l) {
    if (slopes.size() <= l || slopes[l].size() != static_cast<std::size_t>(net[l]))
      throw InputError(fmt::format("{}: slopes[{}] has {} values, but layer {} of network {} has {} neurons", src, l,
                                   slopes.size() <= l ? 0 : slopes[l].size(), l, format_layers(net), net[l]));
    if (negative_gain.size() <= l || negative_gain[l].size() != static_cast<std::size_t>(net[l]))
      throw InputError(fmt::format("{}: negative_gain[{}] has {} values, but layer {} of network {} has {} neurons",
                                   src, l, negative_gain.size() <= l ? 0 : negative_gain[l].size(), l,
                                   format_layers(net), net[l]));
  }
  if (slopes.size() != net.size() - 1)
    throw InputError(fmt::format("{}: slopes has {} layers, network {} needs {} (every layer with outgoing synapses)",
                                 src, slopes.size(), format_layers(net), net.size() - 1));
  if (synapse_gain_pos.empty() && synapse_gain_neg.empty()) {
    if (!synapse_gain_code_pos.empty() || !synapse_gain_code_neg.empty())
      throw InputError(fmt::format("{}: gains per code without the ±7 per-synapse gains", src));
    return;
  }
  if (!synapse_gain_code_pos.empty() || !synapse_gain_code_neg.empty())
    for (const auto* g : {&synapse_gain_code_pos, &synapse_gain_code_neg}) {
      const char* name = g == &synapse_gain_code_pos ? "synapse_gain_code_pos" : "synapse_gain_code_neg";
      if (g->size() != net.size() - 1)
        throw InputError(fmt::format("{}: {} has {} layers, network {} needs {} (every weight layer)", src, name, g->size(),
                                     format_layers(net), net.size() - 1));
      for (std::size_t l = 0; l + 1 < net.size(); ++l)
        if ((*g)[l].size() != static_cast<std::size_t>(max_code()) * static_cast<std::size_t>(net[l + 1]) * static_cast<std::size_t>(net[l]))
          throw InputError(fmt::format("{}: {}[{}] has {} values, expected {} x {} x {} (code, post, pre)", src, name, l, (*g)[l].size(),
                                       max_code(), net[l + 1], net[l]));
    }
  for (const auto* g : {&synapse_gain_pos, &synapse_gain_neg}) {
    const char* name = g == &synapse_gain_pos ? "synapse_gain_pos" : "synapse_gain_neg";
    if (g->size() != net.size() - 1)
      throw InputError(fmt::format("{}: {} has {} layers, network {} needs {} (every weight layer)", src, name, g->size(),
                                   format_layers(net), net.size() - 1));
    for (std::size_t l = 0; l + 1 < net.size(); ++l)
      if ((*g)[l].size() != static_cast<std::size_t>(net[l + 1]) * static_cast<std::size_t>(net[l]))
        throw InputError(fmt::format("{}: {}[{}] has {} values, weight layer {} of network {} has {} x {} synapses", src, name,
                                     l, (*g)[l].size(), l, format_layers(net), net[l + 1], net[l]));
  }
}

bool Calibration::homogeneous() const {
  for (const auto& v : slopes)
    for (double s : v)
      if (s != 1.0) return false;
  for (const auto& v : negative_gain)
    for (double g : v)
      if (g != negative_gain[0][0]) return false;
  for (const auto& v : synapse_gain_pos)
    for (double g : v)
      if (g != 1.0) return false;
  for (const auto& v : synapse_gain_neg)
    for (double g : v)
      if (g != negative_gain[0][0]) return false;
  return true;
}

Calibration homogeneous_calibration(const Layers& layers, double negative_gain) {
  Calibration c;
  c.layers = layers;
  for (std::size_t l = 0; l + 1 < layers.size(); ++l) {
    c.slopes.emplace_back(layers[l], 1.0);
    c.negative_gain.emplace_back(layers[l], negative_gain);
  }
  return c;
}

Calibration random_calibration(const Layers& layers, double sigma, double negative_gain, double gain_sigma,
                               std::uint64_t seed) {
  if (!(sigma >= 0 && sigma < 1)) throw InputError(fmt::format("--sigma = {}: must be in [0, 1)", sigma));
  if (!(negative_gain > 0)) throw InputError(fmt::format("--negative-gain = {}: must be > 0", negative_gain));
  if (!(gain_sigma >= 0 && gain_sigma < 1))
    throw InputError(fmt::format("--negative-gain-sigma = {}: must be in [0, 1)", gain_sigma));
  Calibration c = homogeneous_calibration(layers, negative_gain);
  c.seed = static_cast<std::int64_t>(seed);
  c.chip = fmt::format("random (sigma {}, negative gain {} +- {}, seed {})", sigma, negative_gain, gain_sigma, seed);
  Rng slope_rng = Rng::stream(seed, "calibration/slopes");
  Rng gain_rng = Rng::stream(seed, "calibration/negative_gain");
  for (std::size_t l = 0; l < c.slopes.size(); ++l) {
    double sum = 0;
    for (double& s : c.slopes[l]) {
      do s = slope_rng.normal(1.0, sigma);
      while (s < 0.05);
      sum += s;
    }
    for (double& s : c.slopes[l]) s *= static_cast<double>(c.slopes[l].size()) / sum;
    if (gain_sigma > 0)
      for (double& g : c.negative_gain[l]) {
        double f;
        do f = gain_rng.normal(1.0, gain_sigma);
        while (f < 0.05);
        g = negative_gain * f;
      }
  }
  return c;
}

void add_random_synapse_gains(Calibration& c, double sigma, std::uint64_t seed) {
  if (!(sigma >= 0 && sigma < 1)) throw InputError(fmt::format("--synapse-sigma = {}: must be in [0, 1)", sigma));
  c.check_matches(c.layers);
  c.drop_synapse_gains();
  Rng rng = Rng::stream(seed, "calibration/synapse_gains");
  auto draw = [&] {
    double f;
    do f = rng.normal(1.0, sigma);
    while (f < 0.05);
    return f;
  };
  for (std::size_t l = 0; l + 1 < c.layers.size(); ++l) {
    const std::size_t N = static_cast<std::size_t>(c.layers[l]), P = static_cast<std::size_t>(c.layers[l + 1]);
    std::vector<double> pos(N * P), neg(N * P);
    for (std::size_t s = 0; s < N * P; ++s) {
      pos[s] = draw();
      neg[s] = draw();
    }
    for (std::size_t i = 0; i < N; ++i) {  // normalise per pre-neuron (column)
      double sp = 0, sn = 0;
      for (std::size_t j = 0; j < P; ++j) {
        sp += pos[j * N + i];
        sn += neg[j * N + i];
      }
      for (std::size_t j = 0; j < P; ++j) {
        pos[j * N + i] *= static_cast<double>(P) / sp;
        neg[j * N + i] *= c.negative_gain[l][i] * static_cast<double>(P) / sn;
      }
    }
    c.synapse_gain_pos.push_back(std::move(pos));
    c.synapse_gain_neg.push_back(std::move(neg));
  }
}

namespace {

// Physically plausible calibration values (issue 17, class 4): slopes are normalised to mean 1 per layer
// and gains are ratios of two synapse currents, so a value beyond kMaxCalibrationValue is no chip but a
// damaged file (a slope of 1e308 made every output Inf and still printed an accuracy).
constexpr double kMaxCalibrationValue = 1e3;

// Slopes may be 0 (a neuron that never conducted); gains must be > 0. All finite and <= kMaxCalibrationValue.
std::vector<double> number_list(const nlohmann::json& j, const std::string& file, const std::string& field,
                                bool allow_zero = false) {
  if (!j.is_array()) throw InputError(fmt::format("{}: {} must be a list of numbers", file, field));
  std::vector<double> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_number())
      throw InputError(fmt::format("{}: {}[{}] = {} is not a number", file, field, i, j[i].dump()));
    double v = j[i].get<double>();
    if (!std::isfinite(v) || v < 0 || (v == 0 && !allow_zero) || v > kMaxCalibrationValue)
      throw InputError(fmt::format("{}: {}[{}] = {}: must be a finite number {} 0 and <= {}", file, field, i, v,
                                   allow_zero ? ">=" : ">", kMaxCalibrationValue));
    out.push_back(v);
  }
  return out;
}

// The NPY named by synapse_gains[l].<key> (relative to the calibration's folder), read; `file` gets its path.
NpyArray read_named_npy(const std::string& json_path, const nlohmann::json& entry, const std::string& field, const char* key, std::string& file) {
  if (!entry.contains(key) || !entry[key].is_string() || entry[key].get<std::string>().empty())
    throw InputError(fmt::format("{}: {} must name an NPY file (relative to the calibration's folder)", json_path, field));
  const std::filesystem::path rel(entry[key].get<std::string>());
  file = rel.is_absolute() ? rel.string() : (std::filesystem::path(json_path).parent_path() / rel).string();
  try {
    return read_npy(file);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{} (named by {} in {})", e.what(), field, json_path));
  }
}

std::string shape_str(const NpyArray& a) {
  std::vector<std::string> dims;
  for (std::size_t d : a.shape) dims.push_back(fmt::format("{}", d));
  return fmt::format("{}", fmt::join(dims, ", "));
}

// One per-synapse gain matrix: a 2-d NPY of shape (post, pre) with finite values > 0.
std::vector<double> read_gain_matrix(const std::string& json_path, const nlohmann::json& entry, std::size_t l, const char* key,
                                     const Layers& layers) {
  const std::string field = fmt::format("synapse_gains[{}].{}", l, key);
  std::string file;
  const NpyArray a = read_named_npy(json_path, entry, field, key, file);
  const std::size_t post = static_cast<std::size_t>(layers[l + 1]), pre = static_cast<std::size_t>(layers[l]);
  if (a.shape.size() != 2 || a.shape[0] != post || a.shape[1] != pre)
    throw InputError(fmt::format("{}: shape ({}), expected ({}, {}) = (post, pre) for weight layer {} of network {} ({} in {})", file,
                                 shape_str(a), post, pre, l, format_layers(layers), field, json_path));
  for (std::size_t k = 0; k < a.data.size(); ++k)
    if (!(std::isfinite(a.data[k]) && a.data[k] > 0 && a.data[k] <= kMaxCalibrationValue))
      throw InputError(fmt::format("{}: entry [{}, {}] = {}: a synapse gain must be a finite number > 0 and <= 1000 ({} in {}; "
                                   "--synapse-gains false uses the per-neuron model)",
                                   file, k / pre, k % pre, a.data[k], field, json_path));
  return a.data;
}

// Gains per code: a 3-d NPY of shape (K, post, pre), finite, > 0, code K (7) the strongest of each synapse.
std::vector<double> read_code_gains(const std::string& json_path, const nlohmann::json& entry, std::size_t l, const char* key,
                                    const Layers& layers, int max_code) {
  const std::size_t K = static_cast<std::size_t>(max_code);
  const std::string field = fmt::format("synapse_gains[{}].{}", l, key);
  std::string file;
  const NpyArray a = read_named_npy(json_path, entry, field, key, file);
  const std::size_t post = static_cast<std::size_t>(layers[l + 1]), pre = static_cast<std::size_t>(layers[l]), np = post * pre;
  if (a.shape.size() != 3 || a.shape[0] != K || a.shape[1] != post || a.shape[2] != pre)
    throw InputError(fmt::format("{}: shape ({}), expected ({}, {}, {}) = (code, post, pre) for weight layer {} of network {} ({} in {})",
                                 file, shape_str(a), K, post, pre, l, format_layers(layers), field, json_path));
  for (std::size_t q = 0; q < a.data.size(); ++q) {
    const std::size_t k = q / np, s = q % np;
    if (!(std::isfinite(a.data[q]) && a.data[q] > 0 && a.data[q] <= kMaxCalibrationValue))
      throw InputError(fmt::format("{}: entry [{}, {}, {}] (code {}) = {}: a synapse gain must be a finite number > 0 and <= 1000 ({} in {})", file, k,
                                   s / pre, s % pre, k + 1, a.data[q], field, json_path));
  }
  // The trainer's clip needs the maximum code to be the strongest; lower codes may be out of order (a
  // mismatched LSB branch can be weaker than the one below it: the nearest-value rounding handles that).
  for (std::size_t s = 0; s < np; ++s)
    for (std::size_t k = 0; k + 1 < K; ++k)
      if (!(static_cast<double>(K) * a.data[(K - 1) * np + s] > static_cast<double>(k + 1) * a.data[k * np + s]))
        throw InputError(fmt::format("{}: entries [{}, {}, {}] and [{}, {}, {}]: code {} (gain {}) is not stronger than code {} (gain {}); "
                                     "the maximum code must be the strongest ({} in {})",
                                     file, K - 1, s / pre, s % pre, k, s / pre, s % pre, K, a.data[(K - 1) * np + s], k + 1, a.data[k * np + s],
                                     field, json_path));
  return a.data;
}

}  // namespace

Calibration read_calibration(const std::string& path, bool synapse_gains) {
  nlohmann::json j = load_json_file(path);  // syntax errors and duplicate keys: InputError naming file:line
  if (!j.is_object()) throw InputError(fmt::format("{}: expected a JSON object", path));
  // Extra informational keys written by other tools (fit details, notes) are allowed.
  if (!j.contains("format") || !j["format"].is_string() ||
      j["format"].get<std::string>().rfind("nnspice-calibration/1", 0) != 0)
    throw InputError(fmt::format("{}: field 'format' must be \"nnspice-calibration/1\"", path));
  Calibration c;
  c.source = path;
  if (!j.contains("layers") || !j["layers"].is_array())
    throw InputError(fmt::format("{}: field 'layers' (list of layer sizes) is missing", path));
  {
    std::vector<long long> sizes;
    for (std::size_t i = 0; i < j["layers"].size(); ++i) {
      const auto& v = j["layers"][i];
      if (!v.is_number_integer()) throw InputError(fmt::format("{}: layers[{}] = {} is not an integer layer size", path, i, v.dump()));
      sizes.push_back(v.is_number_unsigned() && v.get<std::uint64_t>() > (1ULL << 62) ? (1LL << 62) : v.get<long long>());
    }
    c.layers = model::check_layers(sizes, fmt::format("{}: layers", path));
  }
  if (j.contains("weight_bits")) {
    const auto& b = j["weight_bits"];
    if (!b.is_number_integer() || b.get<long long>() < 1 || b.get<long long>() > 6)
      throw InputError(fmt::format("{}: weight_bits = {}: expected an integer 1..6 (magnitude bits of the chip's synapses)", path, b.dump()));
    c.weight_bits = b.get<int>();
  }
  if (!j.contains("slopes") || !j["slopes"].is_array())
    throw InputError(fmt::format("{}: field 'slopes' (one list per layer) is missing", path));
  for (std::size_t l = 0; l < j["slopes"].size(); ++l)
    c.slopes.push_back(number_list(j["slopes"][l], path, fmt::format("slopes[{}]", l), true));
  const std::size_t L = c.layers.size() - 1;
  if (!j.contains("negative_gain")) {
    for (std::size_t l = 0; l < L; ++l) c.negative_gain.emplace_back(c.layers[l], 1.0);
  } else if (j["negative_gain"].is_number()) {
    double g = j["negative_gain"].get<double>();
    if (!std::isfinite(g) || g <= 0 || g > kMaxCalibrationValue)
      throw InputError(fmt::format("{}: negative_gain = {}: must be a finite number > 0 and <= {}", path, g, kMaxCalibrationValue));
    for (std::size_t l = 0; l < L; ++l) c.negative_gain.emplace_back(c.layers[l], g);
  } else if (j["negative_gain"].is_array()) {
    const auto& ng = j["negative_gain"];
    for (std::size_t l = 0; l < ng.size(); ++l) {
      if (ng[l].is_number()) {
        double g = ng[l].get<double>();
        if (!std::isfinite(g) || g <= 0 || g > kMaxCalibrationValue)
          throw InputError(fmt::format("{}: negative_gain[{}] = {}: must be a finite number > 0 and <= {}", path, l, g, kMaxCalibrationValue));
        c.negative_gain.emplace_back(l < L ? c.layers[l] : 0, g);
      } else {
        c.negative_gain.push_back(number_list(ng[l], path, fmt::format("negative_gain[{}]", l)));
      }
    }
  } else {
    throw InputError(fmt::format("{}: negative_gain must be a number or a list per layer", path));
  }
  if (j.contains("chip") && j["chip"].is_string()) c.chip = j["chip"].get<std::string>();
  if (j.contains("seed") && j["seed"].is_number_integer()) c.seed = j["seed"].get<std::int64_t>();
  c.check_matches(c.layers);
  if (synapse_gains && j.contains("synapse_gains")) {
    const auto& sg = j["synapse_gains"];
    if (!sg.is_array() || sg.size() != L)
      throw InputError(fmt::format("{}: synapse_gains must be a list with one {{\"pos\": NPY, \"neg\": NPY}} per weight layer "
                                   "({} for network {})", path, L, format_layers(c.layers)));
    for (std::size_t l = 0; l < L; ++l) {
      if (!sg[l].is_object())
        throw InputError(fmt::format("{}: synapse_gains[{}] must be an object {{\"pos\": NPY, \"neg\": NPY}}", path, l));
      c.synapse_gain_pos.push_back(read_gain_matrix(path, sg[l], l, "pos", c.layers));
      c.synapse_gain_neg.push_back(read_gain_matrix(path, sg[l], l, "neg", c.layers));
    }
    std::size_t with_codes = 0;
    for (std::size_t l = 0; l < L; ++l) {
      const bool p = sg[l].contains("pos_codes"), n = sg[l].contains("neg_codes");
      if (p != n)
        throw InputError(fmt::format("{}: synapse_gains[{}] names {} but not {} (gains per code need both)", path, l,
                                     p ? "pos_codes" : "neg_codes", p ? "neg_codes" : "pos_codes"));
      with_codes += p ? 1 : 0;
    }
    if (with_codes != 0 && with_codes != L)
      throw InputError(fmt::format("{}: {} of {} synapse_gains entries name pos_codes/neg_codes: all or none", path, with_codes, L));
    for (std::size_t l = 0; l < L && with_codes; ++l) {
      c.synapse_gain_code_pos.push_back(read_code_gains(path, sg[l], l, "pos_codes", c.layers, c.max_code()));
      c.synapse_gain_code_neg.push_back(read_code_gains(path, sg[l], l, "neg_codes", c.layers, c.max_code()));
    }
  }
  return c;
}

void write_calibration(const std::string& path, const Calibration& c) {
  nlohmann::json j;
  j["format"] = "nnspice-calibration/1";
  j["layers"] = c.layers;
  j["slopes"] = c.slopes;
  j["negative_gain"] = c.negative_gain;
  if (c.weight_bits != 3) j["weight_bits"] = c.weight_bits;
  j["chip"] = c.chip;
  if (c.seed >= 0) j["seed"] = c.seed;
  if (c.has_synapse_gains()) {
    c.check_matches(c.layers);
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    j["synapse_gains"] = nlohmann::json::array();
    for (std::size_t l = 0; l < c.synapse_gain_pos.size(); ++l) {
      const std::vector<std::size_t> shape = {static_cast<std::size_t>(c.layers[l + 1]), static_cast<std::size_t>(c.layers[l])};
      const std::string pos = fmt::format("synapse_gain_pos_{}.npy", l), neg = fmt::format("synapse_gain_neg_{}.npy", l);
      write_npy((dir / pos).string(), c.synapse_gain_pos[l], shape);
      write_npy((dir / neg).string(), c.synapse_gain_neg[l], shape);
      j["synapse_gains"].push_back({{"pos", pos}, {"neg", neg}});
      if (c.has_code_gains()) {
        const std::vector<std::size_t> shape3 = {static_cast<std::size_t>(c.max_code()), shape[0], shape[1]};
        const std::string pc = fmt::format("synapse_gain_code_pos_{}.npy", l), nc = fmt::format("synapse_gain_code_neg_{}.npy", l);
        write_npy((dir / pc).string(), c.synapse_gain_code_pos[l], shape3);
        write_npy((dir / nc).string(), c.synapse_gain_code_neg[l], shape3);
        j["synapse_gains"].back()["pos_codes"] = pc;
        j["synapse_gains"].back()["neg_codes"] = nc;
      }
    }
  }
  write_json(path, j);
}

}  // namespace nnspice::train

#include "nnspice/measure/outputs.hpp"

#include <fmt/format.h>

#include <cmath>

#include "nnspice/common/figure.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/run_info.hpp"

namespace nnspice::measure {
namespace {

const double kNaN = std::nan("");

/// Currents of neuron layer `l` of every operating point, rows = ops[b][k] in order (NaN for failed points).
std::vector<double> current_table(const std::vector<std::vector<OpRecord>>& ops, std::size_t l, std::size_t width, std::size_t& rows) {
  std::vector<double> t;
  rows = 0;
  for (const auto& batch : ops)
    for (const auto& r : batch) {
      if (r.ok && l < r.currents.size() && r.currents[l].size() == width)
        t.insert(t.end(), r.currents[l].begin(), r.currents[l].end());
      else
        t.insert(t.end(), width, kNaN);
      ++rows;
    }
  return t;
}

void write_routings(const std::string& path, const std::vector<Routing>& routings, std::size_t l, std::size_t width) {
  std::vector<std::int32_t> v;
  for (const auto& r : routings) v.insert(v.end(), r.pre[l].begin(), r.pre[l].end());
  write_npy(path, v, {routings.size(), width});
}

void write_negative_raw(const std::string& dir, const std::string& prefix, const netlist::NetworkSpec& spec,
                        const std::vector<std::vector<NegativeRouting>>& routs, const std::vector<std::vector<std::vector<OpRecord>>>& pos,
                        const std::vector<std::vector<std::vector<OpRecord>>>& both) {
  for (std::size_t l = 0; l < routs.size(); ++l) {
    const std::size_t N = spec.layers[l], P = spec.layers[l + 1], G = routs[l].size();
    std::vector<std::int32_t> ps, ns, hi;
    for (const auto& r : routs[l]) {
      ps.insert(ps.end(), r.pos.begin(), r.pos.end());
      ns.insert(ns.end(), r.neg.begin(), r.neg.end());
      for (char h : r.high) hi.push_back(h);
    }
    write_npy(fmt::format("{}/{}_{}_pos_source.npy", dir, prefix, l), ps, {G, P});
    write_npy(fmt::format("{}/{}_{}_neg_source.npy", dir, prefix, l), ns, {G, P});
    write_npy(fmt::format("{}/{}_{}_high.npy", dir, prefix, l), hi, {G, N});
    std::size_t rows = 0;
    auto x = current_table(both[l], l, N, rows);
    write_npy(fmt::format("{}/{}_{}_x.npy", dir, prefix, l), x, {rows, N});
    auto yp = current_table(pos[l], l + 1, P, rows);
    write_npy(fmt::format("{}/{}_{}_ypos.npy", dir, prefix, l), yp, {rows, P});
    auto yb = current_table(both[l], l + 1, P, rows);
    write_npy(fmt::format("{}/{}_{}_yboth.npy", dir, prefix, l), yb, {rows, P});
  }
}

nlohmann::json stats_json(const std::vector<double>& v) {
  const Stats s = stats(v);
  return {{"n", s.n}, {"mean", s.mean}, {"sd", s.sd}, {"min", s.min}, {"max", s.max}};
}

}  // namespace

nlohmann::json calibration_json(const Characterization& c, const std::string& chip_name, std::uint64_t chip_seed) {
  nlohmann::json j;
  j["format"] = "nnspice-calibration/1";
  j["layers"] = c.spec.layers;
  j["slopes"] = c.slopes;
  j["negative_gain"] = c.negative_gain;
  if (c.spec.weight_bits != 3) j["weight_bits"] = c.spec.weight_bits;
  j["chip"] = chip_name;
  j["seed"] = chip_seed;
  // Informational keys (readers ignore them).
  j["slopes_source"] = c.slopes_source;
  j["method"] = c.method;
  j["negative_gain_layer"] = c.negative_gain_layer;
  if (c.have_synapses) {
    const std::string why = synapse_gains_unusable(c);
    if (why.empty()) {
      j["synapse_gains"] = nlohmann::json::array();
      for (std::size_t l = 0; l < c.spec.n_weight_layers(); ++l)
        j["synapse_gains"].push_back({{"pos", fmt::format("synapse_gain_pos_{}.npy", l)}, {"neg", fmt::format("synapse_gain_neg_{}.npy", l)}});
      const std::string why_codes = c.have_codes ? code_gains_unusable(c) : "";
      if (c.have_codes && why_codes.empty())
        for (std::size_t l = 0; l < c.spec.n_weight_layers(); ++l) {
          j["synapse_gains"][l]["pos_codes"] = fmt::format("synapse_gain_code_pos_{}.npy", l);
          j["synapse_gains"][l]["neg_codes"] = fmt::format("synapse_gain_code_neg_{}.npy", l);
        }
      else if (c.have_codes)
        j["synapse_code_gains_note"] = "gains per code not referenced: " + why_codes;  // informational
    } else {
      j["synapse_gains_note"] = "per-synapse gains not referenced: " + why;  // informational
    }
  }
  return j;
}

std::string synapse_gains_unusable(const Characterization& c) {
  if (!c.have_synapses) return "no per-synapse measurement (--synapses)";
  if (c.slopes_source != "synapses")
    return "the slopes come from the routings (--ground-truth), the gains in synapse_gain_*_<l>.npy are relative to the per-synapse "
           "slopes (true_slopes_<l>.npy)";
  for (std::size_t l = 0; l < c.spec.n_weight_layers(); ++l) {
    const std::size_t N = c.spec.layers[l];
    for (const auto* g : {&c.synapse_gain_pos, &c.synapse_gain_neg})
      for (std::size_t s = 0; s < (*g)[l].size(); ++s)
        if (!(std::isfinite((*g)[l][s]) && (*g)[l][s] > 0))
          return fmt::format("{}_{}.npy [{}, {}] = {} (no usable operating point for that synapse)",
                             g == &c.synapse_gain_pos ? "synapse_gain_pos" : "synapse_gain_neg", l, s / N, s % N, (*g)[l][s]);
  }
  return "";
}

std::string code_gains_unusable(const Characterization& c) {
  if (!c.have_codes) return "no gains per code (--synapse-codes bits|all)";
  for (std::size_t l = 0; l < c.spec.n_weight_layers(); ++l) {
    const std::size_t N = c.spec.layers[l], NP = N * c.spec.layers[l + 1];
    for (const auto* g : {&c.synapse_gain_code_pos, &c.synapse_gain_code_neg}) {
      const char* name = g == &c.synapse_gain_code_pos ? "synapse_gain_code_pos" : "synapse_gain_code_neg";
      for (std::size_t q = 0; q < (*g)[l].size(); ++q) {
        const std::size_t k = q / NP, s = q % NP;
        const double v = (*g)[l][q];
        if (!(std::isfinite(v) && v > 0))
          return fmt::format("{}_{}.npy [{}, {}, {}] = {} (no usable operating point for that synapse at code {})", name, l, k, s / N, s % N, v, k + 1);
        if (k + 1 < 7 && !(7 * (*g)[l][6 * NP + s] > static_cast<double>(k + 1) * v))
          return fmt::format("{}_{}.npy [6, {}, {}]: code 7 is not stronger than code {} (the maximum code must be the strongest)", name, l,
                             s / N, s % N, k + 1);
      }
    }
  }
  return "";
}

nlohmann::json failure_reasons_json(const Characterization& c) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& [why, n] : c.failure_reasons) a.push_back({{"reason", why}, {"operating_points", n}});
  return a;
}

nlohmann::json summary_json(const Characterization& c) {
  const std::size_t L = c.spec.n_weight_layers();
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t l = 0; l < L; ++l) {
    nlohmann::json e = {{"layer", l},
                        {"neurons", c.spec.layers[l]},
                        {"slope_raw", stats_json(c.slopes_raw[l])},
                        {"slope_normalised", stats_json(c.slopes[l])},
                        {"negative_gain", stats_json(c.negative_gain[l])},
                        {"negative_gain_layer", c.negative_gain_layer[l]},
                        {"negative_gain_fallbacks", c.negative_fallbacks[l]}};
    std::vector<double> np(c.negative_n_points[l].begin(), c.negative_n_points[l].end());
    e["negative_points_per_neuron"] = stats_json(np);
    if (c.slopes_source == "routings") {
      std::vector<double> pts(c.routing_estimate.n_points[l].begin(), c.routing_estimate.n_points[l].end());
      e["slope_points_per_neuron"] = stats_json(pts);
      e["slope_fit_rel_rms"] = c.routing_estimate.rel_rms[l];
    }
    if (c.have_synapses) {
      e["synapse_gain_pos"] = stats_json(c.synapse_gain_pos[l]);
      e["synapse_gain_neg"] = stats_json(c.synapse_gain_neg[l]);
      e["true_slope_raw"] = stats_json(c.true_slopes[l]);
    }
    if (c.have_codes) {
      const std::size_t NP = static_cast<std::size_t>(c.spec.layers[l]) * c.spec.layers[l + 1];
      for (const auto* g : {&c.synapse_gain_code_pos, &c.synapse_gain_code_neg}) {
        nlohmann::json per_code = nlohmann::json::array();
        for (std::size_t k = 1; k <= c.code_source.size(); ++k) {
          const std::vector<double> v((*g)[l].begin() + static_cast<std::ptrdiff_t>((k - 1) * NP),
                                      (*g)[l].begin() + static_cast<std::ptrdiff_t>(k * NP));
          nlohmann::json st = stats_json(v);
          st["code"] = k;
          st["source"] = c.code_source[k - 1];
          per_code.push_back(st);
        }
        e[g == &c.synapse_gain_code_pos ? "synapse_gain_code_pos" : "synapse_gain_code_neg"] = per_code;
      }
    }
    layers.push_back(e);
  }
  nlohmann::json s = {{"layers", c.spec.layers},
                      {"method", c.method},
                      {"slopes_source", c.slopes_source},
                      {"routings", c.options.routings},
                      {"routings_simulated", c.routings.size()},
                      {"levels_A", c.options.levels_A},
                      {"negative_routings_per_layer", c.negative_routings.empty() ? 0 : c.negative_routings[0].size()},
                      {"negative_levels_A", c.options.negative_levels_A},
                      {"negative_ratio", c.options.negative.high_ratio},
                      {"negative_fanin", c.options.negative.high_fanin},
                      {"negative_min_fraction", c.options.negative_min_fraction},
                      {"negative_points_rejected", c.negative_rejected},
                      {"routing_seed", c.options.seed},
                      {"fit", fit_kind_name(c.options.fit)},
                      {"per_layer", layers},
                      {"operating_points", c.runner.ops_total},
                      {"operating_points_simulated", c.runner.ops_simulated},
                      {"operating_points_from_checkpoint", c.runner.ops_from_log},
                      {"operating_points_failed", c.failed_ops},
                      {"failure_reasons", failure_reasons_json(c)},
                      {"newton_iterations", c.runner.newton_iterations},
                      {"simulation_wall_s", c.runner.wall_s}};
  if (!c.ground_truth.is_null()) s["ground_truth"] = c.ground_truth;
  if (c.have_synapses) s["synapse_codes"] = synapse_codes_name(c.options.synapse_codes);
  if (c.have_codes) {
    s["synapse_codes_measured"] = c.codes_measured;
    if (!c.additivity.is_null()) s["synapse_code_additivity"] = c.additivity;
  }
  return s;
}

void write_characterization(const std::string& dir, const Characterization& c, const std::string& chip_name, std::uint64_t chip_seed) {
  const auto& spec = c.spec;
  const std::size_t L = spec.n_weight_layers();
  for (std::size_t l = 0; l < L; ++l) {
    const std::size_t N = spec.layers[l];
    write_npy(fmt::format("{}/slopes_{}.npy", dir, l), c.slopes[l], {N});
    write_npy(fmt::format("{}/slopes_raw_{}.npy", dir, l), c.slopes_raw[l], {N});
    write_npy(fmt::format("{}/negative_gain_{}.npy", dir, l), c.negative_gain[l], {N});
  }
  write_npy(dir + "/levels.npy", c.options.levels_A, {c.options.levels_A.size()});
  write_npy(dir + "/negative_levels.npy", c.options.negative_levels_A, {c.options.negative_levels_A.size()});
  if (!c.routings.empty()) {
    for (std::size_t l = 0; l < L; ++l) write_routings(fmt::format("{}/routings_{}.npy", dir, l), c.routings, l, spec.layers[l + 1]);
    for (std::size_t l = 0; l < spec.layers.size(); ++l) {
      std::size_t rows = 0;
      const auto t = current_table(c.routing_ops, l, spec.layers[l], rows);
      write_npy(fmt::format("{}/currents_{}.npy", dir, l), t, {rows, static_cast<std::size_t>(spec.layers[l])});
    }
    write_negative_raw(dir, "negative", spec, c.negative_routings, c.negative_pos, c.negative_both);
  }
  if (c.have_synapses) {
    for (std::size_t l = 0; l < L; ++l) {
      const std::size_t N = spec.layers[l], P = spec.layers[l + 1];
      write_npy(fmt::format("{}/synapse_gain_pos_{}.npy", dir, l), c.synapse_gain_pos[l], {P, N});
      write_npy(fmt::format("{}/synapse_gain_neg_{}.npy", dir, l), c.synapse_gain_neg[l], {P, N});
      write_npy(fmt::format("{}/synapse_slope_{}.npy", dir, l), c.synapse_slope[l], {P, N});
      write_npy(fmt::format("{}/true_slopes_{}.npy", dir, l), c.true_slopes[l], {N});
      write_routings(fmt::format("{}/synapse_routings_{}.npy", dir, l), c.cyclic, l, P);
      if (c.have_codes) {
        const std::size_t K = static_cast<std::size_t>(c.spec.max_code());
        write_npy(fmt::format("{}/synapse_gain_code_pos_{}.npy", dir, l), c.synapse_gain_code_pos[l], {K, P, N});
        write_npy(fmt::format("{}/synapse_gain_code_neg_{}.npy", dir, l), c.synapse_gain_code_neg[l], {K, P, N});
      }
    }
    for (std::size_t l = 0; l < spec.layers.size(); ++l) {
      std::size_t rows = 0;
      const auto t = current_table(c.cyclic_ops, l, spec.layers[l], rows);
      write_npy(fmt::format("{}/synapse_currents_{}.npy", dir, l), t, {rows, static_cast<std::size_t>(spec.layers[l])});
    }
    write_negative_raw(dir, "synapse_negative", spec, c.negative_all, c.negative_all_pos, c.negative_all_both);
  }
  // Last, so that the files it references exist once it does.
  write_json(dir + "/calibration.json", calibration_json(c, chip_name, chip_seed));
}

bool plot_slopes(const std::string& dir, const Characterization& c) {
  const std::size_t L = c.spec.n_weight_layers();
  std::string dat = "# layer block per index: neuron, normalised slope, raw slope (written by nnspice characterize)\n";
  std::string gp = fmt::format(
      "# Slopes of every neuron per layer (mean ± sd), like Binas et al. Fig. 5c\n"
      "set termoption font ',11'\nset multiplot layout {},1 title 'nnspice characterize: "
      "{} ({}, slopes from {})'\n",
      L, c.spec.str(), c.method, c.slopes_source);
  for (std::size_t l = 0; l < L; ++l) {
    if (l) dat += "\n\n";
    for (std::size_t i = 0; i < c.slopes[l].size(); ++i) dat += fmt::format("{} {:.17g} {:.17g}\n", i, c.slopes[l][i], c.slopes_raw[l][i]);
    const Stats s = stats(c.slopes[l]);
    const int n = c.spec.layers[l];
    gp += fmt::format(
        "set title 'layer {} ({} neurons): mean {:.3f}, sd {:.3f}, min {:.3f}, max {:.3f}'\n"
        "set xlabel 'neuron'\nset ylabel 'slope (normalised)'\nset xrange [-1:{}]\nset key off\nset grid ytics\n"
        "plot {:.6g} with lines lw 2 lc rgb '#1f77b4', {:.6g} with lines dt 2 lc rgb '#1f77b4', {:.6g} with lines dt 2 lc rgb '#1f77b4', "
        "'slopes.dat' index {} using 1:2 with points pt 7 ps 0.8 lc rgb '#d62728'\n",
        l, n, s.mean, s.sd, s.min, s.max, n, s.mean, s.mean + s.sd, s.mean - s.sd, l);
  }
  gp += "unset multiplot\n";
  return write_figure(dir, "slopes", gp, {{"slopes.dat", dat}}, {900, static_cast<int>(260 * L + 40)});
}

}  // namespace nnspice::measure

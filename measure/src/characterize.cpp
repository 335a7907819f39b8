#include "nnspice/measure/characterize.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/common/rng.hpp"

namespace nnspice::measure {
namespace {

using Matrix = std::vector<double>;  // row-major

const double kNaN = std::nan("");

void check_levels(const std::vector<double>& levels, const char* field) {
  if (levels.empty()) throw InputError(fmt::format("CharacterizeOptions::{} is empty. Violated constraint: at least one level", field));
  for (double x : levels)
    if (!(x > 0 && x <= 1e-5))
      throw InputError(fmt::format("CharacterizeOptions::{} contains {} A. Violated constraint: 0 < level <= 1e-5 A (our input "
                                   "current sources cannot drive negative currents)", field, x));
}

std::vector<std::vector<double>> equal_inputs(const netlist::NetworkSpec& spec, const std::vector<double>& levels) {
  std::vector<std::vector<double>> in;
  for (double x : levels) in.emplace_back(spec.layers[0], x);
  return in;
}

bool usable(const OpRecord& r, std::size_t n_layers) { return r.ok && r.currents.size() == n_layers; }

}  // namespace

const char* fit_kind_name(SlopeFitKind k) { return k == SlopeFitKind::pooled ? "pooled" : "synapse-mean"; }

SlopeFitKind parse_fit_kind(const std::string& text) {
  if (text == "pooled") return SlopeFitKind::pooled;
  if (text == "synapse-mean") return SlopeFitKind::synapse_mean;
  throw InputError(fmt::format("--fit = '{}': expected 'pooled' (the paper) or 'synapse-mean'", text));
}

const char* synapse_codes_name(SynapseCodes c) {
  return c == SynapseCodes::max_only ? "7" : c == SynapseCodes::bits ? "bits" : "all";
}

SynapseCodes parse_synapse_codes(const std::string& text) {
  if (text == "7") return SynapseCodes::max_only;
  if (text == "bits") return SynapseCodes::bits;
  if (text == "all") return SynapseCodes::all;
  throw InputError(fmt::format("--synapse-codes = '{}': expected 7 (gains at ±7 only), bits (±1, ±2, ±4 measured, the other codes as "
                               "sums of their bits) or all (every code measured)", text));
}

std::vector<int> measured_codes(SynapseCodes c, int max_code) {
  std::vector<int> v;  // besides the maximum code, which the ±max measurement gives
  if (c == SynapseCodes::bits)
    for (int b = 1; b < max_code; b <<= 1) v.push_back(b);
  if (c == SynapseCodes::all)
    for (int k = 1; k < max_code; ++k) v.push_back(k);
  return v;
}

void CharacterizeOptions::validate(const netlist::NetworkSpec& spec) const {
  const std::size_t L = spec.n_weight_layers();
  if (routings < 1 || routings > 100000)
    throw InputError(fmt::format("--routings = {}. Violated constraint: 1 <= routings <= 100000", routings));
  const bool routing_phase = !synapses || ground_truth;  // --synapses alone runs no random routings
  for (std::size_t l = 0; l < L && routing_phase; ++l)
    if (routings * spec.layers[l + 1] < static_cast<std::size_t>(spec.layers[l]))
      throw InputError(fmt::format("--routings = {}: too few for layer {} ({} neurons, {} post-neurons per routing); every neuron needs "
                                   "a point. Violated constraint: routings >= {}",
                                   routings, l, spec.layers[l], spec.layers[l + 1],
                                   (spec.layers[l] + spec.layers[l + 1] - 1) / spec.layers[l + 1]));
  check_levels(levels_A, "levels_A (--levels)");
  check_levels(negative_levels_A, "negative_levels_A (--negative-levels)");
  // Routings come in positive+negative pairs: an odd count was silently rounded up to the next pair.
  if (negative_routings < 2 || negative_routings > 100000 || negative_routings % 2 != 0)
    throw InputError(fmt::format("--negative-routings = {}. Violated constraint: an even number in 2..100000 (2, 4, 6, ...: positive+negative "
                                 "pairs)", negative_routings));
  if (!(negative.high_ratio >= 1.5 && negative.high_ratio <= 100))
    throw InputError(fmt::format("--negative-ratio = {}. Violated constraint: 1.5 <= ratio <= 100", negative.high_ratio));
  if (negative.high_fanin < 2 || negative.high_fanin > 100)
    throw InputError(fmt::format("--negative-fanin = {}. Violated constraint: 2 <= fanin <= 100", negative.high_fanin));
  for (double x : negative_levels_A)
    if (x * negative.high_ratio > 1e-5)
      throw InputError(fmt::format("--negative-levels: {} A times --negative-ratio {} exceeds 1e-5 A", x, negative.high_ratio));
  if (!(negative_min_fraction >= 0 && negative_min_fraction < 1))
    throw InputError(fmt::format("negative_min_fraction = {}. Violated constraint: 0 <= fraction < 1", negative_min_fraction));
  for (std::size_t l = 0; l < L; ++l)
    if (spec.layers[l] < 2)
      throw InputError(fmt::format("network {}: layer {} has 1 neuron; the negative gain needs >= 2 neurons per layer with outgoing "
                                   "synapses", spec.str(), l));
  if (ground_truth) {
    if (ground_truth_routings.empty()) throw InputError("--ground-truth-routings is empty");
    for (auto r : ground_truth_routings)
      if (r < 1 || r > 100000) throw InputError(fmt::format("--ground-truth-routings contains {}. Violated constraint: 1..100000", r));
  }
  if (!(y_min_A >= 0)) throw InputError(fmt::format("y_min_A = {}. Violated constraint: >= 0", y_min_A));
  if (synapse_codes != SynapseCodes::max_only && !synapses && !ground_truth)
    throw InputError(fmt::format("--synapse-codes = {} needs the per-synapse measurement: add --synapses (or --ground-truth)",
                                 synapse_codes_name(synapse_codes)));
}

SlopeEstimate estimate_slopes(const netlist::NetworkSpec& spec, const std::vector<Routing>& routings,
                              const std::vector<std::vector<OpRecord>>& ops, std::size_t n_routings, double y_min_A,
                              SlopeFitKind fit) {
  const std::size_t L = spec.n_weight_layers();
  n_routings = std::min({n_routings, routings.size(), ops.size()});
  std::vector<std::vector<std::vector<double>>> xs(L), ys(L);
  std::vector<std::vector<std::vector<std::size_t>>> posts(L);
  for (std::size_t l = 0; l < L; ++l) xs[l].resize(spec.layers[l]), ys[l].resize(spec.layers[l]), posts[l].resize(spec.layers[l]);
  for (std::size_t r = 0; r < n_routings; ++r)
    for (const auto& op : ops[r]) {
      if (!usable(op, spec.layers.size())) continue;
      for (std::size_t l = 0; l < L; ++l)
        for (std::size_t j = 0; j < routings[r].pre[l].size(); ++j) {
          const int i = routings[r].pre[l][j];
          xs[l][i].push_back(op.currents[l][i]);
          ys[l][i].push_back(op.currents[l + 1][j]);
          posts[l][i].push_back(j);
        }
    }
  SlopeEstimate e;
  e.raw.resize(L);
  e.n_points.resize(L);
  e.rel_rms.assign(L, kNaN);
  for (std::size_t l = 0; l < L; ++l) {
    double rss = 0, syy = 0;
    for (int i = 0; i < spec.layers[l]; ++i) {
      const SlopeFit f = fit_through_origin(xs[l][i], ys[l][i], y_min_A);
      double slope = f.slope;
      if (fit == SlopeFitKind::synapse_mean) {
        std::vector<double> per_synapse;
        for (int j = 0; j < spec.layers[l + 1]; ++j) {
          std::vector<double> x, y;
          for (std::size_t k = 0; k < xs[l][i].size(); ++k)
            if (posts[l][i][k] == static_cast<std::size_t>(j)) x.push_back(xs[l][i][k]), y.push_back(ys[l][i][k]);
          if (!x.empty()) per_synapse.push_back(fit_through_origin(x, y, y_min_A).slope);
        }
        const Stats st = stats(per_synapse);
        slope = st.n ? st.mean : kNaN;
      }
      e.raw[l].push_back(slope);
      e.n_points[l].push_back(f.n_points);
      for (std::size_t k = 0; k < xs[l][i].size(); ++k) {
        const double x = xs[l][i][k], y = ys[l][i][k];
        if (!(x > 0) || !(y > y_min_A) || !std::isfinite(f.slope)) continue;
        rss += (y - f.slope * x) * (y - f.slope * x);
        syy += y * y;
      }
    }
    if (syy > 0) e.rel_rms[l] = std::sqrt(rss / syy);
  }
  return e;
}

std::vector<std::vector<double>> synapse_slopes(const netlist::NetworkSpec& spec, const std::vector<Routing>& routings,
                                                const std::vector<std::vector<OpRecord>>& ops, double y_min_A) {
  const std::size_t L = spec.n_weight_layers();
  std::vector<std::vector<std::vector<double>>> xs(L), ys(L);
  for (std::size_t l = 0; l < L; ++l) {
    xs[l].resize(static_cast<std::size_t>(spec.layers[l]) * spec.layers[l + 1]);
    ys[l].resize(xs[l].size());
  }
  for (std::size_t m = 0; m < std::min(routings.size(), ops.size()); ++m)
    for (const auto& op : ops[m]) {
      if (!usable(op, spec.layers.size())) continue;
      for (std::size_t l = 0; l < L; ++l)
        for (std::size_t j = 0; j < routings[m].pre[l].size(); ++j) {
          const int i = routings[m].pre[l][j];
          const std::size_t s = j * spec.layers[l] + i;
          xs[l][s].push_back(op.currents[l][i]);
          ys[l][s].push_back(op.currents[l + 1][j]);
        }
    }
  std::vector<std::vector<double>> out(L);
  for (std::size_t l = 0; l < L; ++l)
    for (std::size_t s = 0; s < xs[l].size(); ++s) out[l].push_back(fit_through_origin(xs[l][s], ys[l][s], y_min_A).slope);
  return out;
}

std::vector<NegativePoint> negative_points(const netlist::NetworkSpec& spec, const std::vector<NegativeRouting>& routings,
                                           const std::vector<std::vector<OpRecord>>& ops_pos,
                                           const std::vector<std::vector<OpRecord>>& ops_both,
                                           const std::vector<std::vector<double>>& slopes_raw, double min_fraction,
                                           std::size_t& rejected) {
  std::vector<NegativePoint> pts;
  for (std::size_t g = 0; g < routings.size(); ++g) {
    const auto& r = routings[g];
    const std::size_t l = r.layer;
    for (std::size_t k = 0; k < std::min(ops_pos.at(g).size(), ops_both.at(g).size()); ++k) {
      const OpRecord &pos = ops_pos[g][k], &both = ops_both[g][k];
      if (!usable(pos, spec.layers.size()) || !usable(both, spec.layers.size())) continue;
      for (std::size_t j = 0; j < r.neg.size(); ++j) {
        const int q = r.neg[j];
        const double x = both.currents[l][q];
        const double ip = pos.currents[l + 1][j], ib = both.currents[l + 1][j];
        const double a = slopes_raw.at(l).at(q);
        if (!(ip > 0) || !(x > 0) || !std::isfinite(a) || ib < min_fraction * ip) {
          ++rejected;
          continue;
        }
        pts.push_back({l, j, static_cast<std::size_t>(q), a * x, ip - ib});
      }
    }
  }
  return pts;
}

std::vector<double> negative_gain_per_neuron(const std::vector<NegativePoint>& points, std::size_t layer, std::size_t n_pre,
                                             std::vector<std::size_t>* n_points) {
  std::vector<double> sud(n_pre, 0), suu(n_pre, 0);
  std::vector<std::size_t> n(n_pre, 0);
  for (const auto& p : points) {
    if (p.layer != layer || p.pre >= n_pre) continue;
    sud[p.pre] += p.u_A * p.d_A;
    suu[p.pre] += p.u_A * p.u_A;
    ++n[p.pre];
  }
  std::vector<double> g(n_pre, kNaN);
  for (std::size_t i = 0; i < n_pre; ++i)
    if (suu[i] > 0) g[i] = sud[i] / suu[i];
  if (n_points) *n_points = n;
  return g;
}

nlohmann::json compare_with_truth(const netlist::NetworkSpec& spec, const std::vector<Routing>& routings,
                                  const std::vector<std::vector<OpRecord>>& ops, std::size_t n_routings,
                                  const std::vector<std::vector<double>>& synapse_slope,
                                  const std::vector<std::vector<double>>& true_slopes, double y_min_A, SlopeFitKind fit) {
  const std::size_t L = spec.n_weight_layers();
  const SlopeEstimate est = estimate_slopes(spec, routings, ops, n_routings, y_min_A, fit);
  n_routings = std::min({n_routings, routings.size(), ops.size()});
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t l = 0; l < L; ++l) {
    const std::size_t N = spec.layers[l], P = spec.layers[l + 1];
    // Weight of each synapse in the pooled fit: Σ x² of its points.
    std::vector<double> w(N * P, 0);
    for (std::size_t r = 0; r < n_routings; ++r)
      for (const auto& op : ops[r]) {
        if (!usable(op, spec.layers.size())) continue;
        for (std::size_t j = 0; j < P; ++j) {
          const int i = routings[r].pre[l][j];
          const double x = op.currents[l][i], y = op.currents[l + 1][j];
          if (x > 0 && y > y_min_A) w[j * N + i] += fit == SlopeFitKind::pooled ? x * x : 1.0;
        }
      }
    std::vector<double> rel_err(N, kNaN), expected(N, kNaN), est_norm, true_norm;
    std::size_t missing = 0, within = 0, judged = 0;
    double max_z = 0, max_sampling = 0, max_current = 0;
    for (std::size_t i = 0; i < N; ++i) {
      const double a = true_slopes[l][i], e = est.raw[l][i];
      if (!std::isfinite(e)) {
        ++missing;
        continue;
      }
      rel_err[i] = e / a - 1;
      double wsum = 0, w2 = 0;
      std::vector<double> col;
      for (std::size_t j = 0; j < P; ++j) {
        wsum += w[j * N + i];
        col.push_back(synapse_slope[l][j * N + i]);
      }
      if (fit == SlopeFitKind::synapse_mean)  // each sampled synapse counts once
        for (std::size_t j = 0; j < P; ++j) w[j * N + i] = w[j * N + i] > 0 ? 1.0 : 0.0;
      wsum = 0;
      for (std::size_t j = 0; j < P; ++j) wsum += w[j * N + i];
      for (std::size_t j = 0; j < P; ++j) w2 += (w[j * N + i] / wsum) * (w[j * N + i] / wsum);
      const Stats s = stats(col);
      // Sampling error of a weighted mean of a finite population of P synapses (sample sd s).
      expected[i] = (s.sd / a) * std::sqrt(std::max(0.0, w2 - 1.0 / P));
      // Split the error: the same weights on the exhaustively measured synapse slopes give the sampling part;
      // the rest is the synapses' slopes refitted over other input currents (hidden neurons' inputs depend on
      // their feeders), i.e. the current dependence of the gain.
      double ws = 0;
      for (std::size_t j = 0; j < P; ++j)
        if (w[j * N + i] > 0 && std::isfinite(col[j])) ws += w[j * N + i] / wsum * col[j];
      const double sampling = ws / a - 1;
      max_sampling = std::max(max_sampling, std::abs(sampling));
      max_current = std::max(max_current, std::abs(rel_err[i] - sampling));
      ++judged;
      if (std::abs(sampling) <= 2 * expected[i] + 1e-9) ++within;
      if (expected[i] > 0) max_z = std::max(max_z, std::abs(sampling) / expected[i]);
    }
    double max_abs = 0, ss = 0;
    std::size_t n = 0;
    for (double x : rel_err)
      if (std::isfinite(x)) max_abs = std::max(max_abs, std::abs(x)), ss += x * x, ++n;
    const Stats es = stats(expected);
    std::vector<double> tn = true_slopes[l], en = est.raw[l];
    double max_norm = 0;
    try {
      tn = normalise_mean_one(tn);
      en = normalise_mean_one(en);
      for (std::size_t i = 0; i < N; ++i)
        if (std::isfinite(en[i])) max_norm = std::max(max_norm, std::abs(en[i] / tn[i] - 1));
    } catch (const NumericalError&) {
      max_norm = kNaN;
    }
    layers.push_back({{"layer", l},
                      {"r", pearson(est.raw[l], true_slopes[l])},
                      {"max_rel_err", n ? max_abs : kNaN},
                      {"rms_rel_err", n ? std::sqrt(ss / n) : kNaN},
                      {"max_rel_err_normalised", max_norm},
                      {"expected_rel_err_mean", es.n ? es.mean : kNaN},
                      {"max_sampling_err", judged ? max_sampling : kNaN},
                      {"max_current_dependence_err", judged ? max_current : kNaN},
                      {"within_2_expected", judged ? static_cast<double>(within) / judged : kNaN},
                      {"max_sampling_err_over_expected", judged ? max_z : kNaN},
                      {"neurons_without_points", missing}});
  }
  return {{"routings", n_routings}, {"fit", fit_kind_name(fit)}, {"layers", layers}};
}

namespace {

/// Per-code gains (CharacterizeOptions::synapse_codes): for each measured magnitude k and weight layer l the
/// cyclic routings 0 … N_l − 1 with layers < l at +7 (so the pre-neurons see the currents of the ±7 design),
/// layer l at +k and later layers at 0; and the exhaustive negative routings with the negative synapses at −k
/// (drive and positive synapses at +7, positive-only points reused from the −7 design).
template <class CountFailed>
void measure_code_gains(Characterization& c, OpRunner& runner, CountFailed&& count_failed) {
  const auto& spec = c.spec;
  const auto& o = c.options;
  const std::size_t L = spec.n_weight_layers();
  c.have_codes = true;
  const int K = spec.max_code();
  c.codes_measured = measured_codes(o.synapse_codes, K);
  c.code_source.assign(static_cast<std::size_t>(K), "measured");
  c.synapse_gain_code_pos.assign(L, {});
  c.synapse_gain_code_neg.assign(L, {});
  for (std::size_t l = 0; l < L; ++l) {
    const std::size_t NP = static_cast<std::size_t>(spec.layers[l]) * spec.layers[l + 1];
    c.synapse_gain_code_pos[l].assign(static_cast<std::size_t>(K) * NP, kNaN);
    c.synapse_gain_code_neg[l].assign(static_cast<std::size_t>(K) * NP, kNaN);
    for (std::size_t s = 0; s < NP; ++s) {  // the maximum code: the ±max measurement
      c.synapse_gain_code_pos[l][static_cast<std::size_t>(K - 1) * NP + s] = c.synapse_gain_pos[l][s];
      c.synapse_gain_code_neg[l][static_cast<std::size_t>(K - 1) * NP + s] = c.synapse_gain_neg[l][s];
    }
  }
  for (int k : c.codes_measured) {
    const double unit = static_cast<double>(K) / k;  // per unit of code, like the ±max gains
    // Positive: one set of cyclic routings per weight layer.
    std::vector<OpBatch> batches;
    for (std::size_t l = 0; l < L; ++l)
      for (std::size_t m = 0; m < static_cast<std::size_t>(spec.layers[l]); ++m) {
        OpBatch b;
        b.weights = routing_weights(spec, c.cyclic[m]);
        for (std::size_t q = l; q < L; ++q)
          for (auto& code : b.weights[q].codes)
            if (code != 0) code = static_cast<std::int8_t>(q == l ? k : 0);
        b.inputs = equal_inputs(spec, o.levels_A);
        batches.push_back(std::move(b));
      }
    auto res = runner.run(batches, fmt::format("synapses +{}", k));
    count_failed(res);
    std::vector<std::vector<std::vector<OpRecord>>> per_layer(L);
    std::size_t b = 0;
    for (std::size_t l = 0; l < L; ++l) {
      const std::size_t N = spec.layers[l], P = spec.layers[l + 1];
      for (std::size_t m = 0; m < N; ++m) per_layer[l].push_back(std::move(res[b++]));
      const std::vector<Routing> routs(c.cyclic.begin(), c.cyclic.begin() + static_cast<std::ptrdiff_t>(N));
      const auto slope = synapse_slopes(spec, routs, per_layer[l], o.y_min_A)[l];
      for (std::size_t s = 0; s < N * P; ++s)
        c.synapse_gain_code_pos[l][(k - 1) * N * P + s] = unit * slope[s] / c.true_slopes[l][s % N];
    }
    c.code_pos_ops.push_back(std::move(per_layer));
    // Negative: only the points with the negative synapses on are new.
    batches.clear();
    for (std::size_t l = 0; l < L; ++l)
      for (const auto& r : c.negative_all[l]) {
        OpBatch nb;
        nb.weights = negative_weights(spec, r, true, K, k);
        for (double x : o.negative_levels_A) nb.inputs.push_back(negative_inputs(spec, r, x, o.negative));
        batches.push_back(std::move(nb));
      }
    res = runner.run(batches, fmt::format("synapses -{}", k));
    count_failed(res);
    std::vector<std::vector<std::vector<OpRecord>>> neg_layer(L);
    b = 0;
    for (std::size_t l = 0; l < L; ++l) {
      const std::size_t N = spec.layers[l], P = spec.layers[l + 1];
      for (std::size_t g = 0; g < c.negative_all[l].size(); ++g) neg_layer[l].push_back(std::move(res[b++]));
      std::size_t rejected = 0;
      const auto pts = negative_points(spec, c.negative_all[l], c.negative_all_pos[l], neg_layer[l], c.true_slopes, o.negative_min_fraction,
                                       rejected);
      std::vector<double> sud(N * P, 0), suu(N * P, 0);
      for (const auto& p : pts) {
        sud[p.post * N + p.pre] += p.u_A * p.d_A;
        suu[p.post * N + p.pre] += p.u_A * p.u_A;
      }
      for (std::size_t s = 0; s < N * P; ++s)
        c.synapse_gain_code_neg[l][(k - 1) * N * P + s] = suu[s] > 0 ? unit * sud[s] / suu[s] : kNaN;
    }
    c.code_neg_ops.push_back(std::move(neg_layer));
  }
  // Codes not measured: the sum of their bit branches, g_k = Σ_b b·g_b / k (b ∈ {1, 2, 4, …} set in k). Composite codes
  // measured directly (all: 3, 5, 6, …; both modes: the maximum) are compared with that sum.
  auto measured = [&](int k) { return k == K || std::find(c.codes_measured.begin(), c.codes_measured.end(), k) != c.codes_measured.end(); };
  bool bits_known = true;
  for (int b = 1; b <= K; b <<= 1) bits_known = bits_known && measured(b);
  nlohmann::json add = nlohmann::json::array();
  for (int k = 3; k <= K && bits_known; ++k) {
    if ((k & (k - 1)) == 0) continue;  // a single bit
    nlohmann::json e = {{"code", k}, {"layers", nlohmann::json::array()}};
    for (std::size_t l = 0; l < L; ++l) {
      const std::size_t NP = static_cast<std::size_t>(spec.layers[l]) * spec.layers[l + 1];
      std::vector<double> dev_pos, dev_neg;
      for (std::size_t s = 0; s < NP; ++s)
        for (auto* g : {&c.synapse_gain_code_pos[l], &c.synapse_gain_code_neg[l]}) {
          double sum = 0;
          for (int bit = 1; bit <= k; bit <<= 1)
            if (k & bit) sum += bit * (*g)[static_cast<std::size_t>(bit - 1) * NP + s];
          sum /= k;
          double& gk = (*g)[(k - 1) * NP + s];
          if (measured(k))
            (g == &c.synapse_gain_code_pos[l] ? dev_pos : dev_neg).push_back(sum / gk - 1);
          else
            gk = sum;
        }
      if (!measured(k)) continue;
      auto st = [](const std::vector<double>& v) {
        const Stats a = stats(v);
        double mx = 0;
        for (double x : v)
          if (std::isfinite(x)) mx = std::max(mx, std::abs(x));
        return nlohmann::json{{"n", a.n}, {"mean", a.mean}, {"sd", a.sd}, {"max_abs", mx}};
      };
      e["layers"].push_back({{"layer", l}, {"pos", st(dev_pos)}, {"neg", st(dev_neg)}});
    }
    if (measured(k)) add.push_back(e);
    else c.code_source[k - 1] = "bits";
  }
  c.additivity = add.empty() ? nlohmann::json() : nlohmann::json(add);
}

}  // namespace

std::string describe_failures(const Characterization& c, std::size_t max_reasons) {
  if (c.failed_ops == 0) return {};
  std::string s = fmt::format("{} operating point(s) failed; the simulator said", c.failed_ops);
  for (std::size_t k = 0; k < c.failure_reasons.size() && k < max_reasons; ++k) {
    std::string why = c.failure_reasons[k].first;
    for (std::size_t p = 0; (p = why.find('\n', p)) != std::string::npos; p += 5) why.replace(p, 1, "\n    ");
    s += fmt::format("\n  ({}x) {}", c.failure_reasons[k].second, why);
  }
  if (c.failure_reasons.size() > max_reasons) s += fmt::format("\n  ({} more distinct reasons in failures.json)", c.failure_reasons.size() - max_reasons);
  return s;
}

Characterization characterize(const netlist::NetworkSpec& spec, OpRunner& runner, const CharacterizeOptions& o) {
  o.validate(spec);
  Characterization c;
  c.spec = spec;
  c.options = o;
  c.method = runner.method();
  const std::size_t L = spec.n_weight_layers();
  const std::size_t K = o.levels_A.size();
  const bool routing_phase = !o.synapses || o.ground_truth;
  const bool exhaustive = o.synapses || o.ground_truth;
  auto count_failed = [&](const std::vector<std::vector<OpRecord>>& ops) {
    for (const auto& b : ops)
      for (const auto& r : b) {
        if (r.ok) continue;
        ++c.failed_ops;
        const std::string why = r.error.empty() ? "(no simulator message)" : r.error;
        auto it = std::find_if(c.failure_reasons.begin(), c.failure_reasons.end(), [&](const auto& e) { return e.first == why; });
        if (it == c.failure_reasons.end()) c.failure_reasons.emplace_back(why, 1);
        else ++it->second;
      }
    std::stable_sort(c.failure_reasons.begin(), c.failure_reasons.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  };

  // 1. The paper's procedure: random balanced routings x equal input levels.
  if (routing_phase) {
    std::size_t r_run = o.routings;
    if (o.ground_truth)
      for (auto r : o.ground_truth_routings) r_run = std::max(r_run, r);
    c.routings = balanced_routings(spec, r_run, o.seed);
    std::vector<OpBatch> batches;
    for (const auto& r : c.routings) batches.push_back({routing_weights(spec, r), equal_inputs(spec, o.levels_A)});
    c.routing_ops = runner.run(batches, "routings");
    count_failed(c.routing_ops);
    c.routing_estimate = estimate_slopes(spec, c.routings, c.routing_ops, o.routings, o.y_min_A, o.fit);
  }

  // 2. Every synapse on its own (cyclic routings).
  if (exhaustive) {
    c.have_synapses = true;
    c.cyclic = cyclic_routings(spec);
    std::vector<OpBatch> batches;
    for (const auto& r : c.cyclic) batches.push_back({routing_weights(spec, r), equal_inputs(spec, o.levels_A)});
    c.cyclic_ops = runner.run(batches, fmt::format("synapses +{}", spec.max_code()));
    count_failed(c.cyclic_ops);
    c.synapse_slope = synapse_slopes(spec, c.cyclic, c.cyclic_ops, o.y_min_A);
    c.true_slopes.resize(L);
    c.synapse_gain_pos.resize(L);
    for (std::size_t l = 0; l < L; ++l) {
      const std::size_t N = spec.layers[l], P = spec.layers[l + 1];
      for (std::size_t i = 0; i < N; ++i) {
        std::vector<double> col;
        for (std::size_t j = 0; j < P; ++j) col.push_back(c.synapse_slope[l][j * N + i]);
        const Stats s = stats(col);
        c.true_slopes[l].push_back(s.n ? s.mean : kNaN);
      }
      for (std::size_t s = 0; s < N * P; ++s) c.synapse_gain_pos[l].push_back(c.synapse_slope[l][s] / c.true_slopes[l][s % N]);
    }
  }

  // The calibration slopes.
  c.slopes_source = routing_phase && !(o.synapses && !o.ground_truth) ? "routings" : "synapses";
  c.slopes_raw = c.slopes_source == "routings" ? c.routing_estimate.raw : c.true_slopes;
  for (std::size_t l = 0; l < L; ++l) {
    std::vector<std::string> bad;
    for (std::size_t i = 0; i < c.slopes_raw[l].size(); ++i)
      if (!(c.slopes_raw[l][i] > 0)) bad.push_back(fmt::format("{}", i));
    if (!bad.empty())
      throw NumericalError(fmt::format("layer {}: no usable operating point for neuron(s) {} (slope {}); {}", l, fmt::join(bad, ", "),
                                       c.slopes_raw[l][std::stoul(bad[0])],
                                       c.failed_ops ? describe_failures(c) : "no operating point failed — use more --routings"));
    c.slopes.push_back(normalise_mean_one(c.slopes_raw[l]));
  }

  // 3. Negative gain: positive+negative vs positive only.
  auto run_negative = [&](const std::vector<std::vector<NegativeRouting>>& routs, std::vector<std::vector<std::vector<OpRecord>>>& pos,
                          std::vector<std::vector<std::vector<OpRecord>>>& both, const std::string& label) {
    std::vector<OpBatch> batches;
    for (std::size_t l = 0; l < L; ++l)
      for (const auto& r : routs[l])
        for (int with_neg = 0; with_neg < 2; ++with_neg) {
          OpBatch b;
          b.weights = negative_weights(spec, r, with_neg == 1);
          for (double x : o.negative_levels_A) b.inputs.push_back(negative_inputs(spec, r, x, o.negative));
          batches.push_back(std::move(b));
        }
    const auto res = runner.run(batches, label);
    count_failed(res);
    pos.assign(L, {});
    both.assign(L, {});
    std::size_t b = 0;
    for (std::size_t l = 0; l < L; ++l)
      for (std::size_t g = 0; g < routs[l].size(); ++g) {
        pos[l].push_back(res[b++]);
        both[l].push_back(res[b++]);
      }
  };
  std::vector<std::vector<double>> random_gain(L);
  if (routing_phase) {
    c.negative_routings.resize(L);
    for (std::size_t l = 0; l < L; ++l)
      c.negative_routings[l] = random_negative_routings(spec, l, o.negative_routings, o.seed, o.negative);
    run_negative(c.negative_routings, c.negative_pos, c.negative_both, "negative gain");
  }
  if (exhaustive) {
    c.negative_all.resize(L);
    for (std::size_t l = 0; l < L; ++l) c.negative_all[l] = exhaustive_negative_routings(spec, l, o.seed, o.negative);
    run_negative(c.negative_all, c.negative_all_pos, c.negative_all_both, "synapses -7");
    c.synapse_gain_neg.resize(L);
    c.true_negative_gain.resize(L);
    for (std::size_t l = 0; l < L; ++l) {
      const std::size_t N = spec.layers[l], P = spec.layers[l + 1];
      std::size_t rejected = 0;
      const auto pts = negative_points(spec, c.negative_all[l], c.negative_all_pos[l], c.negative_all_both[l], c.true_slopes,
                                       o.negative_min_fraction, rejected);
      std::vector<double> sud(N * P, 0), suu(N * P, 0);
      for (const auto& p : pts) {
        sud[p.post * N + p.pre] += p.u_A * p.d_A;
        suu[p.post * N + p.pre] += p.u_A * p.u_A;
      }
      for (std::size_t s = 0; s < N * P; ++s) c.synapse_gain_neg[l].push_back(suu[s] > 0 ? sud[s] / suu[s] : kNaN);
      for (std::size_t i = 0; i < N; ++i) {
        std::vector<double> col;
        for (std::size_t j = 0; j < P; ++j) col.push_back(c.synapse_gain_neg[l][j * N + i]);
        const Stats s = stats(col);
        c.true_negative_gain[l].push_back(s.n ? s.mean : kNaN);
      }
      if (!o.ground_truth || !routing_phase) c.negative_rejected += rejected;
    }
  }

  // 2b. Gains per code: the same designs with the measured synapses at ±k.
  if (exhaustive && o.synapse_codes != SynapseCodes::max_only) measure_code_gains(c, runner, count_failed);

  // The calibration's negative gains.
  c.negative_gain.resize(L);
  c.negative_n_points.resize(L);
  c.negative_gain_layer.assign(L, kNaN);
  c.negative_fallbacks.assign(L, 0);
  for (std::size_t l = 0; l < L; ++l) {
    std::vector<NegativePoint> pts;
    if (c.slopes_source == "routings") {
      pts = negative_points(spec, c.negative_routings[l], c.negative_pos[l], c.negative_both[l], c.slopes_raw,
                            o.negative_min_fraction, c.negative_rejected);
      c.negative_gain[l] = negative_gain_per_neuron(pts, l, spec.layers[l], &c.negative_n_points[l]);
    } else {
      std::size_t ignored = 0;
      pts = negative_points(spec, c.negative_all[l], c.negative_all_pos[l], c.negative_all_both[l], c.slopes_raw,
                            o.negative_min_fraction, ignored);
      c.negative_gain[l] = c.true_negative_gain[l];
      negative_gain_per_neuron(pts, l, spec.layers[l], &c.negative_n_points[l]);
    }
    double sud = 0, suu = 0;
    for (const auto& p : pts) sud += p.u_A * p.d_A, suu += p.u_A * p.u_A;
    if (suu > 0) c.negative_gain_layer[l] = sud / suu;
    if (!(c.negative_gain_layer[l] > 0))
      throw NumericalError(fmt::format("layer {}: no usable negative-gain point ({} rejected because the post-neuron fell below {} of "
                                       "its positive-only current); raise --negative-ratio / --negative-fanin", l, c.negative_rejected,
                                       o.negative_min_fraction));
    for (auto& g : c.negative_gain[l])
      if (!(g > 0)) g = c.negative_gain_layer[l], ++c.negative_fallbacks[l];
  }

  // 4. Ground truth: routing estimates from prefixes of the routings vs every synapse measured.
  if (o.ground_truth) {
    nlohmann::json cmp = nlohmann::json::array();
    std::vector<std::size_t> rs = o.ground_truth_routings;
    std::sort(rs.begin(), rs.end());
    rs.erase(std::unique(rs.begin(), rs.end()), rs.end());
    nlohmann::json cmp_mean = nlohmann::json::array();
    for (auto r : rs) {
      cmp.push_back(compare_with_truth(spec, c.routings, c.routing_ops, r, c.synapse_slope, c.true_slopes, o.y_min_A, SlopeFitKind::pooled));
      cmp_mean.push_back(
          compare_with_truth(spec, c.routings, c.routing_ops, r, c.synapse_slope, c.true_slopes, o.y_min_A, SlopeFitKind::synapse_mean));
    }
    nlohmann::json neg = nlohmann::json::array();
    for (std::size_t l = 0; l < L; ++l) {
      double max_rel = 0;
      for (std::size_t i = 0; i < c.negative_gain[l].size(); ++i)
        max_rel = std::max(max_rel, std::abs(c.negative_gain[l][i] / c.true_negative_gain[l][i] - 1));
      neg.push_back({{"layer", l},
                     {"r", pearson(c.negative_gain[l], c.true_negative_gain[l])},
                     {"max_rel_err", max_rel},
                     {"true_mean", stats(c.true_negative_gain[l]).mean},
                     {"estimate_mean", stats(c.negative_gain[l]).mean}});
    }
    c.ground_truth = {{"slopes", cmp}, {"slopes_synapse_mean", cmp_mean}, {"negative_gain", neg}};
  }
  c.runner = runner.stats();
  (void)K;
  return c;
}

nlohmann::json evaluate_models(const netlist::NetworkSpec& spec, OpRunner& runner, const Characterization& c, std::size_t n_weights,
                               std::size_t n_inputs, std::uint64_t seed) {
  if (!c.have_synapses) throw InputError("--evaluate needs the per-synapse measurement (--synapses or --ground-truth)");
  const std::size_t L = spec.n_weight_layers();
  Rng rng = Rng::stream(seed, "evaluate");
  std::vector<OpBatch> batches;
  for (std::size_t b = 0; b < n_weights; ++b) {
    OpBatch batch;
    batch.weights = netlist::constant_weights(spec, 0);
    for (auto& m : batch.weights) {
      const double active = std::min(0.5, 4.0 / m.cols);  // about 4 inputs per post-neuron, 2/3 of them positive
      for (auto& k : m.codes) {
        const double u = rng.uniform();
        // With gains per code the active codes' magnitudes are uniform in 1 … 7 (else ±7, as without them).
        const int K = spec.max_code();
        const int mag = c.have_codes ? 1 + static_cast<int>(rng.uniform() * K) % K : K;
        k = static_cast<std::int8_t>(u < active * 2 / 3 ? mag : u < active ? -mag : 0);
      }
    }
    for (std::size_t n = 0; n < n_inputs; ++n) {
      std::vector<double> in(spec.layers[0]);
      for (auto& x : in) x = rng.uniform(5e-9, 60e-9);
      batch.inputs.push_back(in);
    }
    batches.push_back(std::move(batch));
  }
  const auto ops = runner.run(batches, "evaluate");
  // Model parameters per layer: raw slope a_i, positive gain gp_ji, negative gain gn_ji (relative to a_i).
  const char* names[4] = {"per_layer", "per_neuron", "per_synapse", "per_code"};
  const int n_models = c.have_codes ? 4 : 3;
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t l = 0; l < L; ++l) {
    const std::size_t N = spec.layers[l], P = spec.layers[l + 1];
    const double a_mean = stats(c.slopes_raw[l]).mean, g_mean = stats(c.negative_gain[l]).mean;
    std::vector<std::vector<double>> err(4);  // prediction − measurement (A)
    double syy = 0;
    for (std::size_t b = 0; b < batches.size(); ++b)
      for (const auto& op : ops[b]) {
        if (!op.ok || op.currents.size() != spec.layers.size()) continue;
        for (std::size_t j = 0; j < P; ++j) {
          const double y = op.currents[l + 1][j];
          if (!(y > 1e-9)) continue;
          double pred[4] = {0, 0, 0, 0};
          for (std::size_t i = 0; i < N; ++i) {
            const int k = batches[b].weights[l].at(j, i);
            if (k == 0) continue;
            const double x = op.currents[l][i];
            const double s = static_cast<double>(k) / spec.max_code();  // signed fraction of the maximum code
            const std::size_t si = j * N + i, kk = static_cast<std::size_t>(std::abs(k) - 1);
            pred[0] += s * a_mean * x * (k > 0 ? 1.0 : g_mean);
            pred[1] += s * c.slopes_raw[l][i] * x * (k > 0 ? 1.0 : c.negative_gain[l][i]);
            pred[2] += s * c.slopes_raw[l][i] * x * (k > 0 ? c.synapse_gain_pos[l][si] : c.synapse_gain_neg[l][si]);
            if (c.have_codes)
              pred[3] += s * c.slopes_raw[l][i] * x *
                         (k > 0 ? c.synapse_gain_code_pos[l][kk * N * P + si] : c.synapse_gain_code_neg[l][kk * N * P + si]);
          }
          syy += y * y;
          for (int m = 0; m < n_models; ++m) err[m].push_back(std::max(0.0, pred[m]) - y);
        }
      }
    nlohmann::json e = {{"layer", l}, {"post_neurons_compared", err[0].size()}};
    for (int m = 0; m < n_models; ++m) {
      double ss = 0, mx = 0;
      for (double v : err[m]) ss += v * v, mx = std::max(mx, std::abs(v));
      const double rms_y = err[m].empty() ? kNaN : std::sqrt(syy / err[m].size());
      e[names[m]] = {{"rms_rel_err", err[m].empty() ? kNaN : std::sqrt(ss / err[m].size()) / rms_y},
                     {"max_rel_err", err[m].empty() ? kNaN : mx / rms_y}};
    }
    layers.push_back(e);
  }
  return {{"weight_sets", n_weights}, {"input_vectors", n_inputs}, {"codes", c.have_codes ? "1..7" : "7"}, {"layers", layers}};
}

}  // namespace nnspice::measure

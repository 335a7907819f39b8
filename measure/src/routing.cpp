#include "nnspice/measure/routing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "nnspice/common/error.hpp"
#include "nnspice/common/rng.hpp"

namespace nnspice::measure {
namespace {

/// Successive random permutations of a pool: next() draws without replacement until the pool is used
/// up, then reshuffles. Counts over any prefix differ by at most one between pool members.
class PermutationStream {
 public:
  PermutationStream(std::vector<int> pool, Rng rng) : pool_(std::move(pool)), rng_(std::move(rng)), pos_(pool_.size()) {}
  int next() {
    if (pos_ == pool_.size()) {
      for (std::size_t i = pool_.size(); i > 1; --i) std::swap(pool_[i - 1], pool_[rng_.below(i)]);
      pos_ = 0;
    }
    return pool_[pos_++];
  }
  /// Draws n distinct members (n <= pool size); repeats drawn meanwhile are skipped.
  std::vector<int> take_distinct(std::size_t n) {
    std::vector<int> out;
    while (out.size() < n) {
      const int v = next();
      if (std::find(out.begin(), out.end(), v) == out.end() || out.size() >= pool_.size()) out.push_back(v);
    }
    return out;
  }

 private:
  std::vector<int> pool_;
  Rng rng_;
  std::size_t pos_;
};

std::vector<int> iota_vec(int n) {
  std::vector<int> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

int checked_layer_size(const netlist::NetworkSpec& spec, std::size_t l) {
  if (l + 1 >= spec.layers.size())
    throw InputError(fmt::format("network {}: weight layer {} does not exist (it has {} weight layers)", spec.str(), l,
                                 spec.n_weight_layers()));
  return spec.layers[l];
}

/// Drive structure of a negative routing of weight layer `layer`: one-to-one routes for m < layer-1, and
/// high_fanin / 1 inputs per high / low neuron for m = layer-1.
std::vector<std::vector<std::vector<int>>> drive_fanin(const netlist::NetworkSpec& spec, std::size_t layer,
                                                       const std::vector<char>& high, std::vector<PermutationStream>& streams,
                                                       const NegativeDesign& design) {
  std::vector<std::vector<std::vector<int>>> fanin(layer);
  for (std::size_t m = 0; m < layer; ++m) {
    const int n_post = spec.layers[m + 1];
    fanin[m].resize(n_post);
    for (int j = 0; j < n_post; ++j) {
      const std::size_t k = (m + 1 == layer && high[j]) ? static_cast<std::size_t>(design.high_fanin) : 1;
      fanin[m][j] = streams[m].take_distinct(std::min<std::size_t>(k, spec.layers[m]));
    }
  }
  return fanin;
}

void check_design(const NegativeDesign& d) {
  if (d.high_fanin < 1 || d.high_fanin > 1000)
    throw InputError(fmt::format("NegativeDesign::high_fanin = {}. Violated constraint: 1 <= high_fanin <= 1000", d.high_fanin));
  if (!(d.high_ratio >= 1 && d.high_ratio <= 1000))
    throw InputError(fmt::format("NegativeDesign::high_ratio = {}. Violated constraint: 1 <= high_ratio <= 1000", d.high_ratio));
}

}  // namespace

std::vector<Routing> balanced_routings(const netlist::NetworkSpec& spec, std::size_t count, std::uint64_t seed) {
  const std::size_t L = spec.n_weight_layers();
  std::vector<PermutationStream> streams;
  for (std::size_t l = 0; l < L; ++l)
    streams.emplace_back(iota_vec(spec.layers[l]), Rng::stream(seed, fmt::format("routing/{}", l)));
  std::vector<Routing> out(count);
  for (auto& r : out) {
    r.pre.resize(L);
    for (std::size_t l = 0; l < L; ++l) {
      r.pre[l].resize(spec.layers[l + 1]);
      for (auto& p : r.pre[l]) p = streams[l].next();
    }
  }
  return out;
}

std::vector<Routing> cyclic_routings(const netlist::NetworkSpec& spec) {
  const std::size_t L = spec.n_weight_layers();
  int m_max = 0;
  for (std::size_t l = 0; l < L; ++l) m_max = std::max(m_max, spec.layers[l]);
  std::vector<Routing> out(m_max);
  for (int m = 0; m < m_max; ++m) {
    out[m].pre.resize(L);
    for (std::size_t l = 0; l < L; ++l) {
      out[m].pre[l].resize(spec.layers[l + 1]);
      for (int j = 0; j < spec.layers[l + 1]; ++j) out[m].pre[l][j] = (j + m) % spec.layers[l];
    }
  }
  return out;
}

netlist::WeightCodes routing_weights(const netlist::NetworkSpec& spec, const Routing& routing, int code) {
  if (code == 0) code = spec.max_code();
  netlist::WeightCodes w = netlist::constant_weights(spec, 0);
  if (routing.pre.size() != w.size())
    throw InputError(fmt::format("routing has {} weight layers, network {} has {}", routing.pre.size(), spec.str(), w.size()));
  for (std::size_t l = 0; l < w.size(); ++l) {
    if (routing.pre[l].size() != w[l].rows)
      throw InputError(fmt::format("routing layer {}: {} post-neurons, expected {}", l, routing.pre[l].size(), w[l].rows));
    for (std::size_t j = 0; j < w[l].rows; ++j) {
      const int i = routing.pre[l][j];
      if (i < 0 || static_cast<std::size_t>(i) >= w[l].cols)
        throw InputError(fmt::format("routing layer {} post {}: pre-neuron {} is outside 0..{}", l, j, i, w[l].cols - 1));
      w[l].codes[j * w[l].cols + i] = static_cast<std::int8_t>(code);
    }
  }
  return w;
}

std::vector<NegativeRouting> random_negative_routings(const netlist::NetworkSpec& spec, std::size_t layer, std::size_t count,
                                                      std::uint64_t seed, const NegativeDesign& design) {
  check_design(design);
  const int n_pre = checked_layer_size(spec, layer);
  if (n_pre < 2)
    throw InputError(fmt::format("network {}: layer {} has {} neuron; measuring its negative gain needs >= 2 (a positive and a "
                                 "negative source per post-neuron)", spec.str(), layer, n_pre));
  const int n_post = spec.layers[layer + 1];
  Rng split_rng = Rng::stream(seed, fmt::format("negative/{}/split", layer));
  std::vector<PermutationStream> drive;
  for (std::size_t m = 0; m < layer; ++m)
    drive.emplace_back(iota_vec(spec.layers[m]), Rng::stream(seed, fmt::format("negative/{}/drive/{}", layer, m)));
  std::vector<NegativeRouting> out;
  const std::size_t pairs = (count + 1) / 2;
  for (std::size_t p = 0; p < pairs; ++p) {
    std::vector<int> perm = iota_vec(n_pre);
    for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[split_rng.below(i)]);
    const int half = n_pre / 2;
    for (int role = 0; role < 2; ++role) {
      NegativeRouting r;
      r.layer = layer;
      r.high.assign(n_pre, 0);
      for (int k = 0; k < n_pre; ++k) r.high[perm[k]] = (role == 0) == (k < half) ? 1 : 0;
      std::vector<int> hi, lo;
      for (int i = 0; i < n_pre; ++i) (r.high[i] ? hi : lo).push_back(i);
      PermutationStream ps(hi, Rng::stream(seed, fmt::format("negative/{}/{}/{}/pos", layer, p, role)));
      PermutationStream ns(lo, Rng::stream(seed, fmt::format("negative/{}/{}/{}/neg", layer, p, role)));
      r.pos.resize(n_post);
      r.neg.resize(n_post);
      for (int j = 0; j < n_post; ++j) {
        r.pos[j] = ps.next();
        r.neg[j] = ns.next();
      }
      r.fanin = drive_fanin(spec, layer, r.high, drive, design);
      out.push_back(std::move(r));
    }
  }
  return out;
}

std::vector<NegativeRouting> exhaustive_negative_routings(const netlist::NetworkSpec& spec, std::size_t layer, std::uint64_t seed,
                                                          const NegativeDesign& design) {
  check_design(design);
  const int n_pre = checked_layer_size(spec, layer);
  if (n_pre < 2)
    throw InputError(fmt::format("network {}: layer {} has {} neuron; measuring its negative gain needs >= 2", spec.str(), layer, n_pre));
  const int n_post = spec.layers[layer + 1];
  Rng split_rng = Rng::stream(seed, fmt::format("negative-all/{}/split", layer));
  std::vector<PermutationStream> drive;
  for (std::size_t m = 0; m < layer; ++m)
    drive.emplace_back(iota_vec(spec.layers[m]), Rng::stream(seed, fmt::format("negative-all/{}/drive/{}", layer, m)));
  std::vector<int> perm = iota_vec(n_pre);
  for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[split_rng.below(i)]);
  const int half = n_pre / 2;
  std::vector<int> a(perm.begin(), perm.begin() + half), b(perm.begin() + half, perm.end());
  std::vector<NegativeRouting> out;
  for (int role = 0; role < 2; ++role) {
    const auto& q = role == 0 ? b : a;  // negative sources (low)
    const auto& p = role == 0 ? a : b;  // positive sources (high)
    for (std::size_t m = 0; m < q.size(); ++m) {
      NegativeRouting r;
      r.layer = layer;
      r.high.assign(n_pre, 0);
      for (int i : p) r.high[i] = 1;
      r.pos.resize(n_post);
      r.neg.resize(n_post);
      for (int j = 0; j < n_post; ++j) {
        r.neg[j] = q[(j + m) % q.size()];
        r.pos[j] = p[(j + m) % p.size()];
      }
      r.fanin = drive_fanin(spec, layer, r.high, drive, design);
      out.push_back(std::move(r));
    }
  }
  return out;
}

netlist::WeightCodes negative_weights(const netlist::NetworkSpec& spec, const NegativeRouting& r, bool with_negative, int code,
                                      int neg_code) {
  if (code == 0) code = spec.max_code();
  if (neg_code == 0) neg_code = code;
  netlist::WeightCodes w = netlist::constant_weights(spec, 0);
  const std::size_t l = r.layer;
  checked_layer_size(spec, l);
  if (r.fanin.size() != l) throw InputError(fmt::format("negative routing of layer {}: {} drive layers, expected {}", l, r.fanin.size(), l));
  for (std::size_t m = 0; m < l; ++m)
    for (std::size_t j = 0; j < w[m].rows; ++j)
      for (int i : r.fanin[m].at(j)) w[m].codes[j * w[m].cols + i] = static_cast<std::int8_t>(code);
  if (r.pos.size() != w[l].rows || r.neg.size() != w[l].rows)
    throw InputError(fmt::format("negative routing of layer {}: {} post-neurons, expected {}", l, r.pos.size(), w[l].rows));
  for (std::size_t j = 0; j < w[l].rows; ++j) {
    if (r.pos[j] == r.neg[j]) throw InputError(fmt::format("negative routing of layer {} post {}: positive and negative source are both {}", l, j, r.pos[j]));
    w[l].codes[j * w[l].cols + r.pos[j]] = static_cast<std::int8_t>(code);
    if (with_negative) w[l].codes[j * w[l].cols + r.neg[j]] = static_cast<std::int8_t>(-neg_code);
  }
  return w;
}

std::vector<double> negative_inputs(const netlist::NetworkSpec& spec, const NegativeRouting& r, double level_A, const NegativeDesign& design) {
  std::vector<double> in(spec.layers[0], level_A);
  if (r.layer == 0)
    for (std::size_t i = 0; i < in.size(); ++i)
      if (r.high.at(i)) in[i] = level_A * design.high_ratio;
  return in;
}

std::vector<std::size_t> routing_counts(const netlist::NetworkSpec& spec, const std::vector<Routing>& routings, std::size_t l) {
  std::vector<std::size_t> c(checked_layer_size(spec, l), 0);
  for (const auto& r : routings)
    for (int i : r.pre.at(l)) ++c.at(i);
  return c;
}

}  // namespace nnspice::measure

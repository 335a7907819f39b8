#include "nnspice/engine/decomposed_dc.hpp"

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "nnspice/common/error.hpp"
#include "interp.hpp"
#include "nnspice/engine/root.hpp"
#include "nnspice/engine/block.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/progress.hpp"
#include "nnspice/common/store.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"

namespace nnspice::engine {
using namespace nnspice::sim;
namespace {

const store::Kind kChunkKind{"synapse-table-chunk", 1};  // raw doubles: synapse-major, then V_post, then V_pre

constexpr double kI0 = 1e-15;         // soma tables hold asinh(I / kI0): smooth through 0, ~log I above
constexpr double kIrefFloor = 1e-11;  // synapse tables hold I_syn / sqrt(I_soma^2 + floor^2); floor ~ the
                                      // gmin leakage level, so h stays O(1) and smooth where the pre-neuron is off

struct Grid {
  double v0 = 0, dv = 1;
  std::size_t n = 0;
  double v(std::size_t k) const { return v0 + dv * static_cast<double>(k); }
  double last() const { return v(n - 1); }
};

Grid make_grid(double lo, double hi, double step) {
  Grid g;
  g.v0 = lo;
  g.dv = step;
  g.n = static_cast<std::size_t>(std::llround((hi - lo) / step)) + 1;
  return g;
}

// The engine's one interpolation scheme (interp.hpp) on this file's grids.
using interp::Stencil;
using interp::apply;
Stencil stencil(const Grid& g, double x) { return interp::stencil(g.v0, g.dv, g.n, x); }

std::uint64_t synapse_key(std::size_t l, std::size_t j, std::size_t i, int code) {
  return (static_cast<std::uint64_t>(l) << 56) | (static_cast<std::uint64_t>(j) << 36) | (static_cast<std::uint64_t>(i) << 16) |
         static_cast<std::uint64_t>(code + 64);  // |code| <= 63 (6 bits)
}

struct SynRef {
  std::size_t j, i;
  int code;
};

struct Chunk {
  std::size_t layer;
  std::vector<SynRef> syn;
  bool coarse = false;  // swept on the coarser V_pre grid (code-0 synapses), resampled onto the common grid
};

// Runs fn(0..n_tasks-1) on up to `workers` threads (<= 0: the cores; never more than n_tasks / min_per_thread),
// the calling thread included. The first exception a task throws stops the others and is rethrown here.
template <typename Fn>
void parallel_tasks(std::size_t n_tasks, int workers, std::size_t min_per_thread, Fn&& fn) {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int n_threads = std::clamp(workers <= 0 ? hw : workers, 1, static_cast<int>(std::max<std::size_t>(1, n_tasks / min_per_thread)));
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mu;
  auto worker = [&] {
    try {
      for (std::size_t k; (k = next++) < n_tasks;) fn(k);
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mu);
      if (!failure) failure = std::current_exception();
      next = n_tasks;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < n_threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

// Every f-th point of g, extended by whole coarse steps until it covers g's last point.
Grid coarsen(const Grid& g, std::size_t f) {
  Grid c = g;
  c.dv = g.dv * static_cast<double>(f);
  c.n = (g.n - 1 + f - 1) / f + 1;
  return c;
}

}  // namespace

struct DecomposedSolver::Impl {
  Grid soma, pre, post;
  std::vector<std::vector<std::vector<double>>> soma_y;  // [layer][neuron][k] = asinh(I/kI0)
  // Quasi-static soma curves (transients): Vp, Vn (V) and asinh(I/kI0) of the M2 and M3 branches, for
  // axon somas; asinh(I_sink/kI0) of the readout sinks (output layer, in soma_m2's place).
  std::vector<std::vector<std::vector<double>>> soma_vp, soma_vn, soma_m2, soma_m3;
  std::unordered_map<std::uint64_t, std::vector<float>> syn;  // h = I_syn / Iref(V_pre), [k_post * n_pre + k_pre]
  std::uint64_t chip_hash = 0;
  std::shared_ptr<const DeviceTables> devices;  // the native method's device tables (loaded on first need)
  // The cache folder's ".keys" lists, parsed once per solver by file name (a chunk file never changes: it is
  // written atomically under a name derived from its synapse list). matched = false: another chip or grid.
  struct CachedKeys {
    bool matched = false;
    Chunk chunk{0, {}, false};
  };
  std::map<std::string, CachedKeys> cache_keys;
};

DecomposedSolver::DecomposedSolver(const NetworkChip& chip, DecomposedOptions options)
    : impl_(std::make_unique<Impl>()), chip_(chip), options_(std::move(options)) {
  auto& o = options_;
  if (!(o.v_max_V > o.v_min_V && o.soma_step_V > 0 && o.pre_step_V > 0 && o.post_step_V > 0 && o.synapses_per_job > 0))
    throw InputError(fmt::format("decomposed DC options: need v_max_V ({}) > v_min_V ({}) and positive steps", o.v_max_V, o.v_min_V));
  if (chip_.spec.weight_bits != chip_.process.weight_bits)
    throw InputError(fmt::format("network {} has {}-bit synapses, process {} {} (weight_bits)", chip_.spec.str(), chip_.spec.weight_bits,
                                 chip_.process.name, chip_.process.weight_bits));
  if (chip_.chip.delvto_V.size() != netlist::count_transistors(chip_.spec))
    throw InputError(fmt::format("chip holds {} threshold shifts, network {} has {} transistors", chip_.chip.delvto_V.size(), chip_.spec.str(),
                                 netlist::count_transistors(chip_.spec)));
  impl_->soma = make_grid(o.v_min_V, o.v_max_V, o.soma_step_V);
  impl_->pre = make_grid(o.v_min_V, o.v_max_V, o.pre_step_V);
  impl_->post = make_grid(o.v_min_V, o.v_max_V, o.post_step_V);
  if (impl_->soma.n < 4 || impl_->pre.n < 4 || impl_->post.n < 4) throw InputError("decomposed DC options: each grid needs at least 4 points");
  if (o.zero_code_pre_coarsening < 1 || coarsen(impl_->pre, o.zero_code_pre_coarsening).n < 4)
    throw InputError(fmt::format("decomposed DC options: zero_code_pre_coarsening = {} must be at least 1 and leave 4 points in V_pre",
                                 o.zero_code_pre_coarsening));
  std::string bytes(reinterpret_cast<const char*>(chip_.chip.delvto_V.data()), chip_.chip.delvto_V.size() * sizeof(double));
  std::string method = "ngspice";
  if (o.synapse_tables == SynapseTables::native) {
    check_table_conditions(chip_.process);
    o.device_tables.grid = grid_for(chip_.process, o.device_tables.grid);
    o.device_tables.grid.validate();
    method = "native/1 " + hex64(device_table_key(chip_.process, synapse_classes(chip_.process), o.device_tables.grid));
    o.zero_code_pre_coarsening = 1;  // native points are cheap: every table on the full grid
  }
  // The synapse circuit: its bits and every transistor size (a derived process of a sweep may change them).
  std::string circuit = fmt::format("|bits {}", chip_.process.weight_bits);
  for (const auto& sz : chip_.process.sizes) circuit += fmt::format(" {:a}x{:a}", sz.w_m, sz.l_m);
  impl_->chip_hash = fnv1a64(bytes + chip_.spec.str() + chip_.process.model_card + fmt::format("{} {}", chip_.process.vdd_V, chip_.process.temp_C) +
                             circuit + (method == "ngspice" ? std::string() : "|" + method));
}

DecomposedSolver::~DecomposedSolver() = default;

double peak_memory_MB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux: kB
}

nlohmann::json to_json(const DecomposedStats& s, SynapseTables m) {
  nlohmann::json j = {{"synapse_tables_method", synapse_tables_name(m)}, {"table_sweep_jobs", s.sweep_jobs}, {"table_jobs_from_cache", s.cached_jobs},
                      {"table_sweep_points", s.sweep_points}, {"table_newton_iterations", s.newton_iterations}, {"synapse_tables", s.synapse_tables},
                      {"tabulate_s", s.tabulate_s}, {"kirchhoff_solve_s", s.solve_s}, {"kirchhoff_solves", s.solves}, {"peak_memory_MB", peak_memory_MB()}};
  if (m == SynapseTables::native)
    j["native"] = {{"synapse_points", s.native_points},
                   {"newton_iterations", s.native_newton_iterations},
                   {"device_evaluations", s.device_evals},
                   {"device_tables", {{"built", s.device_tables.built}, {"seconds", s.device_tables.build_s}, {"sweep_points", s.device_tables.sweep_points},
                                      {"bytes", s.device_tables.bytes}, {"cache_file", s.device_tables.cache_file}, {"cache_note", s.device_tables.cache_note}}}};
  return j;
}

const char* synapse_tables_name(SynapseTables m) { return m == SynapseTables::native ? "native" : "ngspice"; }


namespace {

netlist::Circuit base_circuit(const netlist::Process& pr, const std::string& title) {
  netlist::Circuit c = netlist::circuit_for_process(pr, title);
  c.add_vsource(netlist::names::kSupply, netlist::names::kVdd, "0", pr.vdd_V);
  return c;
}

}  // namespace

void DecomposedSolver::tabulate(const netlist::WeightCodes& weights) {
  netlist::validate_weights(weights, chip_.spec, "weights");
  std::vector<SynapseRef> list;
  for (std::size_t l = 0; l < weights.size(); ++l)
    for (std::size_t j = 0; j < weights[l].rows; ++j)
      for (std::size_t i = 0; i < weights[l].cols; ++i) list.push_back({l, j, i, weights[l].at(j, i)});
  tabulate_synapses(list);
}

void DecomposedSolver::tabulate_synapses(const std::vector<SynapseRef>& list) {
  std::map<std::size_t, std::vector<SynRef>> need;
  std::set<std::uint64_t> seen;
  for (const auto& s : list) {
    if (s.layer + 1 >= chip_.spec.layers.size() || s.post >= static_cast<std::size_t>(chip_.spec.layers[s.layer + 1]) ||
        s.pre >= static_cast<std::size_t>(chip_.spec.layers[s.layer]) || std::abs(s.code) > chip_.spec.max_code())
      throw std::logic_error(fmt::format("tabulate_synapses: no synapse ({}, {}, {}) at code {} in {}", s.layer, s.post, s.pre, s.code, chip_.spec.str()));
    const auto key = synapse_key(s.layer, s.post, s.pre, s.code);
    if (!impl_->syn.count(key) && seen.insert(key).second) need[s.layer].push_back({s.post, s.pre, s.code});
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto& pr = chip_.process;
  const auto& spec = chip_.spec;
  const double* dv = chip_.chip.delvto_V.data();
  const Grid sg = impl_->soma, pg = impl_->pre, qg = impl_->post;

  // 1. Soma tables (once): every neuron's input current vs its input node voltage.
  if (impl_->soma_y.empty()) {
    netlist::Circuit c = base_circuit(pr, "nnspice decomposed: soma tables");
    c.add_vsource("VSWG", "mg", "0", sg.v0);
    for (std::size_t l = 0; l < spec.layers.size(); ++l)
      for (std::size_t i = 0; i < static_cast<std::size_t>(spec.layers[l]); ++i) {
        const std::string g = fmt::format("g{}_{}", l, i);
        c.add_vsource(fmt::format("VQ{}_{}", l, i), "mg", g, 0.0);
        const std::size_t first = c.elements.size();
        const bool axon = l + 1 < spec.layers.size();
        netlist::add_soma(c, pr, l, i, axon, g, fmt::format("p{}_{}", l, i), fmt::format("n{}_{}", l, i),
                          dv + netlist::soma_fet_index(spec, l, i, 0));
        if (axon) {  // M2 and M3 draw from VDD through probes of their own: the two branch currents
          for (std::size_t e = first; e < c.elements.size(); ++e)
            for (int k : {2, 3})
              if (c.elements[e].name == netlist::names::soma_fet(l, i, k))
                for (auto& node : c.elements[e].nodes)
                  if (node == netlist::names::kVdd) node = fmt::format("s{}{}_{}", k, l, i);
          c.add_vsource(fmt::format("VS2{}_{}", l, i), netlist::names::kVdd, fmt::format("s2{}_{}", l, i), 0.0);
          c.add_vsource(fmt::format("VS3{}_{}", l, i), netlist::names::kVdd, fmt::format("s3{}_{}", l, i), 0.0);
        } else {  // the readout sink (gate on the output soma's input node; draws no DC gate current)
          const auto& sz = pr.size(netlist::DeviceRole::sink);
          c.add_vsource(fmt::format("VSK{}", i), netlist::names::kVdd, fmt::format("sk{}", i), 0.0);
          c.add_mosfet(netlist::names::sink_fet(i), fmt::format("sk{}", i), g, "0", "0", pr.nmos_model, sz.w_m, sz.l_m,
                       dv[netlist::sink_fet_index(spec, i)]);
        }
      }
    const auto lines = netlist::ngspice_lines(c);
    auto job = [&](Session& s, std::size_t) -> JobData {
      s.load(lines);
      const auto r = s.dc("VSWG", sg.v0, sg.last() + 1e-3 * sg.dv, sg.dv);
      JobData d;
      auto& flat = d["i"];
      for (std::size_t l = 0; l < spec.layers.size(); ++l)
        for (std::size_t i = 0; i < static_cast<std::size_t>(spec.layers[l]); ++i) {
          const auto& v = r.vectors.current(fmt::format("VQ{}_{}", l, i));
          if (v.size() != sg.n) throw SimError(fmt::format("soma sweep returned {} points, expected {}", v.size(), sg.n));
          flat.insert(flat.end(), v.begin(), v.end());
          auto put = [&](const char* key, const std::vector<double>& y) {
            if (y.size() != sg.n) throw SimError(fmt::format("soma sweep returned {} points, expected {}", y.size(), sg.n));
            d[key].insert(d[key].end(), y.begin(), y.end());
          };
          if (l + 1 < spec.layers.size()) {
            put("vp", r.vectors.at(fmt::format("p{}_{}", l, i)));
            put("vn", r.vectors.at(fmt::format("n{}_{}", l, i)));
            put("m2", r.vectors.current(fmt::format("VS2{}_{}", l, i)));
            put("m3", r.vectors.current(fmt::format("VS3{}_{}", l, i)));
          } else {
            put("m2", r.vectors.current(fmt::format("VSK{}", i)));
          }
        }
      d["iters"] = {static_cast<double>(r.stats.newton_iterations)};
      return d;
    };
    ParallelOptions po = options_.parallel;
    po.on_progress = nullptr;
    po.on_result = nullptr;
    const auto res = run_parallel(1, job, po);
    if (!res[0].ok) throw SimError("soma tabulation failed: " + res[0].error);
    const auto& flat = res[0].data.at("i");
    const auto& vp = res[0].data.at("vp");
    const auto& vn = res[0].data.at("vn");
    const auto& m2 = res[0].data.at("m2");
    const auto& m3 = res[0].data.at("m3");
    std::size_t off = 0, off_axon = 0, off_m2 = 0;
    const std::size_t L = spec.layers.size();
    for (auto* t : {&impl_->soma_y, &impl_->soma_vp, &impl_->soma_vn, &impl_->soma_m2, &impl_->soma_m3}) t->assign(L, {});
    auto take = [&](const std::vector<double>& src, std::size_t at, bool log_current) {
      std::vector<double> y(src.begin() + static_cast<long>(at), src.begin() + static_cast<long>(at + sg.n));
      if (log_current)
        for (double& x : y) x = std::asinh(x / kI0);
      return y;
    };
    for (std::size_t l = 0; l < L; ++l)
      for (int i = 0; i < spec.layers[l]; ++i) {
        impl_->soma_y[l].push_back(take(flat, off, true));
        off += sg.n;
        impl_->soma_m2[l].push_back(take(m2, off_m2, true));
        off_m2 += sg.n;
        if (l + 1 < L) {
          impl_->soma_vp[l].push_back(take(vp, off_axon, false));
          impl_->soma_vn[l].push_back(take(vn, off_axon, false));
          impl_->soma_m3[l].push_back(take(m3, off_axon, true));
          off_axon += sg.n;
        }
      }
    stats_.sweep_jobs += 1;
    stats_.sweep_points += sg.n;
    stats_.newton_iterations += static_cast<long>(res[0].data.at("iters")[0]);
  }

  // 2. Synapse tables for the missing (synapse, code) pairs, in chunks.
  // Code-0 synapses go into chunks of their own, swept on the coarser V_pre grid.
  const std::size_t cf = options_.zero_code_pre_coarsening;
  const Grid pgc = coarsen(pg, cf), qgc = qg;
  auto pre_grid = [&](const Chunk& ch) { return ch.coarse ? pgc : pg; };
  auto post_grid = [&](const Chunk& ch) { return ch.coarse ? qgc : qg; };
  auto chunk_points = [&](const Chunk& ch) { return pre_grid(ch).n * post_grid(ch).n; };

  auto chunk_file = [&](const Chunk& ch) {
    const Grid p = pre_grid(ch), q = post_grid(ch);
    std::string key = fmt::format("{:x}|{}|{}|{}|{}|{}|{}", impl_->chip_hash, ch.layer, p.v0, p.dv, p.n, q.dv, q.n);
    for (auto& s : ch.syn) key += fmt::format(",{}:{}:{}", s.j, s.i, s.code);
    return fmt::format("{}/syn_l{}_{:016x}.tab", options_.cache_dir, ch.layer, fnv1a64(key));
  };
  const std::size_t npts = pg.n * qg.n;
  auto store = [&](const Chunk& ch, const std::vector<double>& f) {
    const Grid p = pre_grid(ch), q = post_grid(ch);
    const std::size_t n = p.n * q.n;
    std::vector<double> hc(n);
    for (std::size_t s = 0; s < ch.syn.size(); ++s) {
      const auto& sr = ch.syn[s];
      const auto& iy = impl_->soma_y[ch.layer][sr.i];
      for (std::size_t kq = 0; kq < q.n; ++kq)
        for (std::size_t kp = 0; kp < p.n; ++kp) {
          const double iref = std::hypot(kI0 * std::sinh(apply(stencil(sg, p.v(kp)), iy.data())), kIrefFloor);
          hc[kq * p.n + kp] = f[s * n + kq * p.n + kp] / iref;
        }
      std::vector<float> h(npts);
      if (!ch.coarse) {
        std::copy(hc.begin(), hc.end(), h.begin());
      } else {  // tensor Catmull-Rom from the coarse grid onto the common one
        std::vector<Stencil> sp(pg.n);
        for (std::size_t kp = 0; kp < pg.n; ++kp) sp[kp] = stencil(p, pg.v(kp));
        std::vector<double> row(p.n);
        for (std::size_t kq = 0; kq < qg.n; ++kq) {
          const Stencil st = stencil(q, qg.v(kq));
          for (std::size_t kp = 0; kp < p.n; ++kp) row[kp] = apply(st, hc.data() + kp, p.n);
          for (std::size_t kp = 0; kp < pg.n; ++kp) h[kq * pg.n + kp] = static_cast<float>(apply(sp[kp], row.data()));
        }
      }
      impl_->syn[synapse_key(ch.layer, sr.j, sr.i, sr.code)] = std::move(h);
    }
  };

  // Tables of other weight sets of this chip (another stage sharing the cache folder: characterisation,
  // another evaluation) are reused per (synapse, code) through each chunk file's ".keys" list.
  // Single-process only: MPI ranks must agree on the chunk list.
  auto keys_header = [&](std::size_t layer, const Grid& p, const Grid& q) {
    return fmt::format("nnspice-synapse-tables/2 {:x} {} {} {} {} {} {} {}", impl_->chip_hash, layer, p.v0, p.dv, p.n, q.v0, q.dv, q.n);
  };
  auto keys_text = [&](const Chunk& ch) {
    std::string keys = keys_header(ch.layer, pre_grid(ch), post_grid(ch)) + "\n";
    for (const auto& sr : ch.syn) keys += fmt::format("{} {} {}\n", sr.j, sr.i, sr.code);
    return keys;
  };
  // A chunk's tables are a store record (checksum; inputs = the hash of its .keys text): an edited, truncated or
  // foreign file is recomputed with a note, never used (issue 17, class 3).
  std::set<std::string> refused;  // one note per refused file
  auto load_chunk = [&](const std::string& path, const Chunk& ch) -> std::optional<std::vector<double>> {
    auto refuse = [&](const std::string& why) -> std::optional<std::vector<double>> {
      if (refused.insert(path).second) store::notice(path, why, "recomputing its synapse tables");
      return std::nullopt;
    };
    if (refused.count(path)) return std::nullopt;
    const auto rec = store::load_record(path, kChunkKind, fnv1a64(keys_text(ch)));
    if (!rec) return rec.missing() ? std::nullopt : refuse(rec.reason);
    const std::string& b = *rec.value;
    const std::size_t want = ch.syn.size() * chunk_points(ch) * sizeof(double);
    if (b.size() != want) return refuse(fmt::format("{} bytes, expected {}", b.size(), want));
    std::vector<double> v(b.size() / sizeof(double));
    std::memcpy(v.data(), b.data(), b.size());
    for (double x : v)
      if (!std::isfinite(x)) return refuse("a non-finite current");
    return v;
  };
  std::vector<std::string> cached_names;
  if (!options_.cache_dir.empty() && !options_.chunk_owner) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(options_.cache_dir, ec), end; !ec && it != end; it.increment(ec))
      cached_names.push_back(it->path().filename().string());
    std::sort(cached_names.begin(), cached_names.end());
  }
  if (!cached_names.empty()) {
    std::set<std::uint64_t> wanted;
    for (auto& [l, list] : need)
      for (auto& sr : list) wanted.insert(synapse_key(l, sr.j, sr.i, sr.code));
    for (const auto& name : cached_names) {
      if (wanted.empty()) break;
      if (name.size() < 6 || name.compare(name.size() - 5, 5, ".keys") != 0) continue;
      const std::string path = options_.cache_dir + "/" + name;
      try {
        auto seen = impl_->cache_keys.find(name);
        if (seen == impl_->cache_keys.end()) {
          std::istringstream in(read_file(path));
          std::string header;
          std::getline(in, header);
          Impl::CachedKeys k;
          for (std::size_t l = 0; l < spec.layers.size() && !k.matched; ++l)
            for (int coarse = 0; coarse < 2 && !k.matched; ++coarse)
              if (header == keys_header(l, coarse ? pgc : pg, coarse ? qgc : qg)) {
                k.chunk.layer = l;
                k.chunk.coarse = coarse == 1;
                k.matched = true;
              }
          if (k.matched)
            for (SynRef sr{}; in >> sr.j >> sr.i >> sr.code;) k.chunk.syn.push_back(sr);
          seen = impl_->cache_keys.emplace(name, std::move(k)).first;
        }
        const Chunk& ch = seen->second.chunk;
        if (!seen->second.matched || ch.syn.empty()) continue;
        const bool useful = std::any_of(ch.syn.begin(), ch.syn.end(),
                                        [&](const SynRef& sr) { return wanted.count(synapse_key(ch.layer, sr.j, sr.i, sr.code)) > 0; });
        if (!useful) continue;
        const auto a = load_chunk(path.substr(0, path.size() - 5) + ".tab", ch);
        if (!a) continue;
        store(ch, *a);
        ++stats_.cached_jobs;
        for (auto& sr : ch.syn) wanted.erase(synapse_key(ch.layer, sr.j, sr.i, sr.code));
      } catch (const std::exception&) {
        // an unreadable or damaged cache entry is ignored (recomputed if needed)
      }
    }
    for (auto& [l, list] : need)
      list.erase(std::remove_if(list.begin(), list.end(), [&, l = l](const SynRef& sr) { return !wanted.count(synapse_key(l, sr.j, sr.i, sr.code)); }),
                 list.end());
  }

  std::vector<Chunk> chunks;
  for (auto& [l, list] : need) {
    std::vector<SynRef> parts[2];
    for (const auto& sr : list) parts[cf > 1 && sr.code == 0].push_back(sr);
    for (int coarse = 0; coarse < 2; ++coarse)
      for (std::size_t b = 0; b < parts[coarse].size(); b += options_.synapses_per_job)
        chunks.push_back({l, std::vector<SynRef>(parts[coarse].begin() + b, parts[coarse].begin() + std::min(parts[coarse].size(), b + options_.synapses_per_job)),
                          coarse == 1});
  }
  if (chunks.empty()) {
    stats_.synapse_tables = impl_->syn.size();
    return;
  }

  std::vector<std::size_t> run_list;
  if (!options_.cache_dir.empty()) make_dirs(options_.cache_dir);
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    if (options_.chunk_owner && !options_.chunk_owner(k)) continue;
    if (!options_.cache_dir.empty()) {
      if (const auto a = load_chunk(chunk_file(chunks[k]), chunks[k])) {
        store(chunks[k], *a);
        ++stats_.cached_jobs;
        continue;
      }
    }
    run_list.push_back(k);
  }

  auto job = [&](Session& s, std::size_t k) -> JobData {
    const Chunk& ch = chunks[k];
    const Grid p = pre_grid(ch), q = post_grid(ch);
    const std::size_t n = p.n * q.n;
    netlist::Circuit c = base_circuit(pr, fmt::format("nnspice decomposed: synapse tables, layer {}", ch.layer));
    c.add_vsource("VSWG", "mg", "0", p.v0);
    c.add_vsource("VSWP", "mp", "0", q.v0);
    std::set<std::size_t> pres;
    for (auto& sr : ch.syn) pres.insert(sr.i);
    for (std::size_t i : pres)  // pre-somas share the swept input node: only their Vp/Vn matter here
      netlist::add_soma(c, pr, ch.layer, i, true, "mg", fmt::format("p{}", i), fmt::format("n{}", i),
                        dv + netlist::soma_fet_index(spec, ch.layer, i, 0));
    for (std::size_t s = 0; s < ch.syn.size(); ++s) {
      const auto& sr = ch.syn[s];
      netlist::add_synapse(c, pr, ch.layer, sr.j, sr.i, sr.code, fmt::format("n{}", sr.i), fmt::format("p{}", sr.i), fmt::format("o{}", s),
                           fmt::format("s{}_", s), false, dv + netlist::synapse_fet_index(spec, ch.layer, sr.j, sr.i, 10));
      c.add_vsource(fmt::format("VQ{}", s), fmt::format("o{}", s), "mp", 0.0);
    }
    s.load(netlist::ngspice_lines(c));
    const auto r = s.dc("VSWG", p.v0, p.last() + 1e-3 * p.dv, p.dv, "VSWP", q.v0, q.last() + 1e-3 * q.dv, q.dv);
    JobData d;
    auto& flat = d["f"];
    flat.reserve(ch.syn.size() * n);
    for (std::size_t m = 0; m < ch.syn.size(); ++m) {
      const auto& v = r.vectors.current(fmt::format("VQ{}", m));
      if (v.size() != n) throw SimError(fmt::format("synapse sweep returned {} points, expected {} x {}", v.size(), p.n, q.n));
      flat.insert(flat.end(), v.begin(), v.end());
    }
    d["iters"] = {static_cast<double>(r.stats.newton_iterations)};
    return d;
  };

  // The native method: each synapse (M10-M20 as add_synapse writes it, with its mismatch and code) is one
  // block with ports VDD, ground, the pre-neuron's Vn and Vp (from the soma tables at V_pre) and its output
  // (held at V_post); its five internal nodes are solved by damped Newton, warm-started along V_post.
  struct NativeCounts {
    long iterations = 0, device_evals = 0;
    std::size_t points = 0;
  };
  auto native_chunk = [&](const Chunk& ch, NativeCounts& nc) {
    const DeviceTables& tabs = *impl_->devices;
    const Grid p = pre_grid(ch), q = post_grid(ch);
    const std::size_t n = p.n * q.n;
    std::vector<double> f(ch.syn.size() * n);
    for (std::size_t s = 0; s < ch.syn.size(); ++s) {
      const auto& sr = ch.syn[s];
      netlist::Circuit c;
      netlist::add_synapse(c, pr, ch.layer, sr.j, sr.i, sr.code, "pn", "pp", "out", "", false,
                           dv + netlist::synapse_fet_index(spec, ch.layer, sr.j, sr.i, 10));
      const Partition part = partition(c, {netlist::names::kVdd, "0", "pn", "pp", "out"}, tabs, pr);
      if (part.blocks.size() != 1) throw std::logic_error(fmt::format("a synapse circuit made {} blocks, expected 1", part.blocks.size()));
      const Block& blk = part.blocks[0];
      std::vector<double> ports(blk.ports.size(), 0.0), x(blk.unknowns.size()), row_start, cur(blk.ports.size());
      const std::size_t at_vdd = blk.port(netlist::names::kVdd), at_n = blk.port("pn"), at_p = blk.port("pp"), at_out = blk.port("out");
      ports[at_vdd] = pr.vdd_V;
      auto cold = [&](double v_post) {
        for (std::size_t u = 0; u < blk.unknowns.size(); ++u)
          x[u] = blk.unknowns[u] == "sn" ? 0.0 : blk.unknowns[u] == "sp" ? pr.vdd_V : v_post;
      };
      for (std::size_t kp = 0; kp < p.n; ++kp) {
        ports[at_n] = soma_vn(ch.layer, sr.i, p.v(kp));
        ports[at_p] = soma_vp(ch.layer, sr.i, p.v(kp));
        if (row_start.empty())
          cold(q.v(0));
        else
          x = row_start;
        for (std::size_t kq = 0; kq < q.n; ++kq) {
          ports[at_out] = q.v(kq);
          NewtonResult r = solve_block(blk, tabs, ports.data(), x.data(), NewtonOptions{}, cur.data());
          if (!r.converged) {  // from a cold start, with stronger damping
            nc.iterations += r.iterations;
            nc.device_evals += r.device_evals;
            cold(q.v(kq));
            NewtonOptions slow;
            slow.max_step_V = 0.02;
            slow.max_iterations = 2000;
            r = solve_block(blk, tabs, ports.data(), x.data(), slow, cur.data());
            if (!r.converged) {  // last resort: gmin stepping from the cold start (heavy mismatch, every mirror off)
              nc.iterations += r.iterations;
              nc.device_evals += r.device_evals;
              cold(q.v(kq));
              r = solve_block_homotopy(blk, tabs, ports.data(), x.data(), slow, cur.data());
            }
          }
          nc.iterations += r.iterations;
          nc.device_evals += r.device_evals;
          ++nc.points;
          if (!r.converged)
            throw NumericalError(fmt::format("synapse ({}, {}, {}) at code {}: no DC solution at V_pre = {:.3f} V, V_post = {:.3f} V", ch.layer, sr.j,
                                             sr.i, sr.code, p.v(kp), q.v(kq)));
          if (!r.in_range)
            throw NumericalError(fmt::format("synapse ({}, {}, {}) at code {}: operating point outside the device tables at V_pre = {:.3f} V, "
                                             "V_post = {:.3f} V: {} (never extrapolated)",
                                             ch.layer, sr.j, sr.i, sr.code, p.v(kp), q.v(kq), out_of_range_device(blk, tabs, ports.data(), x.data())));
          if (kq == 0) row_start = x;
          f[s * n + kq * p.n + kp] = -cur[at_out];  // what the synapse delivers into its output node
        }
      }
    }
    return f;
  };

  Progress progress("tabulate synapses", run_list.size(), options_.progress && !run_list.empty());
  std::size_t done = 0;
  std::string first_error;
  ParallelOptions po = options_.parallel;
  po.on_progress = nullptr;
  po.on_result = [&](std::size_t k, const JobOutcome& r) {
    progress.update(++done);
    if (!r.ok) {
      if (first_error.empty()) first_error = r.error;
      return;
    }
    if (!options_.cache_dir.empty()) {
      const Chunk& ch = chunks[k];
      const std::string f = chunk_file(ch), keys = keys_text(ch);
      const auto& v = r.data.at("f");
      store::write_record(f, kChunkKind, fnv1a64(keys), std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double)));
      write_file_atomic(f.substr(0, f.size() - 4) + ".keys", keys);
    }
  };
  std::vector<JobOutcome> res;
  if (options_.synapse_tables == SynapseTables::ngspice) {
    res = run_parallel(run_list, job, po);
  } else {
    if (!impl_->devices) impl_->devices = DeviceTables::get(pr, synapse_classes(pr), options_.device_tables, &stats_.device_tables);
    res.resize(run_list.size());
    std::mutex mu;
    long evals = 0, iters = 0;
    std::size_t points = 0;
    parallel_tasks(run_list.size(), options_.parallel.workers, 1, [&](std::size_t m) {
        JobOutcome out;
        NativeCounts nc;
        try {
          out.data["f"] = native_chunk(chunks[run_list[m]], nc);
          out.data["iters"] = {static_cast<double>(nc.iterations)};
          out.ok = true;
        } catch (const std::exception& e) {
          out.error = e.what();
        }
        std::lock_guard<std::mutex> lock(mu);
        evals += nc.device_evals;
        iters += nc.iterations;
        points += nc.points;
        po.on_result(run_list[m], out);
        res[m] = std::move(out);
    });
    stats_.device_evals += evals;
    stats_.native_newton_iterations += iters;
    stats_.native_points += points;
  }
  progress.finish();
  for (std::size_t m = 0; m < res.size(); ++m) {
    if (!res[m].ok) {
      const std::string what = fmt::format("synapse tabulation (layer {}, {} synapses, {} method) failed: {}", chunks[run_list[m]].layer,
                                           chunks[run_list[m]].syn.size(), synapse_tables_name(options_.synapse_tables), res[m].error);
      if (options_.synapse_tables == SynapseTables::native) throw NumericalError(what);
      throw SimError(what);
    }
    store(chunks[run_list[m]], res[m].data.at("f"));
    if (options_.synapse_tables == SynapseTables::native) continue;  // counted as native points above, not as ngspice sweeps
    stats_.sweep_jobs += 1;
    stats_.sweep_points += chunk_points(chunks[run_list[m]]);
    stats_.newton_iterations += static_cast<long>(res[m].data.at("iters")[0]);
  }
  stats_.synapse_tables = impl_->syn.size();
  stats_.tabulate_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string DecomposedSolver::export_tables() const {
  std::string out;
  auto put = [&](const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); };
  const std::uint64_t count = impl_->syn.size();
  put(&count, 8);
  // Sorted keys: the byte stream is deterministic.
  std::vector<std::uint64_t> keys;
  for (auto& [k, v] : impl_->syn) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  for (auto k : keys) {
    const auto& v = impl_->syn.at(k);
    const std::uint64_t n = v.size();
    put(&k, 8);
    put(&n, 8);
    put(v.data(), n * sizeof(float));
  }
  return out;
}

void DecomposedSolver::import_tables(const std::string& bytes) {
  std::size_t pos = 0;
  auto get = [&](void* p, std::size_t n) {
    if (pos + n > bytes.size()) throw std::runtime_error("import_tables: truncated table stream");
    std::memcpy(p, bytes.data() + pos, n);
    pos += n;
  };
  std::uint64_t count;
  get(&count, 8);
  const std::size_t npts = impl_->pre.n * impl_->post.n;
  for (std::uint64_t c = 0; c < count; ++c) {
    std::uint64_t k, n;
    get(&k, 8);
    get(&n, 8);
    if (n != npts) throw std::runtime_error("import_tables: table size does not match this solver's grid");
    std::vector<float> v(n);
    get(v.data(), n * sizeof(float));
    impl_->syn[k] = std::move(v);
  }
  stats_.synapse_tables = impl_->syn.size();
}

void DecomposedSolver::tabulate_codes(const std::vector<int>& codes) {
  for (int code : codes) tabulate(netlist::constant_weights(chip_.spec, code));
}

double DecomposedSolver::soma_current(std::size_t l, std::size_t i, double v) const {
  return kI0 * std::sinh(apply(stencil(impl_->soma, v), impl_->soma_y.at(l).at(i).data()));
}

double DecomposedSolver::soma_voltage(std::size_t l, std::size_t i, double i_A) const {
  const auto& y = impl_->soma_y.at(l).at(i);
  const Grid& g = impl_->soma;
  const double target = std::asinh(i_A / kI0);
  double lo = g.v0, hi = g.last();
  if (apply(stencil(g, hi), y.data()) < target)
    throw NumericalError(fmt::format("neuron {} of layer {}: current {:.4g} A exceeds the tabulated range (node voltage > {} V)", i, l, i_A, hi));
  if (apply(stencil(g, lo), y.data()) >= target) return lo;
  for (int it = 0; it < 80 && hi - lo > 1e-12; ++it) {
    const double mid = 0.5 * (lo + hi);
    (apply(stencil(g, mid), y.data()) < target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

namespace {
const std::vector<double>& soma_row(const std::vector<std::vector<std::vector<double>>>& t, std::size_t l, std::size_t i, const char* what) {
  if (l >= t.size() || i >= t[l].size())
    throw std::logic_error(fmt::format("no {} table for neuron {} of layer {} (tabulate() first; axon somas only)", what, i, l));
  return t[l][i];
}
}  // namespace

double DecomposedSolver::soma_vp(std::size_t l, std::size_t i, double v) const {
  return apply(stencil(impl_->soma, v), soma_row(impl_->soma_vp, l, i, "Vp").data());
}
double DecomposedSolver::soma_vn(std::size_t l, std::size_t i, double v) const {
  return apply(stencil(impl_->soma, v), soma_row(impl_->soma_vn, l, i, "Vn").data());
}
double DecomposedSolver::soma_i_m2(std::size_t l, std::size_t i, double v) const {
  if (l + 1 >= chip_.spec.layers.size()) throw std::logic_error("soma_i_m2: output somas have no M2");
  return kI0 * std::sinh(apply(stencil(impl_->soma, v), soma_row(impl_->soma_m2, l, i, "M2").data()));
}
double DecomposedSolver::soma_i_m3(std::size_t l, std::size_t i, double v) const {
  return kI0 * std::sinh(apply(stencil(impl_->soma, v), soma_row(impl_->soma_m3, l, i, "M3").data()));
}
double DecomposedSolver::sink_current(std::size_t j, double v) const {
  return kI0 * std::sinh(apply(stencil(impl_->soma, v), soma_row(impl_->soma_m2, chip_.spec.layers.size() - 1, j, "sink").data()));
}

DecomposedSolver::Bound DecomposedSolver::bind(const netlist::WeightCodes& weights) const {
  netlist::validate_weights(weights, chip_.spec, "weights");
  Bound b;
  for (std::size_t l = 0; l < weights.size(); ++l) {
    const auto& w = weights[l];
    b.table.emplace_back(w.rows * w.cols);
    b.negative.emplace_back(w.rows * w.cols);
    for (std::size_t j = 0; j < w.rows; ++j)
      for (std::size_t i = 0; i < w.cols; ++i) {
        const int code = w.at(j, i);
        const auto it = impl_->syn.find(synapse_key(l, j, i, code));
        if (it == impl_->syn.end()) throw std::logic_error(fmt::format("bind: no table for synapse ({}, {}, {}) at code {} (tabulate() first)", l, j, i, code));
        b.table[l][j * w.cols + i] = it->second.data();
        b.negative[l][j * w.cols + i] = code < 0;
      }
  }
  return b;
}

std::size_t DecomposedSolver::post_points() const { return impl_->post.n; }
double DecomposedSolver::post_voltage(std::size_t k) const { return impl_->post.v(k); }

std::size_t DecomposedSolver::post_interval(double v) const {
  const Grid& g = impl_->post;
  const double t = std::clamp((v - g.v0) / g.dv, 0.0, static_cast<double>(g.n - 1));
  return std::min(static_cast<std::size_t>(t), g.n - 2);
}

void DecomposedSolver::layer_input_curves(const Bound& bound, std::size_t l, const double* v_pos, const double* v_neg, double* S,
                                          const std::size_t* rows) const {
  const Grid &pg = impl_->pre, &qg = impl_->post;
  const std::size_t Npre = static_cast<std::size_t>(chip_.spec.layers.at(l)), Npost = static_cast<std::size_t>(chip_.spec.layers.at(l + 1));
  // Pre-neuron stencils and reference currents at both equivalent voltages (shared by all posts).
  std::vector<Stencil> st(2 * Npre);
  std::vector<double> iref(2 * Npre);
  for (std::size_t i = 0; i < Npre; ++i)
    for (int sgn = 0; sgn < 2; ++sgn) {
      const double v = sgn ? v_neg[i] : v_pos[i];
      if (v > pg.last())
        throw NumericalError(fmt::format("neuron {} of layer {} is outside the tabulated range (node voltage {:.3f} V > {} V)", i, l, v, pg.last()));
      st[2 * i + sgn] = stencil(pg, v);
      iref[2 * i + sgn] = std::hypot(soma_current(l, i, v), kIrefFloor);
    }
  const auto& tab = bound.table.at(l);
  const auto& neg = bound.negative.at(l);
  for (std::size_t j = 0; j < Npost; ++j) {
    double* Sj = S + j * qg.n;
    const std::size_t q0 = rows ? std::min(rows[2 * j], qg.n - 1) : 0, q1 = rows ? std::min(rows[2 * j + 1], qg.n - 1) : qg.n - 1;
    std::fill(Sj, Sj + qg.n, rows ? std::nan("") : 0.0);
    std::fill(Sj + q0, Sj + q1 + 1, 0.0);
    for (std::size_t i = 0; i < Npre; ++i) {
      const float* h = tab[j * Npre + i];
      const std::size_t m = 2 * i + static_cast<std::size_t>(neg[j * Npre + i]);
      const Stencil& s = st[m];
      const double a = iref[m];
      for (std::size_t q = q0; q <= q1; ++q) {
        const float* row = h + q * pg.n;
        Sj[q] += a * (s.w[0] * row[s.idx[0]] + s.w[1] * row[s.idx[1]] + s.w[2] * row[s.idx[2]] + s.w[3] * row[s.idx[3]]);
      }
    }
  }
}

namespace {
// Every synapse current of weight layer `l` at its post-neuron's node voltage: fn(j, i, I_syn) for each post j and
// pre i, pre-neurons at v_pre (their stencils and reference currents computed once), soma(i, v) the pre-neurons'
// soma current; synapses with keep(j, i) false are skipped. The tables hold I_syn / hypot(I_soma(V_pre), kIrefFloor).
template <class SomaFn, class Keep, class Fn>
void for_each_synapse_current(const Grid& pg, const Grid& qg, const DecomposedSolver::Bound& bound, std::size_t l, std::size_t Npre,
                              std::size_t Npost, const double* v_pre, const double* v_post, SomaFn&& soma, Keep&& keep, Fn&& fn) {
  std::vector<Stencil> st(Npre);
  std::vector<double> iref(Npre);
  for (std::size_t i = 0; i < Npre; ++i) {
    st[i] = stencil(pg, v_pre[i]);
    iref[i] = std::hypot(soma(i, v_pre[i]), kIrefFloor);
  }
  const auto& tab = bound.table.at(l);
  for (std::size_t j = 0; j < Npost; ++j) {
    const Stencil sq = stencil(qg, v_post[j]);
    for (std::size_t i = 0; i < Npre; ++i) {
      if (!keep(j, i)) continue;
      const float* h = tab[j * Npre + i];
      double x = 0;
      for (int m = 0; m < 4; ++m) x += sq.w[m] * apply(st[i], h + sq.idx[m] * pg.n);
      fn(j, i, x * iref[i]);
    }
  }
}
}  // namespace

double DecomposedSolver::layer_supply_current(const Bound& bound, std::size_t l, const double* v_pos, const double* v_post) const {
  const std::size_t Npre = static_cast<std::size_t>(chip_.spec.layers.at(l)), Npost = static_cast<std::size_t>(chip_.spec.layers.at(l + 1));
  const auto& neg = bound.negative.at(l);
  double total = 0;
  // Code 0: leakage of either sign; only what flows out of VDD counts (negative synapses sink into ground).
  for_each_synapse_current(
      impl_->pre, impl_->post, bound, l, Npre, Npost, v_pos, v_post, [&](std::size_t i, double v) { return soma_current(l, i, v); },
      [&](std::size_t j, std::size_t i) { return !neg[j * Npre + i]; }, [&](std::size_t, std::size_t, double x) { total += std::max(x, 0.0); });
  return total;
}

void DecomposedSolver::layer_input_error(const Bound& bound, std::size_t l, const double* v_pre, const double* v_post, const double* rel_pre,
                                         double* out) const {
  const std::size_t Npre = static_cast<std::size_t>(chip_.spec.layers.at(l)), Npost = static_cast<std::size_t>(chip_.spec.layers.at(l + 1));
  std::vector<double> var(Npre);
  for (std::size_t i = 0; i < Npre; ++i) var[i] = kSynapseRelativeError * kSynapseRelativeError + rel_pre[i] * rel_pre[i];
  std::fill(out, out + Npost, 0.0);
  for_each_synapse_current(
      impl_->pre, impl_->post, bound, l, Npre, Npost, v_pre, v_post, [&](std::size_t i, double v) { return soma_current(l, i, v); },
      [](std::size_t, std::size_t) { return true; }, [&](std::size_t j, std::size_t i, double x) { out[j] += x * x * var[i]; });
  for (std::size_t j = 0; j < Npost; ++j) out[j] = std::sqrt(out[j]);
}

double DecomposedSolver::post_interpolate(const double* curve, double v) const { return apply(stencil(impl_->post, v), curve); }

double DecomposedSolver::synapse_current(std::size_t l, std::size_t j, std::size_t i, int code, double v_pre, double v_post) const {
  const auto it = impl_->syn.find(synapse_key(l, j, i, code));
  if (it == impl_->syn.end()) throw std::logic_error(fmt::format("no table for synapse ({}, {}, {}) at code {}", l, j, i, code));
  const Grid &pg = impl_->pre, &qg = impl_->post;
  const Stencil sp = stencil(pg, v_pre), sq = stencil(qg, v_post);
  double h = 0;
  for (int m = 0; m < 4; ++m) h += sq.w[m] * apply(sp, it->second.data() + sq.idx[m] * pg.n);
  return h * std::hypot(soma_current(l, i, v_pre), kIrefFloor);
}

std::vector<DcOutcome> DecomposedSolver::solve(const netlist::WeightCodes& weights, const std::vector<std::vector<double>>& inputs) {
  const auto& spec = chip_.spec;
  for (const auto& in : inputs)
    if (in.size() != static_cast<std::size_t>(spec.layers[0]))
      throw InputError(fmt::format("{} input currents for an input layer of {} neurons", in.size(), spec.layers[0]));
  tabulate(weights);
  const auto t0 = std::chrono::steady_clock::now();
  const Grid& qg = impl_->post;
  const std::size_t L = spec.layers.size();
  const Bound bound = bind(weights);
  std::vector<DcOutcome> out(inputs.size());
  // Inputs are independent: solved in parallel threads (one curves buffer per input), results in input order.
  auto solve_one = [&](std::size_t k) {
    std::vector<double> curves;
    DcOutcome& o = out[k];
    try {
      std::vector<std::vector<double>> V(L), I(L), E(L);
      V[0].resize(spec.layers[0]);
      E[0].assign(spec.layers[0], 0.0);  // the input somas carry the given currents
      I[0] = inputs[k];
      for (std::size_t i = 0; i < I[0].size(); ++i) {
        if (!(I[0][i] >= 0)) throw InputError(fmt::format("input current {} = {} A is negative", i, I[0][i]));
        V[0][i] = soma_voltage(0, i, I[0][i]);
      }
      for (std::size_t l = 0; l + 1 < L; ++l) {
        const std::size_t Npost = spec.layers[l + 1];
        curves.resize(Npost * qg.n);
        layer_input_curves(bound, l, V[l].data(), V[l].data(), curves.data());
        V[l + 1].resize(Npost);
        I[l + 1].resize(Npost);
        for (std::size_t j = 0; j < Npost; ++j) {
          const double* S = curves.data() + j * qg.n;
          auto F = [&](double v) { return soma_current(l + 1, j, v) - apply(stencil(qg, v), S); };
          long evals = 0;
          double root;
          try {
            root = increasing_root(F, 0.5 * (qg.v0 + qg.last()), qg.v0, qg.last(), 1e-10, evals, "input current");
          } catch (const NumericalError& e) {
            throw NumericalError(fmt::format("neuron {} of layer {}: {}", j, l + 1, e.what()));
          }
          V[l + 1][j] = root;
          I[l + 1][j] = soma_current(l + 1, j, root);
        }
        // Error estimate: each synapse's current is uncertain by kSynapseRelativeError and by its pre-neuron's relative
        // error, independently (root sum of squares); the post-neuron passes the error of its summed input on by
        // g = s' / (s' - S') (s its soma curve, S the summed synaptic current, both against its node voltage): ~1 when
        // on, ~0 when pulled off.
        std::vector<double> rel(E[l].size());
        for (std::size_t i = 0; i < rel.size(); ++i) rel[i] = E[l][i] / std::hypot(I[l][i], kIrefFloor);
        E[l + 1].resize(Npost);
        layer_input_error(bound, l, V[l].data(), V[l + 1].data(), rel.data(), E[l + 1].data());
        for (std::size_t j = 0; j < Npost; ++j) {
          const double* S = curves.data() + j * qg.n, v = V[l + 1][j], d = 1e-3;
          const double ds = (soma_current(l + 1, j, v + d) - soma_current(l + 1, j, v - d)) / (2 * d);
          const double dS = (apply(stencil(qg, v + d), S) - apply(stencil(qg, v - d), S)) / (2 * d);
          // An off soma (pA, its curve flat to the tables' precision) behind synapses that sink more as its node rises
          // has s' ~ 0 and S' < 0: g ~ 0. Only when s' - S' is not positive can the gain not be told (g = 1).
          const double dsp = std::max(ds, 0.0);
          const double g = dsp - dS > 0 ? std::min(1.0, dsp / (dsp - dS)) : 1.0;
          E[l + 1][j] *= g;
        }
      }
      o.currents = std::move(I);
      o.error_estimate = std::move(E);
      o.ok = true;
    } catch (const NumericalError& e) {
      o.ok = false;
      o.error = e.what();
    }
  };
  parallel_tasks(inputs.size(), options_.parallel.workers, 16, solve_one);
  stats_.solves += inputs.size();
  stats_.solve_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

DecomposedSolver::Audit DecomposedSolver::audit(const netlist::WeightCodes& weights, std::size_t per_layer, std::uint64_t seed) {
  Audit a;
  if (options_.synapse_tables != SynapseTables::native || per_layer == 0) return a;
  netlist::validate_weights(weights, chip_.spec, "weights");
  const auto t0 = std::chrono::steady_clock::now();
  Rng rng(seed ^ impl_->chip_hash);
  std::vector<SynapseRef> sample;
  for (std::size_t l = 0; l < weights.size(); ++l) {
    const std::size_t n = weights[l].rows * weights[l].cols;
    std::vector<std::size_t> idx(n);
    for (std::size_t k = 0; k < n; ++k) idx[k] = k;
    const std::size_t take = std::min(per_layer, n);
    for (std::size_t k = 0; k < take; ++k) {  // partial Fisher-Yates: a seeded sample without repeats
      const std::size_t r = k + static_cast<std::size_t>(rng.uniform(0, 1) * static_cast<double>(n - k)) % (n - k);
      std::swap(idx[k], idx[r]);
      const std::size_t j = idx[k] / weights[l].cols, i = idx[k] % weights[l].cols;
      sample.push_back({l, j, i, weights[l].at(j, i)});
    }
  }
  tabulate_synapses(sample);
  DecomposedOptions ro = options_;
  ro.synapse_tables = SynapseTables::ngspice;
  ro.zero_code_pre_coarsening = 1;
  ro.cache_dir.clear();
  ro.chunk_owner = nullptr;
  ro.progress = false;
  DecomposedSolver ref(chip_, ro);
  ref.tabulate_synapses(sample);
  const Grid &pg = impl_->pre, &qg = impl_->post;
  for (const auto& s : sample) {
    for (std::size_t kp = 0; kp < pg.n; ++kp)
      for (std::size_t kq = 0; kq < qg.n; ++kq) {
        const double x = synapse_current(s.layer, s.post, s.pre, s.code, pg.v(kp), qg.v(kq));
        const double y = ref.synapse_current(s.layer, s.post, s.pre, s.code, pg.v(kp), qg.v(kq));
        const double r = std::abs(x - y) / (5e-3 * std::abs(y) + 20e-12);
        ++a.points;
        if (std::abs(y) > 1e-9) a.worst_relative = std::max(a.worst_relative, std::abs(x - y) / std::abs(y));
        if (r > a.worst_ratio) {
          a.worst_ratio = r;
          a.worst_where = fmt::format("synapse ({}, {}, {}) code {} at V_pre = {:.3f} V, V_post = {:.3f} V: native {:.6g} A, ngspice {:.6g} A", s.layer,
                                      s.post, s.pre, s.code, pg.v(kp), qg.v(kq), x, y);
        }
      }
  }
  a.synapses = sample.size();
  a.done = true;
  a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return a;
}

nlohmann::json to_json(const DecomposedSolver::Audit& a) {
  if (!a.done) return {{"done", false}, {"why", "the synapse tables come from ngspice itself (reference method): nothing to audit"}};
  return {{"done", true},
          {"synapses", a.synapses},
          {"grid_points", a.points},
          {"worst_error_over_bound", a.worst_ratio},
          {"bound", "0.5 % * |I_ngspice| + 20 pA per synapse-table point"},
          {"within_bound", a.within_bound()},
          {"worst_relative_error_above_1nA", a.worst_relative},
          {"worst_at", a.worst_where},
          {"seconds", a.seconds}};
}

void report_audit(const DecomposedSolver::Audit& a, const std::string& what) {
  if (!a.done) return;
  if (a.within_bound())
    fmt::print(stderr, "{}: engine audit: {} synapses x {} grid points against ngspice, worst error {:.3f} of the bound (0.5 % + 20 pA)\n", what,
               a.synapses, a.synapses ? a.points / a.synapses : 0, a.worst_ratio);
  else
    fmt::print(stderr,
               "WARNING: {}: engine audit FAILED: the native synapse tables leave their bound (0.5 % + 20 pA) by {:.2f}x at {}; results of this run are "
               "marked (summary.json engine_audit.within_bound = false); rerun with --method decomposed-ngspice or full to check\n",
               what, a.worst_ratio, a.worst_where);
}

std::unique_ptr<NetworkDcSolver> make_decomposed_solver(const NetworkChip& chip, const DecomposedOptions& options) {
  return std::make_unique<DecomposedSolver>(chip, options);
}

}  // namespace nnspice::engine

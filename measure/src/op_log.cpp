#include "nnspice/measure/op_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/progress.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/common/store.hpp"
#include "nnspice/engine/decomposed_dc.hpp"

namespace nnspice::measure {
namespace {

struct OpStats {
  std::size_t simulated, failed;
  long iterations;
};

// Layout of one line (store::seal_line): {"c":[[...]],"k":"<16 hex>","n":<iters>,"sum":"<16 hex>"}.
const store::Kind kOpsKind{"ops", 2};

/// Parses one log line; the reason when it is unusable (cut short by a kill, edited, non-finite).
std::string parse_line(const std::string& line, std::uint64_t& key, OpRecord& rec) {
  const auto sealed = store::unseal_line(kOpsKind, line);
  if (!sealed) return sealed.reason;
  const nlohmann::json& j = *sealed.value;
  if (!j.contains("k") || !j["k"].is_string() || !j.contains("c") || !j["c"].is_array() || !j.contains("n") || !j["n"].is_number_integer())
    return "fields k, c, n missing";
  const std::string k = j["k"].get<std::string>();
  if (k.size() != 16) return "bad key";
  try {
    key = std::stoull(k, nullptr, 16);
  } catch (const std::exception&) {
    return "bad key";
  }
  rec = OpRecord{};
  rec.ok = true;
  rec.from_log = true;
  rec.newton_iterations = j["n"].get<long>();
  for (const auto& layer : j["c"]) {
    if (!layer.is_array()) return "bad currents";
    std::vector<double> v;
    for (const auto& x : layer) {
      if (!x.is_number()) return "bad currents";
      v.push_back(x.get<double>());
    }
    rec.currents.push_back(std::move(v));
  }
  return "";
}

std::string format_line(std::uint64_t key, const OpRecord& rec) {
  nlohmann::json j;
  j["k"] = fmt::format("{:016x}", key);
  j["c"] = rec.currents;
  j["n"] = rec.newton_iterations;
  return store::seal_line(kOpsKind, j);
}

}  // namespace

OpLog::OpLog(std::string path, bool resume) : path_(std::move(path)) {
  std::string kept;
  if (resume && file_exists(path_)) {
    const std::string text = read_file(path_);
    std::size_t start = 0, line_no = 0;
    std::string first_reason;
    while (start < text.size()) {
      ++line_no;
      const std::size_t nl = text.find('\n', start);
      if (nl == std::string::npos) {  // unterminated last line: written by a killed process
        ++ignored_lines_;
        if (first_reason.empty()) first_reason = fmt::format("line {}: cut short", line_no);
        break;
      }
      const std::string line = text.substr(start, nl - start);
      start = nl + 1;
      if (line.empty()) continue;
      std::uint64_t key = 0;
      OpRecord rec;
      if (auto why = parse_line(line, key, rec); !why.empty()) {
        ++ignored_lines_;
        if (first_reason.empty()) first_reason = fmt::format("line {}: {}", line_no, why);
        continue;
      }
      if (records_.emplace(key, std::move(rec)).second) kept += line + "\n";
    }
    if (ignored_lines_)
      store::notice(path_, fmt::format("{} line(s) not used ({}{})", ignored_lines_, first_reason, ignored_lines_ > 1 ? ", ..." : ""),
                    "simulating those operating points again");
  }
  // Rewrite the log with only its valid lines (atomically), then append to it.
  write_file_atomic(path_, kept);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) throw InputError(fmt::format("cannot open checkpoint {} for appending: {}", path_, std::strerror(errno)));
}

OpLog::~OpLog() {
  if (fd_ >= 0) ::close(fd_);
}

const OpRecord* OpLog::find(std::uint64_t key) const {
  auto it = records_.find(key);
  return it == records_.end() ? nullptr : &it->second;
}

void OpLog::append(std::uint64_t key, const OpRecord& record) {
  if (!record.ok || records_.count(key)) return;
  const std::string line = format_line(key, record);
  // One write() per line: a SIGKILL leaves at most an unterminated last line, which reading ignores.
  std::size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(fmt::format("cannot append to checkpoint {}: {}", path_, std::strerror(errno)));
    }
    off += static_cast<std::size_t>(n);
  }
  OpRecord copy = record;
  copy.from_log = true;
  records_.emplace(key, std::move(copy));
}

std::unique_ptr<sim::NetworkDcSolver> make_solver(const std::string& method, const sim::NetworkChip& chip,
                                                  const sim::ParallelOptions& options, const std::string& cache_dir, bool progress) {
  if (method == "full") return sim::make_full_netlist_solver(chip, options);
  if (method == "decomposed" || method == "decomposed-ngspice") {
    engine::DecomposedOptions d;
    if (method == "decomposed-ngspice") d.synapse_tables = engine::SynapseTables::ngspice;
    d.parallel.workers = options.workers;
    d.parallel.session = options.session;
    d.parallel.job_timeout_s = options.job_timeout_s;
    d.cache_dir = cache_dir;
    d.progress = progress;
    return engine::make_decomposed_solver(chip, d);
  }
  throw InputError(fmt::format("--method = '{}': expected 'full', 'decomposed' or 'decomposed-ngspice'", method));
}

// ----- runner ---------------------------------------------------------------------------------------------

/// Records operating points as the solver's worker jobs finish (ParallelOptions::on_result), so a kill loses
/// at most the points still running. It decodes the full-netlist solver's job data ("layer<l>", "iters");
/// points it cannot decode are recorded after solve() returns instead.
struct OpRunner::Hook {
  OpLog* log = nullptr;
  bool decode = false;
  std::size_t n_layers = 0;
  std::vector<std::uint64_t> keys;  ///< per job index of the solve() call in flight
  std::vector<char> recorded;
  Progress* progress = nullptr;
  std::size_t done = 0;

  void on_result(std::size_t job, const sim::JobOutcome& o) {
    if (!decode || job >= keys.size() || recorded[job]) return;  // other solvers' jobs are not operating points
    if (progress) progress->update(++done);
    recorded[job] = 2;  // counted for progress
    if (!log || !o.ok) return;
    OpRecord rec;
    rec.ok = true;
    for (std::size_t l = 0; l < n_layers; ++l) {
      auto it = o.data.find(fmt::format("layer{}", l));
      if (it == o.data.end()) return;
      rec.currents.push_back(it->second);
    }
    auto it = o.data.find("iters");
    if (it == o.data.end() || it->second.size() != 1) return;
    rec.newton_iterations = static_cast<long>(it->second[0]);
    log->append(keys[job], rec);
    recorded[job] = 1;
  }
};

OpRunner::OpRunner(const sim::NetworkChip& chip, const RunnerOptions& options) : n_layers_(chip.spec.layers.size()), options_(options) {
  init(chip);
  sim::ParallelOptions popt;
  popt.workers = options.workers;
  std::weak_ptr<Hook> weak = hook_;
  if (options.method == "full")
    popt.on_result = [weak](std::size_t job, const sim::JobOutcome& o) {
      if (auto h = weak.lock()) h->on_result(job, o);
    };
  solver_ = make_solver(options.method, chip, popt, options.table_cache_dir, options.progress);
}

OpRunner::OpRunner(std::unique_ptr<sim::NetworkDcSolver> solver, const sim::NetworkChip& chip, const RunnerOptions& options)
    : n_layers_(chip.spec.layers.size()), solver_(std::move(solver)), options_(options) {
  init(chip);
  hook_->decode = false;
}

void OpRunner::init(const sim::NetworkChip& chip) {
  const auto& options = options_;
  if (options.workers < 1 || options.workers > 64)
    throw InputError(fmt::format("--workers = {}: expected 1..64", options.workers));
  // Everything an operating point depends on besides weights and inputs.
  const auto& p = chip.process;
  context_ = fmt::format("nnspice-op/1|{}|{}|{}|{}|{}|{}|{:a}|{:a}|", options.method, chip.spec.str(), p.name, p.model_card, p.nmos_model,
                         p.pmos_model, p.vdd_V, p.temp_C);
  for (const auto& s : p.sizes) context_ += fmt::format("{:a},{:a};", s.w_m, s.l_m);
  for (const auto& [k, v] : p.ngspice_options) context_ += k + "=" + v + ";";
  std::string dv(reinterpret_cast<const char*>(chip.chip.delvto_V.data()), chip.chip.delvto_V.size() * sizeof(double));
  context_ += fmt::format("|delvto:{:016x}:{}", fnv1a64(dv), chip.chip.delvto_V.size());

  hook_ = std::make_shared<Hook>();
  hook_->n_layers = n_layers_;
  hook_->decode = options.method == "full";
  if (!options.log_path.empty() && options.exchange.rank == 0) {  // under MPI rank 0 alone keeps the log
    log_ = std::make_unique<OpLog>(options.log_path, options.resume);
    hook_->log = log_.get();
  }
}

OpRunner::~OpRunner() = default;

std::string OpRunner::method() const { return solver_->method(); }

nlohmann::json OpRunner::solver_details() const {
  const auto* d = dynamic_cast<const engine::DecomposedSolver*>(solver_.get());
  if (!d) return nlohmann::json::object();
  return engine::to_json(d->stats(), d->options().synapse_tables);
}

nlohmann::json OpRunner::engine_audit(const netlist::WeightCodes& weights, std::size_t per_layer) {
  auto* d = dynamic_cast<engine::DecomposedSolver*>(solver_.get());
  if (!d || per_layer == 0) return nullptr;
  const auto a = d->audit(weights, per_layer);
  engine::report_audit(a, "characterize");
  return engine::to_json(a);
}

std::uint64_t OpRunner::key(const netlist::WeightCodes& weights, const std::vector<double>& inputs) const {
  std::string s = context_;
  for (const auto& m : weights) {
    s += fmt::format("|{}x{}:", m.rows, m.cols);
    s.append(reinterpret_cast<const char*>(m.codes.data()), m.codes.size());
  }
  s += "|in:";
  s.append(reinterpret_cast<const char*>(inputs.data()), inputs.size() * sizeof(double));
  return fnv1a64(s);
}

void OpRunner::solve_batch(const OpBatch& batch, const std::vector<std::uint64_t>& keys, const std::vector<std::size_t>& missing,
                           std::vector<OpRecord>& out, Progress& progress) {
  std::vector<std::vector<double>> inputs;
  hook_->keys.clear();
  for (std::size_t k : missing) {
    inputs.push_back(batch.inputs[k]);
    hook_->keys.push_back(keys[k]);
  }
  hook_->recorded.assign(missing.size(), 0);
  const auto res = solver_->solve(batch.weights, inputs);
  if (res.size() != missing.size())
    throw std::runtime_error(fmt::format("solver {} returned {} operating points for {} inputs", solver_->method(), res.size(), missing.size()));
  for (std::size_t m = 0; m < missing.size(); ++m) {
    OpRecord& rec = out[missing[m]];
    rec.ok = res[m].ok;
    rec.error = res[m].error;
    rec.currents = res[m].currents;
    rec.newton_iterations = res[m].newton_iterations;
    if (rec.ok && rec.currents.size() != n_layers_)
      throw std::runtime_error(fmt::format("solver {} returned currents of {} layers, expected {}", solver_->method(), rec.currents.size(), n_layers_));
    ++stats_.ops_simulated;
    stats_.newton_iterations += rec.newton_iterations;
    if (!rec.ok) ++stats_.ops_failed;
    if (log_ && rec.ok && hook_->recorded[m] != 1) log_->append(hook_->keys[m], rec);
    if (!hook_->recorded[m]) progress.update(++hook_->done);
  }
  hook_->keys.clear();
  hook_->recorded.clear();
}

std::vector<std::vector<OpRecord>> OpRunner::run(const std::vector<OpBatch>& batches, const std::string& label) {
  if (options_.exchange.distributed()) return run_distributed(batches, label);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<OpRecord>> out(batches.size());
  std::vector<std::vector<std::uint64_t>> keys(batches.size());
  std::size_t total = 0, cached = 0;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    out[b].resize(batches[b].inputs.size());
    for (const auto& in : batches[b].inputs) {
      keys[b].push_back(key(batches[b].weights, in));
      if (log_ && log_->find(keys[b].back())) ++cached;
      ++total;
    }
  }
  Progress progress(label, total, options_.progress);
  progress.start_from(cached);
  hook_->progress = &progress;
  hook_->done = cached;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    std::vector<std::size_t> missing;
    for (std::size_t k = 0; k < batches[b].inputs.size(); ++k) {
      if (const OpRecord* r = log_ ? log_->find(keys[b][k]) : nullptr) {
        out[b][k] = *r;
        out[b][k].from_log = true;
        ++stats_.ops_from_log;
      } else {
        missing.push_back(k);
      }
    }
    if (!missing.empty()) solve_batch(batches[b], keys[b], missing, out[b], progress);
  }
  hook_->progress = nullptr;
  progress.finish();
  stats_.ops_total += total;
  stats_.wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

namespace {

// Operating points exchanged between ranks: (batch, point, record) in a flat byte string.
template <class T>
void put(std::string& s, const T& v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
T take(const std::string& s, std::size_t& pos) {
  if (pos + sizeof(T) > s.size()) throw std::runtime_error("operating-point exchange between ranks: truncated message");
  T v;
  std::memcpy(&v, s.data() + pos, sizeof v);
  pos += sizeof v;
  return v;
}

void pack_point(std::string& s, std::size_t b, std::size_t k, const OpRecord& r) {
  put<std::uint64_t>(s, b);
  put<std::uint64_t>(s, k);
  put<std::uint8_t>(s, r.ok ? 1 : 0);
  put<std::int64_t>(s, r.newton_iterations);
  put<std::uint64_t>(s, r.error.size());
  s += r.error;
  put<std::uint64_t>(s, r.currents.size());
  for (const auto& layer : r.currents) {
    put<std::uint64_t>(s, layer.size());
    s.append(reinterpret_cast<const char*>(layer.data()), layer.size() * sizeof(double));
  }
}

// Calls f(b, k, record) for every point in `s`; indices are checked against `out`.
template <class F>
void unpack_points(const std::string& s, const std::vector<std::vector<OpRecord>>& out, F&& f) {
  std::size_t pos = 0;
  while (pos < s.size()) {
    const auto b = take<std::uint64_t>(s, pos), k = take<std::uint64_t>(s, pos);
    if (b >= out.size() || k >= out[b].size()) throw std::runtime_error("operating-point exchange between ranks: a point outside the batches");
    OpRecord r;
    r.ok = take<std::uint8_t>(s, pos) != 0;
    r.newton_iterations = take<std::int64_t>(s, pos);
    const auto ne = take<std::uint64_t>(s, pos);
    if (ne > s.size() - pos) throw std::runtime_error("operating-point exchange between ranks: truncated message");
    r.error = s.substr(pos, ne);
    pos += ne;
    const auto nl = take<std::uint64_t>(s, pos);
    if (nl > 1000) throw std::runtime_error("operating-point exchange between ranks: corrupt message");
    r.currents.resize(nl);
    for (auto& layer : r.currents) {
      const auto n = take<std::uint64_t>(s, pos);
      if (n > (s.size() - pos) / sizeof(double)) throw std::runtime_error("operating-point exchange between ranks: truncated message");
      layer.resize(n);
      std::memcpy(layer.data(), s.data() + pos, n * sizeof(double));
      pos += n * sizeof(double);
    }
    f(static_cast<std::size_t>(b), static_cast<std::size_t>(k), std::move(r));
  }
}

}  // namespace

// MPI: rank 0 says which points its log holds (and their records); the batches with points still to solve are
// dealt out round robin, K at a time, and each round's results go to every rank (rank 0 logs them), so every
// rank returns what one process would.
std::vector<std::vector<OpRecord>> OpRunner::run_distributed(const std::vector<OpBatch>& batches, const std::string& label) {
  const Exchange& ex = options_.exchange;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<OpRecord>> out(batches.size());
  std::vector<std::vector<std::uint64_t>> keys(batches.size());
  std::size_t total = 0;
  std::string cached_msg;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    out[b].resize(batches[b].inputs.size());
    for (std::size_t k = 0; k < batches[b].inputs.size(); ++k) {
      keys[b].push_back(key(batches[b].weights, batches[b].inputs[k]));
      if (const OpRecord* r = log_ ? log_->find(keys[b].back()) : nullptr) pack_point(cached_msg, b, k, *r);
      ++total;
    }
  }
  std::vector<std::vector<char>> have(batches.size());
  for (std::size_t b = 0; b < batches.size(); ++b) have[b].assign(batches[b].inputs.size(), 0);
  std::size_t cached = 0;
  unpack_points(ex.from_root(cached_msg), out, [&](std::size_t b, std::size_t k, OpRecord r) {
    out[b][k] = std::move(r);
    out[b][k].from_log = true;
    have[b][k] = 1;
    ++cached;
  });
  stats_.ops_from_log += cached;
  std::vector<std::size_t> pending;  // batches with points to solve
  for (std::size_t b = 0; b < batches.size(); ++b)
    if (std::count(have[b].begin(), have[b].end(), 0) > 0) pending.push_back(b);

  Progress progress(label, total, options_.progress && ex.rank == 0);
  progress.start_from(cached);
  Progress quiet(label, 0, false);  // rank 0's own points are counted per round, below
  hook_->progress = nullptr;
  hook_->done = cached;
  std::size_t done = cached;
  const std::size_t K = static_cast<std::size_t>(ex.size);
  for (std::size_t round = 0; round * K < pending.size(); ++round) {
    std::string mine;
    const std::size_t idx = round * K + static_cast<std::size_t>(ex.rank);
    if (idx < pending.size()) {
      const std::size_t b = pending[idx];
      std::vector<std::size_t> missing;
      for (std::size_t k = 0; k < have[b].size(); ++k)
        if (!have[b][k]) missing.push_back(k);
      const OpStats before{stats_.ops_simulated, stats_.ops_failed, stats_.newton_iterations};
      solve_batch(batches[b], keys[b], missing, out[b], quiet);
      // Counted below from the exchanged records, for every rank alike.
      stats_.ops_simulated = before.simulated;
      stats_.ops_failed = before.failed;
      stats_.newton_iterations = before.iterations;
      for (std::size_t k : missing) pack_point(mine, b, k, out[b][k]);
    }
    const auto all = ex.gather(mine);
    for (std::size_t r = 0; r < all.size(); ++r)
      unpack_points(all[r], out, [&](std::size_t b, std::size_t k, OpRecord rec) {
        ++stats_.ops_simulated;
        stats_.newton_iterations += rec.newton_iterations;
        if (!rec.ok) ++stats_.ops_failed;
        if (log_ && rec.ok && static_cast<int>(r) != ex.rank) log_->append(keys[b][k], rec);  // rank 0 logged its own in solve_batch
        out[b][k] = std::move(rec);
        ++done;
      });
    progress.update(done);
  }
  progress.finish();
  stats_.ops_total += total;
  stats_.wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace nnspice::measure

#include "nnspice/evaluate/evaluate.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/progress.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/common/store.hpp"

namespace nnspice::evaluate {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t fingerprint(const sim::NetworkChip& chip, const netlist::WeightCodes& w, const train::Dataset& data, const EvalOptions& o) {
  std::string s(reinterpret_cast<const char*>(chip.chip.delvto_V.data()), chip.chip.delvto_V.size() * sizeof(double));
  for (const auto& m : w) s.append(reinterpret_cast<const char*>(m.codes.data()), m.codes.size());
  s.append(reinterpret_cast<const char*>(data.y.data()), data.y.size() * sizeof(int));
  s.append(reinterpret_cast<const char*>(data.x.data()), static_cast<std::size_t>(data.x.size()) * sizeof(float));
  s += fmt::format("|{}|{}|{}|{}|{}", chip.spec.str(), chip.process.model_card, o.method, o.input_mean_A, o.block);
  return fnv1a64(s);
}

// A finished block, serialised for the checkpoint exchange between ranks.
struct BlockResult {
  std::size_t block = 0;
  std::vector<std::uint8_t> status;  // 1 ok, 2 failed
  std::vector<double> outputs;       // per sample NL values
  std::vector<double> estimates;     // per sample NL engine error estimates (NaN: none, e.g. the full netlist)
  std::vector<std::string> errors;   // per sample ("" if ok)
};

std::string pack(const BlockResult& b) {
  std::string out;
  auto put = [&](const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); };
  const std::uint64_t blk = b.block, n = b.status.size(), no = b.outputs.size();
  put(&blk, 8);
  put(&n, 8);
  put(b.status.data(), n);
  put(&no, 8);
  put(b.outputs.data(), no * sizeof(double));
  put(b.estimates.data(), no * sizeof(double));  // same count as the outputs
  for (const auto& e : b.errors) {
    const std::uint64_t len = e.size();
    put(&len, 8);
    put(e.data(), len);
  }
  return out;
}

std::vector<BlockResult> unpack_all(const std::string& bytes) {
  std::vector<BlockResult> out;
  std::size_t pos = 0;
  auto get = [&](void* p, std::size_t n) {
    if (pos + n > bytes.size()) throw std::runtime_error("evaluate: truncated block exchange");
    std::memcpy(p, bytes.data() + pos, n);
    pos += n;
  };
  while (pos < bytes.size()) {
    BlockResult b;
    std::uint64_t blk, n, no;
    get(&blk, 8);
    get(&n, 8);
    b.block = blk;
    b.status.resize(n);
    get(b.status.data(), n);
    get(&no, 8);
    b.outputs.resize(no);
    get(b.outputs.data(), no * sizeof(double));
    b.estimates.resize(no);
    get(b.estimates.data(), no * sizeof(double));
    b.errors.resize(n);
    for (auto& e : b.errors) {
      std::uint64_t len;
      get(&len, 8);
      e.resize(len);
      get(e.data(), len);
    }
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

std::vector<double> sample_currents(const train::Dataset& data, std::size_t k, double input_mean_A) {
  const auto col = data.x.col(static_cast<Eigen::Index>(k));
  double mean = 0;
  for (Eigen::Index i = 0; i < col.size(); ++i) mean += std::max(0.0f, col[i]);
  mean /= static_cast<double>(col.size());
  std::vector<double> in(static_cast<std::size_t>(col.size()), 0.0);
  if (mean <= 0) return in;
  const double scale = input_mean_A / mean;
  for (Eigen::Index i = 0; i < col.size(); ++i) in[static_cast<std::size_t>(i)] = std::max(0.0f, col[i]) * scale;
  return in;
}

EvalResult evaluate_chip(const sim::NetworkChip& chip, const netlist::WeightCodes& weights, const train::Dataset& data,
                         const EvalOptions& opt) {
  const auto& spec = chip.spec;
  netlist::validate_weights(weights, spec, "weights");
  if (data.features() != static_cast<std::size_t>(spec.layers[0]))
    throw InputError(fmt::format("the data set has {} features per sample, the network {} has {} inputs", data.features(), spec.str(), spec.layers[0]));
  if (data.n_classes > spec.layers.back())
    throw InputError(fmt::format("the data set has {} classes, the network {} only {} outputs", data.n_classes, spec.str(), spec.layers.back()));
  if (!(opt.input_mean_A > 0 && opt.input_mean_A <= 1e-5))
    throw InputError(fmt::format("input mean current = {} A. Violated constraint: 0 < input_mean_A <= 1e-5", opt.input_mean_A));
  if (opt.method != "decomposed" && opt.method != "decomposed-ngspice" && opt.method != "full")
    throw InputError(fmt::format("evaluation method '{}': expected decomposed, decomposed-ngspice or full", opt.method));
  if (opt.block == 0) throw InputError("evaluation block size must be > 0");

  const std::size_t n = data.size(), NL = spec.layers.back();
  const Exchange& ex = opt.exchange;
  EvalResult r;
  r.samples = n;
  r.outputs = NL;
  r.output_A.assign(n * NL, std::nan(""));
  r.output_error_A.assign(n * NL, std::nan(""));
  r.predicted.assign(n, -1);
  r.labels = data.y;
  std::vector<std::uint8_t> status(n, 0);
  std::vector<std::string> errors(n);
  const std::uint64_t fp = store::Inputs().add("evaluate", hex64(fingerprint(chip, weights, data, opt))).hash();
  const std::size_t nblocks = (n + opt.block - 1) / opt.block;

  // Resume: the checkpoint (one store record: status, outputs and errors of every sample, keyed by the
  // fingerprint of chip, weights, data and options) holds every finished sample. An unusable one is
  // recomputed, never used.
  const store::Kind ck_kind{"evaluate-checkpoint", 2};  // 2: with the engine's error estimates
  const std::string ck = opt.out_dir.empty() ? "" : opt.out_dir + "/checkpoint";
  if (!ck.empty()) make_dirs(ck);
  const std::string ck_file = ck + "/state.bin";
  if (opt.resume && !ck.empty()) {
    auto rec = store::load_record(ck_file, ck_kind, fp);
    std::string why = rec.reason;
    if (rec) {
      try {
        const auto blocks = unpack_all(*rec.value);
        if (blocks.size() != 1 || blocks[0].status.size() != n || blocks[0].outputs.size() != n * NL || blocks[0].estimates.size() != n * NL)
          throw std::runtime_error(fmt::format("does not hold {} samples of {} outputs", n, NL));
        const BlockResult& b = blocks[0];
        for (std::size_t k = 0; k < n; ++k) {
          if (b.status[k] > 2) throw std::runtime_error(fmt::format("sample {}: status {}", k, b.status[k]));
          for (std::size_t j = 0; b.status[k] == 1 && j < NL; ++j)
            if (!std::isfinite(b.outputs[k * NL + j])) throw std::runtime_error(fmt::format("sample {}: output {} = {}", k, j, b.outputs[k * NL + j]));
        }
        status = b.status;
        r.output_A = b.outputs;
        r.output_error_A = b.estimates;
        errors = b.errors;
      } catch (const std::exception& e) {
        why = fmt::format("invalid content: {}", e.what());
      }
    }
    if (!why.empty()) store::notice(ck_file, why, "evaluating every sample again");
  }
  std::vector<std::size_t> pending;
  for (std::size_t b = 0; b < nblocks; ++b) {
    bool done = true;
    for (std::size_t k = b * opt.block; k < std::min(n, (b + 1) * opt.block); ++k) done = done && status[k] != 0;
    if (!done) pending.push_back(b);
  }
  r.resumed = static_cast<std::size_t>(std::count_if(status.begin(), status.end(), [](auto s) { return s != 0; }));

  // The solver.
  const auto t0 = Clock::now();
  std::unique_ptr<sim::NetworkDcSolver> solver;
  engine::DecomposedSolver* dec = nullptr;
  if (opt.method == "decomposed" || opt.method == "decomposed-ngspice") {
    engine::DecomposedOptions d = opt.decomposed;
    if (opt.method == "decomposed-ngspice") d.synapse_tables = engine::SynapseTables::ngspice;
    d.parallel = opt.parallel;
    d.progress = opt.progress && ex.rank == 0;
    if (d.cache_dir.empty() && !opt.out_dir.empty()) d.cache_dir = opt.out_dir + "/tables";
    if (!pending.empty() && ex.size > 1) d.chunk_owner = [&ex](std::size_t c) { return static_cast<int>(c % static_cast<std::size_t>(ex.size)) == ex.rank; };
    auto s = std::make_unique<engine::DecomposedSolver>(chip, d);
    dec = s.get();
    if (!pending.empty()) {
      dec->tabulate(weights);
      if (ex.size > 1) {
        const auto all = ex.allgather(dec->export_tables());
        for (int k = 0; k < ex.size; ++k)
          if (k != ex.rank) dec->import_tables(all[static_cast<std::size_t>(k)]);
      }
    }
    if (opt.audit_synapses > 0 && (ex.size == 1 || !pending.empty())) {
      const auto audit = dec->audit(weights, opt.audit_synapses);
      if (ex.rank == 0) engine::report_audit(audit, "evaluate");
      r.stats["engine_audit"] = engine::to_json(audit);
    }
    solver = std::move(s);
  } else {
    solver = sim::make_full_netlist_solver(chip, opt.parallel);
  }
  const double tab_s = std::chrono::duration<double>(Clock::now() - t0).count();

  auto save_checkpoint = [&] {
    if (ck.empty() || ex.rank != 0) return;
    store::write_record(ck_file, ck_kind, fp, pack(BlockResult{0, status, r.output_A, r.output_error_A, errors}));
  };

  Progress progress("evaluate", n, opt.progress && ex.rank == 0 && n > 50);
  progress.start_from(r.resumed);
  const auto t1 = Clock::now();
  for (std::size_t round = 0; round * static_cast<std::size_t>(ex.size) < pending.size(); ++round) {
    const std::size_t idx = round * static_cast<std::size_t>(ex.size) + static_cast<std::size_t>(ex.rank);
    std::string mine;
    if (idx < pending.size()) {
      BlockResult br;
      br.block = pending[idx];
      const std::size_t lo = br.block * opt.block, hi = std::min(n, lo + opt.block);
      std::vector<std::vector<double>> in;
      for (std::size_t k = lo; k < hi; ++k) in.push_back(sample_currents(data, k, opt.input_mean_A));
      const auto res = solver->solve(weights, in);
      for (std::size_t q = 0; q < res.size(); ++q) {
        // A NaN/Inf output makes the sample a failure: counted in "failed", never given a class.
        std::string error = res[q].ok ? "" : res[q].error;
        for (std::size_t j = 0; error.empty() && j < NL; ++j)
          if (res[q].currents.empty() || res[q].currents.back().size() != NL || !std::isfinite(res[q].currents.back()[j]))
            error = fmt::format("output {} is not a finite current", j);
        br.status.push_back(error.empty() ? 1 : 2);
        br.errors.push_back(error);
        const bool est = error.empty() && res[q].error_estimate.size() == res[q].currents.size() && res[q].error_estimate.back().size() == NL;
        for (std::size_t j = 0; j < NL; ++j) {
          br.outputs.push_back(error.empty() ? res[q].currents.back()[j] : std::nan(""));
          br.estimates.push_back(est ? res[q].error_estimate.back()[j] : std::nan(""));
        }
      }
      mine = pack(br);
    }
    std::vector<std::string> all = ex.size > 1 ? ex.allgather(mine) : std::vector<std::string>{mine};
    for (const auto& bytes : all)
      for (const auto& br : unpack_all(bytes)) {
        const std::size_t lo = br.block * opt.block;
        for (std::size_t q = 0; q < br.status.size(); ++q) {
          status[lo + q] = br.status[q];
          errors[lo + q] = br.errors[q];
          std::copy(br.outputs.begin() + q * NL, br.outputs.begin() + (q + 1) * NL, r.output_A.begin() + (lo + q) * NL);
          std::copy(br.estimates.begin() + q * NL, br.estimates.begin() + (q + 1) * NL, r.output_error_A.begin() + (lo + q) * NL);
        }
      }
    save_checkpoint();
    progress.update(static_cast<std::size_t>(std::count_if(status.begin(), status.end(), [](auto s) { return s != 0; })));
  }
  progress.finish();
  const double solve_s = std::chrono::duration<double>(Clock::now() - t1).count();

  for (std::size_t k = 0; k < n; ++k) {
    if (status[k] == 0) continue;
    ++r.evaluated;
    if (status[k] == 2) {
      ++r.failed;
      r.errors.push_back(fmt::format("sample {}: {}", k, errors[k]));
      continue;
    }
    const auto b = r.output_A.begin() + k * NL;
    if (!std::all_of(b, b + NL, [](double x) { return std::isfinite(x); })) {  // a NaN/Inf output is a failure, never a class
      ++r.failed;
      r.errors.push_back(fmt::format("sample {}: NaN/Inf output current", k));
      continue;
    }
    r.predicted[k] = static_cast<int>(std::max_element(b, b + NL) - b);
    if (r.predicted[k] == data.y[k]) ++r.correct;
  }
  nlohmann::json audit_json = r.stats.contains("engine_audit") ? r.stats["engine_audit"] : nlohmann::json();
  r.stats = {{"method", opt.method}, {"tabulate_s", tab_s}, {"solve_s", solve_s}, {"ranks", ex.size}, {"resumed_samples", r.resumed}};
  if (!audit_json.is_null()) r.stats["engine_audit"] = audit_json;
  if (dec) {
    const Conditioning c = conditioning(r);
    r.stats["engine_error_estimate"] = c.to_json();
    if (ex.rank == 0) report_conditioning(c, "evaluate");
    const auto& s = dec->stats();
    r.stats["sweep_jobs"] = s.sweep_jobs;
    r.stats["cached_jobs"] = s.cached_jobs;
    r.stats["sweep_points"] = s.sweep_points;
    r.stats["newton_iterations"] = s.newton_iterations;
    r.stats["synapse_tables"] = s.synapse_tables;
    r.stats["kirchhoff_solves"] = s.solves;
    r.stats["engine"] = engine::to_json(s, dec->options().synapse_tables);
  }
  return r;
}

Conditioning conditioning(const EvalResult& r, double rel, double floor_A) {
  Conditioning c;
  c.rel = rel;
  c.floor_A = floor_A;
  const std::size_t NL = r.outputs;
  for (std::size_t k = 0; k < r.samples; ++k) {
    if (r.predicted[k] < 0) continue;
    const double* I = r.output_A.data() + k * NL;
    const double* E = r.output_error_A.data() + k * NL;
    if (!std::all_of(E, E + NL, [](double e) { return std::isfinite(e); })) continue;
    ++c.samples;
    bool over = false;
    for (std::size_t j = 0; j < NL; ++j) {
      const double ratio = E[j] / (rel * std::abs(I[j]) + floor_A);
      if (ratio > 1) {
        ++c.outputs_over_bound;
        over = true;
      }
      if (ratio > c.worst_ratio) {
        c.worst_ratio = ratio;
        c.worst_sample = k;
        c.worst_output = j;
      }
    }
    c.samples_over_bound += over;
    // The class could change within the estimate: the winner minus its estimate below some other output plus its.
    const std::size_t top = static_cast<std::size_t>(r.predicted[k]);
    for (std::size_t j = 0; j < NL; ++j)
      if (j != top && I[top] - E[top] <= I[j] + E[j]) {
        ++c.class_uncertain;
        if (c.uncertain_examples.size() < 10) c.uncertain_examples.push_back(k);
        break;
      }
  }
  return c;
}

nlohmann::json Conditioning::to_json() const {
  return {{"what", "the decomposed engine's own error estimate per output current: every synapse's current taken as uncertain by "
                   "kSynapseRelativeError plus its pre-neuron's relative error, passed through each neuron's gain (docs/dc_engine.md "
                   "\"Ill-conditioned outputs\")"},
          {"assumed_synapse_relative_error", engine::kSynapseRelativeError},
          {"bound", {{"relative", rel}, {"floor_A", floor_A}}},
          {"samples", samples},
          {"outputs_over_bound", outputs_over_bound},
          {"samples_with_outputs_over_bound", samples_over_bound},
          {"class_uncertain_samples", class_uncertain},
          {"class_uncertain_first", uncertain_examples},
          {"worst_estimate_over_bound", worst_ratio},
          {"worst_sample", worst_sample},
          {"worst_output", worst_output}};
}

void report_conditioning(const Conditioning& c, const std::string& what) {
  if (c.samples == 0 || c.outputs_over_bound == 0) return;
  fmt::print(stderr,
             "{}{}: engine error estimate above 0.5 % + 20 pA for {} output current(s) of {} of {} samples (outputs that are differences of "
             "larger synaptic currents; worst {:.1f}x, sample {}, output {}; the estimate is on the safe side, docs/dc_engine.md); {} sample(s) "
             "could change class within it{} (summary.json engine_error_estimate, outputs_error_estimate.npy)\n",
             c.class_uncertain ? "WARNING: " : "", what, c.outputs_over_bound, c.samples_over_bound, c.samples, c.worst_ratio, c.worst_sample,
             c.worst_output, c.class_uncertain, c.class_uncertain ? ": check them with --method full" : "");
}

void write_eval_outputs(const EvalResult& r, int n_classes, const std::string& dir) {
  make_dirs(dir);
  write_npy(dir + "/outputs.npy", r.output_A, {r.samples, r.outputs});
  if (std::any_of(r.output_error_A.begin(), r.output_error_A.end(), [](double e) { return std::isfinite(e); }))
    write_npy(dir + "/outputs_error_estimate.npy", r.output_error_A, {r.samples, r.outputs});
  write_npy(dir + "/predicted.npy", std::vector<std::int32_t>(r.predicted.begin(), r.predicted.end()), {r.samples});
  write_npy(dir + "/labels.npy", std::vector<std::int32_t>(r.labels.begin(), r.labels.end()), {r.samples});
  const std::size_t C = static_cast<std::size_t>(std::max<int>(n_classes, static_cast<int>(r.outputs)));
  std::vector<double> conf(C * C, 0);
  for (std::size_t k = 0; k < r.samples; ++k)
    if (r.predicted[k] >= 0) conf[static_cast<std::size_t>(r.labels[k]) * C + static_cast<std::size_t>(r.predicted[k])] += 1;
  std::vector<std::string> header;
  for (std::size_t c = 0; c < C; ++c) header.push_back(fmt::format("pred_{}", c));
  write_csv(dir + "/confusion.csv", header, conf, C);
}

nlohmann::json Fidelity::to_json() const {
  return {{"samples", samples},           {"compared", compared},           {"same_class", same_class},
          {"tolerance", {{"relative", rel}, {"floor_A", floor_A}}},           {"worst_error_over_tolerance", worst_ratio},
          {"max_relative_error", max_rel_error}, {"max_abs_error_A", max_abs_error_A}, {"worst_sample", worst_sample},
          {"worst_output", worst_output},   {"within_tolerance", within()},
          {"outputs_outside_tolerance", outside},
          {"outside_and_covered_by_the_engine_estimate", outside_flagged}};
}

Fidelity compare_with_reference(const EvalResult& r, const std::string& reference_dir, double rel, double floor_A) {
  const std::string op = reference_dir + "/outputs.npy", pp = reference_dir + "/predicted.npy", lp = reference_dir + "/labels.npy";
  const NpyArray out = read_npy(op);
  if (out.shape.size() != 2 || out.shape[1] != r.outputs || out.shape[0] != r.samples)
    throw InputError(fmt::format("{}: shape ({}) but this evaluation has {} samples x {} outputs (same chip, weights and samples needed)", op,
                                 fmt::join(out.shape, ", "), r.samples, r.outputs));
  const NpyArray pred = read_npy(pp), lab = read_npy(lp);
  if (pred.size() != r.samples) throw InputError(fmt::format("{}: {} entries for {} samples", pp, pred.size(), r.samples));
  if (lab.size() != r.samples) throw InputError(fmt::format("{}: {} entries for {} samples", lp, lab.size(), r.samples));
  for (std::size_t k = 0; k < r.samples; ++k)
    if (lab.data[k] != static_cast<double>(r.labels[k]))
      throw InputError(fmt::format("{}: sample {} has label {} here but {} in the reference: not the same samples", lp, k, r.labels[k], lab.data[k]));
  Fidelity f;
  f.rel = rel;
  f.floor_A = floor_A;
  f.samples = r.samples;
  for (std::size_t k = 0; k < f.samples; ++k) {
    bool finite = r.predicted[k] >= 0 && pred.data[k] >= 0;
    for (std::size_t j = 0; j < r.outputs && finite; ++j)
      finite = std::isfinite(r.output_A[k * r.outputs + j]) && std::isfinite(out.data[k * r.outputs + j]);
    if (!finite) continue;
    ++f.compared;
    f.same_class += static_cast<double>(r.predicted[k]) == pred.data[k];
    for (std::size_t j = 0; j < r.outputs; ++j) {
      const double ref = out.data[k * r.outputs + j], err = std::abs(r.output_A[k * r.outputs + j] - ref);
      const double ratio = err / (rel * std::abs(ref) + floor_A);
      if (ratio > f.worst_ratio) { f.worst_ratio = ratio; f.worst_sample = k; f.worst_output = j; }
      if (ratio > 1) {
        ++f.outside;
        const double est = r.output_error_A.size() == r.output_A.size() ? r.output_error_A[k * r.outputs + j] : std::nan("");
        f.outside_flagged += std::isfinite(est) && est >= err;
      }
      if (std::abs(ref) > floor_A) f.max_rel_error = std::max(f.max_rel_error, err / std::abs(ref));
      f.max_abs_error_A = std::max(f.max_abs_error_A, err);
    }
  }
  return f;
}

}  // namespace nnspice::evaluate

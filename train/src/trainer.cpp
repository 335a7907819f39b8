#include "nnspice/train/trainer.hpp"

#include <Eigen/Core>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>
#include <thread>

#include "nnspice/common/gemm_native.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/progress.hpp"
#include "nnspice/common/rng.hpp"

namespace nnspice::train {

using Mat = Network<float>::Mat;

Loss parse_loss(const std::string& name, const std::string& what) {
  if (name == "mse") return Loss::mse;
  if (name == "weighted_mse") return Loss::weighted_mse;
  if (name == "cross_entropy" || name == "ce") return Loss::cross_entropy;
  throw InputError(fmt::format("{} = '{}': expected mse, weighted_mse or cross_entropy", what, name));
}

std::string loss_name(Loss loss) {
  switch (loss) {
    case Loss::mse: return "mse";
    case Loss::weighted_mse: return "weighted_mse";
    case Loss::cross_entropy: return "cross_entropy";
  }
  return "?";
}

void TrainOptions::validate() const {
  // Named as the user gives it: the option (--epochs) and the YAML key (epochs); two fields are spelt otherwise there.
  auto fail = [](const std::string& field, const std::string& value, const std::string& constraint) {
    const std::string key = field == "learning_rate" ? "lr" : field == "batch_size" ? "batch" : field;
    std::string flag = key;
    for (char& ch : flag) ch = ch == '_' ? '-' : ch;
    std::string rule = constraint;
    if (key != field)
      for (std::size_t at; (at = rule.find(field)) != std::string::npos;) rule.replace(at, field.size(), key);
    throw InputError(fmt::format("--{} (YAML {}) = {}. Violated constraint: {}", flag, key, value, rule));
  };
  if (layers.size() < 2) fail("layers", fmt::format("{}", format_layers(layers)), "at least 2 layers");
  // Bound before allocation (issue 17, class 7): the largest network nnspice builds as a chip has 5e7 transistors
  // (netlist::kMaxTransistors; 11 per synapse), so a trained network has at most 4.5e6 weights.
  constexpr double kMaxWeights = 4.5e6;
  double weights = 0;
  for (std::size_t l = 0; l + 1 < layers.size(); ++l) weights += static_cast<double>(layers[l]) * static_cast<double>(layers[l + 1]);
  if (weights > kMaxWeights)
    fail("layers", fmt::format("{} ({:.0f} weights)", format_layers(layers), weights),
         "at most 4500000 weights (the largest network nnspice builds as a chip: 5e7 transistors, 11 per synapse)");
  if (!(learning_rate > 0 && std::isfinite(learning_rate))) fail("learning_rate", fmt::format("{}", learning_rate), "learning_rate > 0");
  if (lr_schedule != "constant" && lr_schedule != "cosine") fail("lr_schedule", lr_schedule, "constant or cosine");
  if (!(lr_final_fraction > 0 && lr_final_fraction <= 1)) fail("lr_final_fraction", fmt::format("{}", lr_final_fraction), "0 < lr_final_fraction <= 1");
  if (!(adam_beta1 >= 0 && adam_beta1 < 1)) fail("adam_beta1", fmt::format("{}", adam_beta1), "0 <= adam_beta1 < 1");
  if (!(adam_beta2 >= 0 && adam_beta2 < 1)) fail("adam_beta2", fmt::format("{}", adam_beta2), "0 <= adam_beta2 < 1");
  if (!(adam_eps > 0)) fail("adam_eps", fmt::format("{}", adam_eps), "adam_eps > 0");
  if (epochs < 1) fail("epochs", fmt::format("{}", epochs), "epochs >= 1");
  if (batch_size < 1) fail("batch_size", fmt::format("{}", batch_size), "batch_size >= 1");
  if (!(init_range > 0)) fail("init_range", fmt::format("{}", init_range), "init_range > 0");
  if (!(l1_negative >= 0)) fail("l1_negative", fmt::format("{}", l1_negative), "l1_negative >= 0");
  if (!(relu_leak >= 0 && relu_leak < 1)) fail("relu_leak", fmt::format("{}", relu_leak), "0 <= relu_leak < 1");
  if (!(l1_activity >= 0)) fail("l1_activity", fmt::format("{}", l1_activity), "l1_activity >= 0");
  if (!(grid.step > 0)) fail("weight_step", fmt::format("{}", grid.step), "weight_step > 0");
  if (grid.max_code < 1 || grid.max_code > 127) fail("max_code", fmt::format("{}", grid.max_code), "1 <= max_code <= 127");
  if (patience < 0) fail("patience", fmt::format("{}", patience), "patience >= 0");
  if (!(dead_fraction > 0 && dead_fraction < 1)) fail("dead_fraction", fmt::format("{}", dead_fraction), "0 < dead_fraction < 1");
  if (!(revive_leak >= 0 && revive_leak < 1)) fail("revive_leak", fmt::format("{}", revive_leak), "0 <= revive_leak < 1");
  if (revive_patience < 0) fail("revive_patience", fmt::format("{}", revive_patience), "revive_patience >= 0");
  if (threads < 1 || threads > 256) fail("threads", fmt::format("{}", threads), "1 <= threads <= 256");
  if (target_scale == 0 || !std::isfinite(target_scale)) fail("target_scale", fmt::format("{}", target_scale), "target_scale > 0 (or < 0 for the loss default)");
}

nlohmann::json TrainOptions::to_json() const {
  return {{"layers", layers},           {"loss", loss_name(loss)},        {"target_scale", target_scale},
          {"learning_rate", learning_rate}, {"lr_schedule", lr_schedule}, {"lr_final_fraction", lr_final_fraction}, {"adam_beta1", adam_beta1},    {"adam_beta2", adam_beta2},
          {"adam_eps", adam_eps},       {"epochs", epochs},               {"batch_size", batch_size},
          {"init_range", init_range},   {"l1_negative", l1_negative},     {"l1_activity", l1_activity},
          {"quantize", quantize},       {"relu_leak", relu_leak},       {"weight_step", grid.step},       {"max_code", grid.max_code},
          {"patience", patience},       {"seed", seed},                   {"threads", threads},
          {"revive_dead", revive_dead}, {"dead_fraction", dead_fraction}, {"revive_leak", revive_leak},
          {"revive_patience", revive_patience}};
}

template <typename T>
T loss_and_grad(Loss loss, double target_scale, const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& out,
                const int* labels, Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& d) {
  const Eigen::Index C = out.rows(), B = out.cols();
  d.resize(C, B);
  double total = 0;
  if (loss == Loss::cross_entropy) {
    for (Eigen::Index b = 0; b < B; ++b) {
      const T mx = out.col(b).maxCoeff();
      double z = 0;
      for (Eigen::Index j = 0; j < C; ++j) z += std::exp(static_cast<double>(out(j, b) - mx));
      for (Eigen::Index j = 0; j < C; ++j) {
        const double p = std::exp(static_cast<double>(out(j, b) - mx)) / z;
        d(j, b) = static_cast<T>((p - (j == labels[b] ? 1.0 : 0.0)) / static_cast<double>(B));
      }
      total += -(static_cast<double>(out(labels[b], b) - mx) - std::log(z));
    }
    return static_cast<T>(total / static_cast<double>(B));
  }
  const bool weighted = loss == Loss::weighted_mse;
  const double scale = target_scale > 0 ? target_scale : (weighted ? 3.0 : 1.0);
  const double norm = 1.0 / static_cast<double>(B * C);
  for (Eigen::Index b = 0; b < B; ++b)
    for (Eigen::Index j = 0; j < C; ++j) {
      const double t = j == labels[b] ? scale : 0.0;
      const double w = weighted ? 0.25 + 0.75 * t : 1.0;
      const double e = static_cast<double>(out(j, b)) - t;
      total += w * e * e;
      d(j, b) = static_cast<T>(2.0 * w * e * norm);
    }
  return static_cast<T>(total * norm);
}
template float loss_and_grad<float>(Loss, double, const Mat&, const int*, Mat&);
template double loss_and_grad<double>(Loss, double, const Eigen::MatrixXd&, const int*, Eigen::MatrixXd&);

Eigen::MatrixXf outputs(const Network<float>& net, const Dataset& data, std::size_t batch) {
  Eigen::MatrixXf out(net.layers.back(), static_cast<Eigen::Index>(data.size()));
  for (std::size_t s = 0; s < data.size(); s += batch) {
    const auto n = static_cast<Eigen::Index>(std::min(batch, data.size() - s));
    out.middleCols(static_cast<Eigen::Index>(s), n) = predict(net, data.x.middleCols(static_cast<Eigen::Index>(s), n));
  }
  return out;
}

OutputHealth output_health(const Eigen::MatrixXf& out, double dead_fraction) {
  OutputHealth h;
  h.samples = static_cast<std::size_t>(out.cols());
  h.active_samples.assign(static_cast<std::size_t>(out.rows()), 0);
  for (Eigen::Index b = 0; b < out.cols(); ++b) {
    bool any = false;
    for (Eigen::Index j = 0; j < out.rows(); ++j)
      if (out(j, b) > 0.0f) ++h.active_samples[static_cast<std::size_t>(j)], any = true;
    h.all_zero_samples += !any;
  }
  if (h.samples == 0) return h;
  const double min_active = std::max(1.0, dead_fraction * static_cast<double>(h.samples));
  for (std::size_t j = 0; j < h.active_samples.size(); ++j)
    if (static_cast<double>(h.active_samples[j]) < min_active) h.dead_units.push_back(static_cast<int>(j));
  return h;
}

NonFinite non_finite_samples(const Eigen::MatrixXf& out) {
  NonFinite r;
  for (Eigen::Index b = 0; b < out.cols(); ++b)
    if (!out.col(b).allFinite() && r.count++ == 0) r.first = static_cast<std::size_t>(b);
  return r;
}

namespace {
// Fraction of samples whose argmax output is the label (ties: the lowest index).
double accuracy_of(const Eigen::MatrixXf& out, const Dataset& data) {
  std::size_t ok = 0;
  for (Eigen::Index b = 0; b < out.cols(); ++b) {
    Eigen::Index k;
    out.col(b).maxCoeff(&k);
    ok += static_cast<int>(k) == data.y[static_cast<std::size_t>(b)];
  }
  return static_cast<double>(ok) / static_cast<double>(data.size());
}
}  // namespace

double accuracy(const Network<float>& net, const Dataset& data, std::size_t batch) {
  if (data.size() == 0) return -1;
  return accuracy_of(outputs(net, data, batch), data);
}

namespace {

// The options that must agree between a checkpoint and the run resuming from it.
void check_resumable(const nlohmann::json& saved_options, const nlohmann::json& now, const std::string& path) {
  nlohmann::json saved = saved_options;
  // Checkpoints written before per-synapse gains existed trained without them (and without dead-output recovery).
  if (!saved.contains("synapse_gains")) saved["synapse_gains"] = false;
  if (!saved.contains("revive_dead")) saved["revive_dead"] = false;
  for (const char* key : {"dead_fraction", "revive_leak", "revive_patience"})
    if (!saved.contains(key)) saved[key] = now[key];
  for (const char* key : {"layers", "loss", "target_scale", "learning_rate", "lr_schedule", "lr_final_fraction", "adam_beta1", "adam_beta2", "adam_eps",
                          "batch_size", "init_range", "l1_negative", "l1_activity", "relu_leak", "quantize", "weight_step",
                          "max_code", "seed", "synapse_gains", "calibration", "data", "revive_dead", "dead_fraction",
                          "revive_leak", "revive_patience"}) {
    if (!saved.contains(key) || saved[key] != now[key])
      throw InputError(fmt::format("{}: cannot resume: {} was {} in the checkpointed run, now {}", path, key,
                                   saved.contains(key) ? saved[key].dump() : "absent", now[key].dump()));
  }
}

std::uint64_t calibration_hash(const Calibration& c) {
  std::string s;
  for (const auto& v : c.slopes)
    for (double x : v) s += fmt::format("{:a},", x);
  s += '|';
  for (const auto& v : c.negative_gain)
    for (double x : v) s += fmt::format("{:a},", x);
  if (c.has_synapse_gains()) {  // (absent: the same hash as before per-synapse gains existed)
    for (const auto* g : {&c.synapse_gain_pos, &c.synapse_gain_neg}) {
      s += '|';
      for (const auto& v : *g)
        for (double x : v) s += fmt::format("{:a},", x);
    }
  }
  if (c.has_code_gains()) {  // (absent: the same hash as with ±7 gains only)
    s += "|codes";
    for (const auto* g : {&c.synapse_gain_code_pos, &c.synapse_gain_code_neg})
      for (const auto& v : *g)
        for (double x : v) s += fmt::format("{:a},", x);
  }
  return fnv1a64(s);
}

std::uint64_t data_hash(const Dataset& d) {
  // Cheap fingerprint: sizes plus a sample of values (resuming on other data is a user mistake).
  std::string s = fmt::format("{}x{}:", d.x.rows(), d.x.cols());
  const Eigen::Index n = d.x.size();
  for (Eigen::Index i = 0; i < n; i += std::max<Eigen::Index>(1, n / 997)) s += fmt::format("{:a},", d.x.data()[i]);
  for (std::size_t i = 0; i < d.y.size(); i += std::max<std::size_t>(1, d.y.size() / 997)) s += fmt::format("{},", d.y[i]);
  return fnv1a64(s);
}

}  // namespace

TrainResult train_network(const TrainOptions& o, const Calibration& cal, const DataSplits& data,
                          const TrainHooks& hooks) {
  return train_network(o, std::vector<Calibration>{cal}, data, hooks);
}

TrainResult train_network(const TrainOptions& o, const std::vector<Calibration>& cals, const DataSplits& data,
                          const TrainHooks& hooks) {
  o.validate();
  if (cals.empty()) throw InputError("train_network: no calibration");
  constexpr std::size_t kMaxCalibrations = 16;
  if (cals.size() > kMaxCalibrations)
    throw InputError(fmt::format("{} calibrations: corner-aware training takes at most {}", cals.size(), kMaxCalibrations));
  for (const auto& c : cals) c.check_matches(o.layers);
  for (std::size_t k = 1; k < cals.size(); ++k)
    if (cals[k].has_synapse_gains() != cals[0].has_synapse_gains())
      throw InputError(fmt::format("{}: {} per-synapse gains, {} {}: corner calibrations must use the same model",
                                   cals[k].source.empty() ? fmt::format("calibration {}", k) : cals[k].source,
                                   cals[k].has_synapse_gains() ? "has" : "has no",
                                   cals[0].source.empty() ? std::string("the first calibration") : cals[0].source,
                                   cals[0].has_synapse_gains() ? "has them" : "has none"));
  const Calibration& cal = cals[0];
  const Dataset& tr = data.train;
  if (tr.size() == 0) throw InputError("the training set is empty");
  if (tr.features() != static_cast<std::size_t>(o.layers.front()))
    throw InputError(fmt::format("layers = {}: the data set has {} input features, the first layer {} neurons",
                                 format_layers(o.layers), tr.features(), o.layers.front()));
  if (tr.n_classes > o.layers.back())
    throw InputError(fmt::format("layers = {}: the data set has {} classes, the last layer only {} neurons",
                                 format_layers(o.layers), tr.n_classes, o.layers.back()));
  native::set_threads(1);  // parallelism is over batch parts (below), not inside the GEMMs
  const auto t0 = std::chrono::steady_clock::now();

  nlohmann::json run_key = o.to_json();
  run_key["synapse_gains"] = cal.has_synapse_gains();
  {
    std::string key = fmt::format("{:016x}", calibration_hash(cal));  // (one calibration: the key of before)
    for (std::size_t k = 1; k < cals.size(); ++k) key += fmt::format(",{:016x}", calibration_hash(cals[k]));
    run_key["calibration"] = key;
  }
  run_key["data"] = fmt::format("{:016x}", data_hash(tr));

  TrainState st;
  const std::size_t L = o.layers.size() - 1;
  std::optional<TrainState> resumed;  // nothing when the checkpoint is unusable: then training starts afresh
  if (hooks.resume) {
    if (hooks.checkpoint_path.empty() || !file_exists(hooks.checkpoint_path))
      throw InputError(fmt::format("--resume: no checkpoint at '{}'", hooks.checkpoint_path));
    resumed = load_checkpoint(hooks.checkpoint_path);
  }
  if (resumed) {
    st = std::move(*resumed);
    check_resumable(st.options, run_key, hooks.checkpoint_path);
    for (const auto& e : st.history)  // the recovery indexes output units with them
      for (const auto* units : {&e.dead_outputs, &e.revived})
        for (int j : *units)
          if (j < 0 || j >= o.layers.back())
            throw InputError(fmt::format("{}: checkpoint history, epoch {}: output unit {} is outside 0 … {}",
                                         hooks.checkpoint_path, e.epoch, j, o.layers.back() - 1));
    Network<float> net;
    net.configure(o.layers, cal, o.grid, o.quantize);
    for (std::size_t l = 0; l < L; ++l) {
      if (st.net.master.size() != L || st.net.master[l].rows() != net.master[l].rows() ||
          st.net.master[l].cols() != net.master[l].cols())
        throw InputError(fmt::format("{}: checkpoint weights do not match network {}", hooks.checkpoint_path,
                                     format_layers(o.layers)));
      net.master[l] = st.net.master[l];
    }
    st.net = std::move(net);
  } else {
    st.net.configure(o.layers, cal, o.grid, o.quantize);
    Rng init = Rng::stream(o.seed, "train/init");
    st.net.init_uniform(init, o.init_range);
    for (std::size_t l = 0; l < L; ++l) {
      st.adam_m.push_back(Mat::Zero(st.net.master[l].rows(), st.net.master[l].cols()));
      st.adam_v.push_back(Mat::Zero(st.net.master[l].rows(), st.net.master[l].cols()));
    }
  }
  st.options = run_key;
  // The other corners' networks: their own slopes and gains, and the chip's one set of codes: those of st.net
  // (set before every use). A chip is programmed once; at another corner the same codes are worth other currents
  // (a negative code's grid follows the negative gain, so re-quantising the masters there would pick other codes).
  // The float model (quantize false) shares the masters. The gradient of a corner passes straight through its
  // grid values to st.net's masters, with st.net's clip mask.
  const std::size_t K = cals.size();
  std::vector<Network<float>> corner(K - 1);
  for (std::size_t k = 1; k < K; ++k) corner[k - 1].configure(o.layers, cals[k], o.grid, o.quantize);
  auto sync_corners_from = [&](const Network<float>& from) {
    for (std::size_t l = 0; l < L && !corner.empty(); ++l) {
      if (!o.quantize) {
        for (auto& c : corner) c.master[l] = from.master[l];
        continue;
      }
      const Eigen::MatrixXi codes = from.codes(l);
      for (auto& c : corner) c.set_codes(l, codes);
    }
  };
  auto sync_corners = [&] { sync_corners_from(st.net); };
  auto net_of = [&](std::size_t k) -> const Network<float>& { return k == 0 ? st.net : corner[k - 1]; };
  // Mean accuracy over the calibrations (one: exactly accuracy(st.net, set)).
  auto mean_accuracy = [&](const Dataset& set) {
    sync_corners();
    double sum = 0;
    for (std::size_t k = 0; k < K; ++k) sum += accuracy(net_of(k), set);
    return sum / static_cast<double>(K);  // (K = 1: exactly the one accuracy)
  };

  const std::size_t n = tr.size(), B = static_cast<std::size_t>(o.batch_size);
  const std::size_t batches = (n + B - 1) / B;
  const bool has_val = data.validation.size() > 0;
  const float l1n = static_cast<float>(o.l1_negative);
  // Each batch is split into `threads` contiguous parts, each part's forward/backward runs on its own
  // thread (blocking joins, no spin-waiting: the machine may be shared), and the gradients are summed
  // in part order, so results depend on `threads` but never on timing.
  struct Part {
    ForwardCache<float> cache;
    std::vector<Mat> grads, corner_grads, pass0;  // pass0: st.net's clip mask (corner-aware)
    Mat xb, d_out;
    std::vector<int> yb;
    double loss = 0;
    std::size_t correct = 0;
  };
  // Dead-output monitor: every stride-th training sample, at most kMonitor of them (fixed for the run).
  constexpr std::size_t kMonitor = 1024;
  const std::size_t stride = (n + kMonitor - 1) / kMonitor;
  Mat monitor(tr.x.rows(), static_cast<Eigen::Index>((n + stride - 1) / stride));
  for (Eigen::Index i = 0; i < monitor.cols(); ++i) monitor.col(i) = tr.x.col(i * static_cast<Eigen::Index>(stride));
  const Eigen::Index n_out = o.layers.back();
  Network<float>::Vec out_leak = Network<float>::Vec::Zero(n_out);  // per-output surrogate slope (recovery)

  std::vector<Part> parts(static_cast<std::size_t>(o.threads));
  std::vector<std::size_t> perm(n);
  auto run_part = [&](Part& p, std::size_t first, std::size_t count, std::size_t batch_total) {
    p.xb.resize(tr.x.rows(), static_cast<Eigen::Index>(count));
    p.yb.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      p.xb.col(static_cast<Eigen::Index>(i)) = tr.x.col(static_cast<Eigen::Index>(perm[first + i]));
      p.yb[i] = tr.y[perm[first + i]];
    }
    p.loss = 0;
    p.correct = 0;
    // Corner-aware: the batch once per calibration, each with weight 1/K (K = 1: the plain step).
    const double per_net = static_cast<double>(batch_total) * static_cast<double>(K);
    for (std::size_t k = 0; k < K; ++k) {
      const Network<float>& net = net_of(k);
      const Mat& out = forward(net, p.xb, p.cache);
      if (K > 1 && k == 0) p.pass0 = p.cache.pass;
      if (k > 0) p.cache.pass = p.pass0;
      const double share = static_cast<double>(count) / per_net;
      p.loss += share * static_cast<double>(loss_and_grad<float>(o.loss, o.target_scale, out, p.yb.data(), p.d_out));
      p.d_out *= static_cast<float>(share);
      if (o.l1_activity > 0)
        for (std::size_t l = 1; l < L; ++l)
          p.loss += o.l1_activity * static_cast<double>(p.cache.a[l].sum()) / per_net;
      for (std::size_t i = 0; i < count; ++i) {
        Eigen::Index c;
        out.col(static_cast<Eigen::Index>(i)).maxCoeff(&c);
        p.correct += static_cast<int>(c) == p.yb[i];
      }
      backward(net, p.cache, p.d_out, static_cast<float>(o.l1_activity / per_net), k == 0 ? p.grads : p.corner_grads,
               static_cast<float>(o.relu_leak), o.revive_dead ? &out_leak : nullptr);
      if (k > 0)
        for (std::size_t l = 0; l < L; ++l) p.grads[l] += p.corner_grads[l];
    }
  };
  constexpr std::size_t kMinPart = 32;  // smaller parts are not worth a thread

  Progress progress("train", static_cast<std::size_t>(o.epochs), hooks.progress);
  progress.start_from(static_cast<std::size_t>(std::min(st.epoch, o.epochs)));
  for (int epoch = st.epoch + 1; epoch <= o.epochs && !st.stopped_early; ++epoch) {
    const auto te = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < n; ++i) perm[i] = i;
    Rng shuffle_rng = Rng::stream(o.seed, fmt::format("train/shuffle/epoch={}", epoch));
    for (std::size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[shuffle_rng.below(i)]);
    double lr = o.learning_rate;
    if (o.lr_schedule == "cosine" && o.epochs > 1) {
      const double t = static_cast<double>(epoch - 1) / static_cast<double>(o.epochs - 1);
      lr *= o.lr_final_fraction + (1 - o.lr_final_fraction) * 0.5 * (1 + std::cos(std::numbers::pi * t));
    }
    // The units found dead after the previous epoch train with the surrogate slope (from the history, so
    // that a resumed run does the same).
    out_leak.setZero();
    if (o.revive_dead && !st.history.empty())
      for (int j : st.history.back().dead_outputs) out_leak[j] = static_cast<float>(o.revive_leak);
    double loss_sum = 0;
    std::size_t correct = 0;
    for (std::size_t b = 0; b < batches; ++b) {
      sync_corners();
      const std::size_t s = b * B, m = std::min(B, n - s);
      const std::size_t np = std::max<std::size_t>(1, std::min(parts.size(), m / kMinPart));
      std::vector<std::thread> workers;
      for (std::size_t q = 1; q < np; ++q) {
        const std::size_t first = s + q * m / np, count = s + (q + 1) * m / np - first;
        workers.emplace_back([&, q, first, count] { run_part(parts[q], first, count, m); });
      }
      run_part(parts[0], s, m / np, m);
      for (auto& w : workers) w.join();
      double loss_d = 0;
      for (std::size_t q = 0; q < np; ++q) {
        loss_d += parts[q].loss;
        correct += parts[q].correct;
        if (q > 0)
          for (std::size_t l = 0; l < L; ++l) parts[0].grads[l] += parts[q].grads[l];
      }
      std::vector<Mat>& grads = parts[0].grads;
      if (l1n > 0)
        for (std::size_t l = 0; l < L; ++l) loss_d += o.l1_negative * static_cast<double>(-st.net.master[l].cwiseMin(0.0f).sum());
      const float loss = static_cast<float>(loss_d);
      if (!std::isfinite(loss_d)) {
        const std::string kept = hooks.checkpoint_path.empty() || st.epoch == 0
                                     ? std::string("no checkpoint was written yet")
                                     : fmt::format("the last good checkpoint (epoch {}) is kept at {}", st.epoch,
                                                   hooks.checkpoint_path);
        throw NumericalError(fmt::format(
            "training stopped: the loss is {} at epoch {}, batch {} of {} (learning rate {} too high, or bad "
            "inputs?); {}",
            loss, epoch, b + 1, batches, o.learning_rate, kept));
      }
      loss_sum += loss_d * static_cast<double>(m);
      // Adam (PyTorch's formulation, so that bench/torch_reference.py matches step for step).
      ++st.adam_step;
      const double bc1 = 1 - std::pow(o.adam_beta1, static_cast<double>(st.adam_step));
      const double bc2 = 1 - std::pow(o.adam_beta2, static_cast<double>(st.adam_step));
      const float step_size = static_cast<float>(lr / bc1);
      const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
      const float b1 = static_cast<float>(o.adam_beta1), b2 = static_cast<float>(o.adam_beta2);
      const float eps = static_cast<float>(o.adam_eps);
      for (std::size_t l = 0; l < L; ++l) {
        auto w = st.net.master[l].array();
        auto g = grads[l].array();
        if (l1n > 0) g -= l1n * (w < 0.0f).template cast<float>();
        st.adam_m[l].array() = b1 * st.adam_m[l].array() + (1 - b1) * g;
        st.adam_v[l].array() = b2 * st.adam_v[l].array() + (1 - b2) * g.square();
        w -= step_size * st.adam_m[l].array() / (st.adam_v[l].array().sqrt() * inv_sqrt_bc2 + eps);
      }
    }
    for (std::size_t l = 0; l < L; ++l)
      if (!st.net.master[l].allFinite())
        throw NumericalError(fmt::format("training stopped: weights of layer {} became non-finite at epoch {}; {}", l,
                                         epoch,
                                         st.epoch == 0 || hooks.checkpoint_path.empty()
                                             ? std::string("no checkpoint was written yet")
                                             : fmt::format("the last good checkpoint (epoch {}) is kept at {}",
                                                           st.epoch, hooks.checkpoint_path)));
    EpochRecord rec;
    rec.epoch = epoch;
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - te).count();  // training only
    rec.train_loss = loss_sum / static_cast<double>(n);
    rec.train_accuracy = static_cast<double>(correct) / static_cast<double>(n * K);
    const OutputHealth health = output_health(predict(st.net, monitor), o.dead_fraction);
    rec.dead_outputs = health.dead_units;
    rec.zero_outputs = health.all_zero_samples;
    // One line when the set of dead outputs changes (not every epoch of a unit that stays dead).
    const bool changed = rec.dead_outputs != (st.history.empty() ? std::vector<int>{} : st.history.back().dead_outputs);
    if (changed && hooks.on_notice && rec.dead_outputs.empty())
      hooks.on_notice(fmt::format("epoch {}: no dead output units; {} all-zero outputs", epoch, rec.zero_outputs));
    if (changed && hooks.on_notice && !rec.dead_outputs.empty()) {
      std::string units;
      for (int j : rec.dead_outputs)
        units += fmt::format("{}{} ({} of {})", units.empty() ? "" : ", ", j, health.active_samples[static_cast<std::size_t>(j)],
                             health.samples);
      hooks.on_notice(fmt::format("epoch {}: dead output unit(s) {} active on the monitoring samples; {} all-zero outputs{}",
                                  epoch, units, rec.zero_outputs,
                                  o.revive_dead ? fmt::format("; surrogate slope {} on them", o.revive_leak) : ""));
    }
    // Still dead after revive_patience epochs with the slope (and not the last epoch, where a re-drawn unit
    // would stay untrained): re-draw its incoming weights non-negative, so that it is active again.
    if (o.revive_dead && epoch < o.epochs)
      for (int j : rec.dead_outputs) {
        int dead_for = 1;
        for (auto it = st.history.rbegin(); it != st.history.rend() && dead_for <= o.revive_patience; ++it) {
          if (std::find(it->dead_outputs.begin(), it->dead_outputs.end(), j) == it->dead_outputs.end()) break;
          if (!it->revived.empty() && std::find(it->revived.begin(), it->revived.end(), j) != it->revived.end()) break;
          ++dead_for;
        }
        if (dead_for <= o.revive_patience) continue;
        Rng rng = Rng::stream(o.seed, fmt::format("train/revive/epoch={}/unit={}", epoch, j));
        for (Eigen::Index i = 0; i < st.net.master[L - 1].cols(); ++i)
          st.net.master[L - 1](j, i) = static_cast<float>(std::fabs(rng.uniform(-o.init_range, o.init_range)));
        st.adam_m[L - 1].row(j).setZero();
        st.adam_v[L - 1].row(j).setZero();
        rec.revived.push_back(j);
        if (hooks.on_notice)
          hooks.on_notice(fmt::format("epoch {}: output unit {} still dead after {} epoch(s) with the surrogate slope: "
                                      "its incoming weights were re-drawn from |U(-{}, {})|",
                                      epoch, j, o.revive_patience, o.init_range, o.init_range));
      }
    if (has_val) rec.validation_accuracy = mean_accuracy(data.validation);
    if (data.test.size() > 0) rec.test_accuracy = mean_accuracy(data.test);
    st.history.push_back(rec);
    st.epoch = epoch;
    if (has_val) {
      if (rec.validation_accuracy > st.best_validation) {
        st.best_validation = rec.validation_accuracy;
        st.best_epoch = epoch;
        st.best_master = st.net.master;
        st.epochs_without_improvement = 0;
      } else if (++st.epochs_without_improvement >= o.patience && o.patience > 0) {
        st.stopped_early = true;
      }
    }
    if (!hooks.checkpoint_path.empty()) write_checkpoint(hooks.checkpoint_path, st);
    if (hooks.on_epoch) hooks.on_epoch(rec);
    progress.update(static_cast<std::size_t>(epoch),
                    fmt::format("loss {:.4g} train {:.2f}%{}{}", rec.train_loss, 100 * rec.train_accuracy,
                                has_val ? fmt::format(" val {:.2f}%", 100 * rec.validation_accuracy) : "",
                                rec.test_accuracy >= 0 ? fmt::format(" test {:.2f}%", 100 * rec.test_accuracy) : ""));
  }
  progress.finish();

  TrainResult r;
  r.net = st.net;
  r.selected_epoch = st.epoch;
  if (has_val && !st.best_master.empty()) {
    r.net.master = st.best_master;
    r.selected_epoch = st.best_epoch;
  }
  r.history = st.history;
  r.epochs_run = st.epoch;
  r.stopped_early = st.stopped_early;
  // One forward pass per set gives the accuracy, the output health and the NaN/Inf check: a model with
  // non-finite outputs has no accuracy (issue 17, class 4), it is a failure, never a result.
  sync_corners_from(r.net);
  auto final_pass = [&](const Dataset& set, const char* name, OutputHealth* health, std::vector<double>& per) -> double {
    if (set.size() == 0) return -1;
    double sum = 0;
    for (std::size_t k = 0; k < K; ++k) {
      const Eigen::MatrixXf out = outputs(k == 0 ? r.net : corner[k - 1], set);
      if (const NonFinite bad = non_finite_samples(out); bad.count > 0)
        throw NumericalError(fmt::format("the trained model gives NaN/Inf outputs for {} of {} samples of the {} set (first: sample {}){}: no "
                                         "accuracy (weights not written)",
                                         bad.count, set.size(), name, bad.first,
                                         K == 1 ? std::string() : fmt::format(" with calibration {} ({})", k, cals[k].source)));
      if (health && k == 0) *health = output_health(out, o.dead_fraction);
      per.push_back(accuracy_of(out, set));
      sum += per.back();
    }
    return sum / static_cast<double>(K);  // (K = 1: exactly the one accuracy)
  };
  r.train_accuracy = final_pass(tr, "train", &r.train_health, r.train_accuracies);
  r.validation_accuracy = final_pass(data.validation, "validation", nullptr, r.validation_accuracies);
  r.test_accuracy = final_pass(data.test, "test", data.test.size() > 0 ? &r.test_health : nullptr, r.test_accuracies);
  r.monitor_samples = static_cast<std::size_t>(monitor.cols());
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace nnspice::train

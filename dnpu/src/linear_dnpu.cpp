#include "nnspice/dnpu/linear_dnpu.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <numeric>

#include "crc32.hpp"
#include "nnspice/common/store.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/dnpu/node.hpp"

namespace nnspice::dnpu {

void LinearDnpuOptions::validate() const {
  auto bad = [](const std::string& f, const std::string& v, const std::string& c) {
    throw InputError(fmt::format("LinearDnpuOptions::{} = {}. Violated constraint: {}", f, v, c));
  };
  if (field != 3 && field != 7) bad("field", std::to_string(field), "field is 3 or 7");
  if (classes < 2) bad("classes", std::to_string(classes), "classes >= 2");
  if (epochs < 1) bad("epochs", std::to_string(epochs), "epochs >= 1");
  if (batch < 1) bad("batch", std::to_string(batch), "batch >= 1");
  if (!(learning_rate > 0)) bad("learning_rate", fmt::format("{}", learning_rate), "learning_rate > 0");
  if (!(weight_decay >= 0)) bad("weight_decay", fmt::format("{}", weight_decay), "weight_decay >= 0");
  if (!(logit_scale > 0)) bad("logit_scale", fmt::format("{}", logit_scale), "logit_scale > 0");
}

namespace {

struct Model {
  const LinearDnpuOptions* o = nullptr;
  Eigen::MatrixXd W;                 // (classes*field, n_in)
  std::vector<DnpuNode> nodes;       // DNPU variant
  Eigen::VectorXd hb, hv, oc;        // baseline: hidden biases, hidden-to-output weights, output biases

  std::size_t hidden() const { return o->classes * o->field; }

  /// logits (classes x batch); caches what backward needs
  struct Cache {
    Eigen::MatrixXd a;                    // linear outputs
    std::vector<NodeTape> tapes;
    Eigen::MatrixXd pre;                  // baseline pre-activations
  };
  Eigen::MatrixXd forward(const Eigen::MatrixXd& x, Cache& c, LinearPhase phase) const {
    c.a = o->linear_layer ? o->linear_layer(W, x, phase) : Eigen::MatrixXd(W * x);
    Eigen::MatrixXd logits(static_cast<Eigen::Index>(o->classes), x.cols());
    const auto f = static_cast<Eigen::Index>(o->field);
    if (o->baseline) {
      c.pre = c.a;
      c.pre.colwise() += hb;
      const Eigen::MatrixXd h = c.pre.cwiseMax(0.0);
      for (Eigen::Index k = 0; k < logits.rows(); ++k)
        logits.row(k) = (hv.segment(k * f, f).transpose() * h.middleRows(k * f, f)).array() + oc(k);
    } else {
      c.tapes.resize(nodes.size());
      for (std::size_t k = 0; k < nodes.size(); ++k)
        logits.row(static_cast<Eigen::Index>(k)) = node_forward(nodes[k], c.a.middleRows(static_cast<Eigen::Index>(k) * f, f), c.tapes[k]).transpose() * o->logit_scale;
    }
    return logits;
  }
};

double softmax_ce(const Eigen::MatrixXd& logits, const std::vector<int>& y, const std::vector<std::size_t>& idx, Eigen::MatrixXd* dlogits,
                  std::size_t* correct) {
  double loss = 0;
  if (dlogits) dlogits->resize(logits.rows(), logits.cols());
  for (Eigen::Index s = 0; s < logits.cols(); ++s) {
    const double mx = logits.col(s).maxCoeff();
    const Eigen::VectorXd e = (logits.col(s).array() - mx).exp();
    const double z = e.sum();
    const int label = y[idx[static_cast<std::size_t>(s)]];
    loss += -(logits(label, s) - mx - std::log(z));
    Eigen::Index arg;
    logits.col(s).maxCoeff(&arg);
    if (correct && arg == label) ++*correct;
    if (dlogits) {
      dlogits->col(s) = e / z;
      (*dlogits)(label, s) -= 1;
    }
  }
  if (dlogits) *dlogits /= static_cast<double>(logits.cols());
  return loss / static_cast<double>(logits.cols());
}

double accuracy(const Model& m, const Eigen::MatrixXd& x, const std::vector<int>& y, LinearPhase phase, std::vector<double>* abs_a = nullptr,
                double* abs_out_sum = nullptr) {
  std::size_t correct = 0;
  for (Eigen::Index s0 = 0; s0 < x.cols(); s0 += 1000) {
    const Eigen::Index n = std::min<Eigen::Index>(1000, x.cols() - s0);
    Model::Cache c;
    const Eigen::MatrixXd logits = m.forward(x.middleCols(s0, n), c, phase);
    std::vector<std::size_t> idx(static_cast<std::size_t>(n));
    std::iota(idx.begin(), idx.end(), static_cast<std::size_t>(s0));
    softmax_ce(logits, y, idx, nullptr, &correct);
    if (abs_out_sum) *abs_out_sum += logits.cwiseAbs().sum() / m.o->logit_scale;
    if (abs_a)
      for (Eigen::Index i = 0; i < c.a.size(); ++i) abs_a->push_back(std::abs(c.a.data()[i]));
  }
  return x.cols() ? static_cast<double>(correct) / static_cast<double>(x.cols()) : 0.0;
}

std::int64_t label_hash(const std::vector<int>& a, const std::vector<int>& b, const std::vector<int>& c) {
  std::uint64_t h = 1469598103934665603ull;
  for (const auto* v : {&a, &b, &c})
    for (int l : *v) h = (h ^ static_cast<std::uint64_t>(l + 1)) * 1099511628211ull;
  return static_cast<std::int64_t>(h >> 1);
}

struct LinearCheckpoint {
  Eigen::MatrixXd W, best_W;
  Eigen::VectorXd p, best_p;
  Adam adam_w, adam_p;
  std::vector<EpochRecord> history;
  double best_val_accuracy = 0;
  std::size_t best_epoch = 0;
};

constexpr char kCheckpointMagic[] = "NNSPICE-LINEAR-DNPU-CHECKPOINT-1\n";

// Layout: magic, uint64 header length, JSON header (fingerprint, history, Adam steps, array lengths), the arrays as
// little-endian float64 in the header's order, CRC-32 of everything before it (a truncated or damaged file is refused).
void write_linear_checkpoint(const std::string& path, const nlohmann::json& fingerprint, const LinearCheckpoint& ck) {
  nlohmann::json hist = nlohmann::json::array();
  for (const auto& h : ck.history) hist.push_back({h.loss, h.train_accuracy, h.val_accuracy});
  const std::vector<std::pair<const char*, const Eigen::VectorXd*>> vecs{{"p", &ck.p}, {"best_p", &ck.best_p}, {"adam_w_m", &ck.adam_w.m},
                                                                          {"adam_w_v", &ck.adam_w.v}, {"adam_p_m", &ck.adam_p.m}, {"adam_p_v", &ck.adam_p.v}};
  nlohmann::json lengths = nlohmann::json::object();
  for (const auto& [name, v] : vecs) lengths[name] = v->size();
  const nlohmann::json header = {{"fingerprint", fingerprint}, {"history", hist}, {"best_val_accuracy", ck.best_val_accuracy},
                                 {"best_epoch", ck.best_epoch}, {"adam_w_t", ck.adam_w.t}, {"adam_p_t", ck.adam_p.t},
                                 {"W", {ck.W.rows(), ck.W.cols()}}, {"lengths", lengths}};
  const std::string h = header.dump();
  std::string bytes(kCheckpointMagic);
  const std::uint64_t hl = h.size();
  bytes.append(reinterpret_cast<const char*>(&hl), sizeof hl);
  bytes += h;
  auto put = [&](const double* d, Eigen::Index n) { bytes.append(reinterpret_cast<const char*>(d), static_cast<std::size_t>(n) * sizeof(double)); };
  put(ck.W.data(), ck.W.size());
  put(ck.best_W.data(), ck.best_W.size());
  for (const auto& [name, v] : vecs) put(v->data(), v->size());
  const std::uint32_t crc = detail::crc32(bytes.data(), bytes.size());
  bytes.append(reinterpret_cast<const char*>(&crc), sizeof crc);
  write_file_atomic(path, bytes);
}

/// A damaged checkpoint (as opposed to one of other options, which is refused): training starts afresh.
struct UnusableCheckpoint : InputError {
  using InputError::InputError;
};

LinearCheckpoint read_linear_checkpoint(const std::string& path, const nlohmann::json& fingerprint) {
  const std::string bytes = read_file(path);
  const std::size_t ml = sizeof(kCheckpointMagic) - 1;
  auto bad = [&](const std::string& why) { return UnusableCheckpoint(fmt::format("not a usable MNIST DNPU checkpoint: {}", why)); };
  if (bytes.size() < ml + 8 + 4 || bytes.compare(0, ml, kCheckpointMagic) != 0) throw bad("wrong magic or too short (truncated?)");
  std::uint32_t crc;
  std::memcpy(&crc, bytes.data() + bytes.size() - 4, 4);
  if (crc != detail::crc32(bytes.data(), bytes.size() - 4)) throw bad("checksum mismatch (truncated or damaged)");
  std::uint64_t hl;
  std::memcpy(&hl, bytes.data() + ml, 8);
  if (hl > bytes.size() - ml - 12) throw bad("header length past the end");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(ml + 8, hl));
  } catch (const nlohmann::json::exception& e) {
    throw bad(e.what());
  }
  if (!header.is_object() || !header.contains("fingerprint")) throw bad("header without a fingerprint");
  if (header.at("fingerprint") != fingerprint)
    throw InputError(fmt::format("{}: made with other options, model or data ({}; now {}); use a new --out or delete the checkpoint", path,
                                 header.at("fingerprint").dump(), fingerprint.dump()));
  LinearCheckpoint ck;
  std::size_t pos = ml + 8 + hl;
  const std::size_t end = bytes.size() - 4;
  auto get = [&](double* d, std::size_t n) {
    if (n > (end - pos) / sizeof(double)) throw bad("arrays past the end");
    std::memcpy(d, bytes.data() + pos, n * sizeof(double));
    pos += n * sizeof(double);
  };
  try {
    const auto r = header.at("W").at(0).get<Eigen::Index>(), c = header.at("W").at(1).get<Eigen::Index>();
    const std::size_t avail = (end - pos) / sizeof(double);
    if (r < 0 || c < 0 || (c > 0 && static_cast<std::size_t>(r) > avail / static_cast<std::size_t>(c))) throw bad("W shape past the end");
    ck.W.resize(r, c);
    ck.best_W.resize(r, c);
    get(ck.W.data(), static_cast<std::size_t>(ck.W.size()));
    get(ck.best_W.data(), static_cast<std::size_t>(ck.best_W.size()));
    const std::vector<std::pair<const char*, Eigen::VectorXd*>> vecs{{"p", &ck.p}, {"best_p", &ck.best_p}, {"adam_w_m", &ck.adam_w.m},
                                                                      {"adam_w_v", &ck.adam_w.v}, {"adam_p_m", &ck.adam_p.m}, {"adam_p_v", &ck.adam_p.v}};
    for (const auto& [name, v] : vecs) {
      const auto n = header.at("lengths").at(name).get<std::size_t>();
      if (n > (end - pos) / sizeof(double)) throw bad(fmt::format("array {} past the end", name));
      v->resize(static_cast<Eigen::Index>(n));
      get(v->data(), n);
    }
    if (pos != end) throw bad("unexpected bytes after the arrays");
    if (!ck.W.allFinite() || !ck.best_W.allFinite())
      throw bad("NaN/Inf in the weights");
    for (const auto& [name, v] : vecs)
      if (!v->allFinite()) throw bad(fmt::format("NaN/Inf in array {}", name));
    ck.adam_w.t = header.at("adam_w_t").get<long>();
    ck.adam_p.t = header.at("adam_p_t").get<long>();
    for (const auto& h : header.at("history")) ck.history.push_back({h.at(0).get<double>(), h.at(1).get<double>(), h.at(2).get<double>()});
    ck.best_val_accuracy = header.at("best_val_accuracy").get<double>();
    ck.best_epoch = header.at("best_epoch").get<std::size_t>();
  } catch (const nlohmann::json::exception& e) {
    throw bad(e.what());
  }
  auto moments_fit = [](const Adam& a, Eigen::Index n) { return a.t == 0 ? a.m.size() == a.v.size() : a.m.size() == n && a.v.size() == n; };
  if (!moments_fit(ck.adam_w, ck.W.size()) || !moments_fit(ck.adam_p, ck.p.size()) || ck.best_p.size() != ck.p.size() || ck.adam_w.t < 0 ||
      ck.adam_p.t < 0)
    throw bad("Adam moments or parameter lengths do not match");
  return ck;
}

}  // namespace

LinearDnpuResult train_linear_dnpu(const SurrogateModel& sm, const Eigen::MatrixXd& xtr, const std::vector<int>& ytr, const Eigen::MatrixXd& xval,
                                   const std::vector<int>& yval, const Eigen::MatrixXd& xte, const std::vector<int>& yte, const LinearDnpuOptions& o,
                                   const std::function<void(std::size_t, std::size_t, std::size_t)>& progress, const EpochFn& on_epoch) {
  o.validate();
  if (sm.n_inputs() != 7) throw InputError(fmt::format("the MNIST experiment needs a 7-electrode DNPU (model has {})", sm.n_inputs()));
  for (const auto* y : {&ytr, &yval, &yte})
    for (int l : *y)
      if (l < 0 || l >= static_cast<int>(o.classes)) throw InputError(fmt::format("label {} outside 0..{}", l, o.classes - 1));
  if (xtr.cols() != static_cast<Eigen::Index>(ytr.size()) || xval.cols() != static_cast<Eigen::Index>(yval.size()) ||
      xte.cols() != static_cast<Eigen::Index>(yte.size()))
    throw InputError("train_linear_dnpu: sample and label counts differ");
  Rng rng = Rng::stream(o.seed, "linear_dnpu/init");
  Model m;
  m.o = &o;
  const auto n_in = xtr.rows();
  const double bound = 1.0 / std::sqrt(static_cast<double>(n_in));  // torch.nn.Linear's default init
  m.W.resize(static_cast<Eigen::Index>(m.hidden()), n_in);
  for (Eigen::Index i = 0; i < m.W.size(); ++i) m.W.data()[i] = rng.uniform(-bound, bound);
  if (o.baseline) {
    m.hb.resize(static_cast<Eigen::Index>(m.hidden()));
    m.hv.resize(static_cast<Eigen::Index>(m.hidden()));
    m.oc.resize(static_cast<Eigen::Index>(o.classes));
    const double bf = 1.0 / std::sqrt(static_cast<double>(o.field));
    for (Eigen::Index i = 0; i < m.hb.size(); ++i) { m.hb(i) = rng.uniform(-bound, bound); m.hv(i) = rng.uniform(-bf, bf); }
    for (Eigen::Index i = 0; i < m.oc.size(); ++i) m.oc(i) = rng.uniform(-bf, bf);
  } else {
    const std::vector<int> data = o.field == 3 ? std::vector<int>{0, 3, 4} : std::vector<int>{0, 1, 2, 3, 4, 5, 6};
    for (std::size_t k = 0; k < o.classes; ++k) {
      m.nodes.push_back(DnpuNode::make(sm, data));
      m.nodes.back().randomize_controls(rng);
    }
  }
  // parameters other than W in one vector: controls (or baseline biases/weights)
  auto pack_model = [&](const Model& m) {
    std::vector<double> p;
    if (o.baseline) {
      p.insert(p.end(), m.hb.data(), m.hb.data() + m.hb.size());
      p.insert(p.end(), m.hv.data(), m.hv.data() + m.hv.size());
      p.insert(p.end(), m.oc.data(), m.oc.data() + m.oc.size());
    } else {
      for (const auto& n : m.nodes) p.insert(p.end(), n.controls_V.data(), n.controls_V.data() + n.controls_V.size());
    }
    return Eigen::VectorXd(Eigen::Map<Eigen::VectorXd>(p.data(), static_cast<Eigen::Index>(p.size())));
  };
  auto pack = [&]() { return pack_model(m); };
  auto unpack_model = [&](Model& m, const Eigen::VectorXd& p) {
    Eigen::Index i = 0;
    if (o.baseline) {
      m.hb = p.segment(i, m.hb.size()); i += m.hb.size();
      m.hv = p.segment(i, m.hv.size()); i += m.hv.size();
      m.oc = p.segment(i, m.oc.size());
    } else {
      for (auto& n : m.nodes) { n.controls_V = p.segment(i, n.controls_V.size()); i += n.controls_V.size(); }
    }
  };
  auto unpack = [&](const Eigen::VectorXd& p) { unpack_model(m, p); };
  Adam adam_w, adam_p;
  adam_w.lr = adam_p.lr = o.learning_rate;
  Eigen::VectorXd wflat = Eigen::Map<Eigen::VectorXd>(m.W.data(), m.W.size());
  Eigen::VectorXd p = pack();
  LinearDnpuResult res;
  Model best = m;
  std::vector<std::size_t> order(static_cast<std::size_t>(xtr.cols()));
  const std::size_t batches = (order.size() + o.batch - 1) / o.batch;
  const auto f = static_cast<Eigen::Index>(o.field);
  // What a checkpoint must agree on to be resumed: everything but the number of epochs.
  const nlohmann::json fingerprint = {
      {"model", sm.source}, {"field", o.field}, {"classes", o.classes}, {"batch", o.batch}, {"learning_rate", o.learning_rate},
      {"weight_decay", o.weight_decay}, {"penalty", o.penalty}, {"clamp_controls", o.clamp_controls}, {"logit_scale", o.logit_scale},
      {"baseline", o.baseline}, {"hardware_linear_layer", static_cast<bool>(o.linear_layer)}, {"seed", o.seed},
      {"samples", {xtr.cols(), xval.cols(), xte.cols()}}, {"inputs", n_in}, {"label_hash", label_hash(ytr, yval, yte)}};
  std::size_t first_epoch = 0;
  std::optional<LinearCheckpoint> loaded;
  if (!o.checkpoint.empty() && file_exists(o.checkpoint)) {
    try {
      loaded = read_linear_checkpoint(o.checkpoint, fingerprint);
    } catch (const UnusableCheckpoint& e) {
      store::notice(o.checkpoint, e.what(), "training from the first epoch instead");
    }
  }
  if (loaded) {
    LinearCheckpoint ck = std::move(*loaded);
    if (ck.W.rows() != m.W.rows() || ck.W.cols() != m.W.cols() || ck.p.size() != p.size() || ck.best_p.size() != p.size())
      throw InputError(fmt::format("{}: array shapes do not match this network", o.checkpoint));
    if (ck.history.size() > o.epochs)
      throw InputError(fmt::format("{}: holds {} epochs, more than --epochs = {}", o.checkpoint, ck.history.size(), o.epochs));
    m.W = ck.W;
    wflat = Eigen::Map<Eigen::VectorXd>(m.W.data(), m.W.size());
    p = ck.p;
    unpack(p);
    // moments and step count only: the learning rates stay this run's
    adam_w.m = ck.adam_w.m; adam_w.v = ck.adam_w.v; adam_w.t = ck.adam_w.t;
    adam_p.m = ck.adam_p.m; adam_p.v = ck.adam_p.v; adam_p.t = ck.adam_p.t;
    best.W = ck.best_W;
    unpack_model(best, ck.best_p);
    res.history = ck.history;
    res.best_val_accuracy = ck.best_val_accuracy;
    res.best_epoch = ck.best_epoch;
    first_epoch = res.history.size();
    if (on_epoch)
      for (std::size_t e = 0; e < res.history.size(); ++e) on_epoch(e + 1, res.history[e], true);
  }
  for (std::size_t ep = first_epoch; ep < o.epochs; ++ep) {
    // a fresh permutation per epoch from its own stream: a resumed run shuffles as an uninterrupted one
    std::iota(order.begin(), order.end(), 0);
    Rng shuffle = Rng::stream(o.seed, fmt::format("linear_dnpu/shuffle/{}", ep));
    for (std::size_t i = order.size(); i-- > 1;) std::swap(order[i], order[shuffle.below(i + 1)]);
    double loss_sum = 0;
    std::size_t correct = 0;
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t s0 = b * o.batch, n = std::min(o.batch, order.size() - s0);
      std::vector<std::size_t> idx(order.begin() + static_cast<std::ptrdiff_t>(s0), order.begin() + static_cast<std::ptrdiff_t>(s0 + n));
      Eigen::MatrixXd xb(n_in, static_cast<Eigen::Index>(n));
      for (std::size_t s = 0; s < n; ++s) xb.col(static_cast<Eigen::Index>(s)) = xtr.col(static_cast<Eigen::Index>(idx[s]));
      Model::Cache c;
      const Eigen::MatrixXd logits = m.forward(xb, c, LinearPhase::train);
      Eigen::MatrixXd dlog;
      loss_sum += softmax_ce(logits, ytr, idx, &dlog, &correct) * static_cast<double>(n);
      Eigen::MatrixXd da(c.a.rows(), c.a.cols());
      Eigen::VectorXd gp = Eigen::VectorXd::Zero(p.size());
      if (o.baseline) {
        const Eigen::MatrixXd h = c.pre.cwiseMax(0.0);
        Eigen::Index off = m.hb.size() + m.hv.size();
        for (Eigen::Index k = 0; k < dlog.rows(); ++k) {
          gp(off + k) = dlog.row(k).sum();
          for (Eigen::Index j = 0; j < f; ++j) {
            const Eigen::Index u = k * f + j;
            gp(m.hb.size() + u) = dlog.row(k).dot(h.row(u));
            da.row(u) = (dlog.row(k).array() * m.hv(u) * (c.pre.row(u).array() > 0).cast<double>()).matrix();
            gp(u) = da.row(u).sum();
          }
        }
      } else {
        Eigen::Index off = 0;
        for (std::size_t k = 0; k < m.nodes.size(); ++k) {
          Eigen::VectorXd dc = Eigen::VectorXd::Zero(m.nodes[k].controls_V.size());
          const Eigen::VectorXd dy = dlog.row(static_cast<Eigen::Index>(k)).transpose() * o.logit_scale;
          da.middleRows(static_cast<Eigen::Index>(k) * f, f) = node_backward(m.nodes[k], c.tapes[k], dy, dc);
          Eigen::VectorXd pen = Eigen::VectorXd::Zero(dc.size());
          m.nodes[k].range_penalty(&pen);
          gp.segment(off, dc.size()) = dc + o.penalty * pen;
          off += dc.size();
        }
      }
      Eigen::MatrixXd gw = da * xb.transpose() + o.weight_decay * m.W;
      adam_w.step(wflat, Eigen::Map<Eigen::VectorXd>(gw.data(), gw.size()));
      m.W = Eigen::Map<Eigen::MatrixXd>(wflat.data(), m.W.rows(), m.W.cols());
      if (p.size()) {
        adam_p.step(p, gp);
        unpack(p);
        if (o.clamp_controls && !o.baseline) {
          for (auto& nd : m.nodes) nd.clamp_controls();
          p = pack();
        }
      }
      if (progress) progress(ep, b + 1, batches);
    }
    EpochRecord r;
    r.loss = loss_sum / static_cast<double>(order.size());
    if (!std::isfinite(r.loss)) throw NumericalError(fmt::format("MNIST DNPU training: loss is {} in epoch {}", r.loss, ep + 1));
    r.train_accuracy = static_cast<double>(correct) / static_cast<double>(order.size());
    r.val_accuracy = xval.cols() ? accuracy(m, xval, yval, LinearPhase::validate) : r.train_accuracy;
    res.history.push_back(r);
    if (ep == 0 || r.val_accuracy > res.best_val_accuracy) { res.best_val_accuracy = r.val_accuracy; res.best_epoch = ep + 1; best = m; }
    if (!o.checkpoint.empty()) {
      LinearCheckpoint ck;
      ck.W = m.W;
      ck.p = p;
      ck.adam_w = adam_w;
      ck.adam_p = adam_p;
      ck.best_W = best.W;
      ck.best_p = pack_model(best);
      ck.history = res.history;
      ck.best_val_accuracy = res.best_val_accuracy;
      ck.best_epoch = res.best_epoch;
      write_linear_checkpoint(o.checkpoint, fingerprint, ck);
    }
    if (on_epoch) on_epoch(ep + 1, r, false);
  }
  std::vector<double> abs_a;
  double abs_out_sum = 0;
  res.test_accuracy = accuracy(best, xte, yte, LinearPhase::test, &abs_a, &abs_out_sum);
  if (xte.cols() && !o.baseline) res.mean_abs_output_nA = abs_out_sum / static_cast<double>(xte.cols() * static_cast<Eigen::Index>(o.classes));
  res.linear_weights = best.W;
  if (!abs_a.empty()) {
    std::nth_element(abs_a.begin(), abs_a.begin() + static_cast<std::ptrdiff_t>(abs_a.size() * 99 / 100), abs_a.end());
    res.linear_out_abs_p99_V = abs_a[abs_a.size() * 99 / 100];
  }
  return res;
}

}  // namespace nnspice::dnpu

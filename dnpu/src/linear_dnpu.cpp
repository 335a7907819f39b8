#include "nnspice/dnpu/linear_dnpu.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nnspice/common/error.hpp"
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

}  // namespace

LinearDnpuResult train_linear_dnpu(const SurrogateModel& sm, const Eigen::MatrixXd& xtr, const std::vector<int>& ytr, const Eigen::MatrixXd& xval,
                                   const std::vector<int>& yval, const Eigen::MatrixXd& xte, const std::vector<int>& yte, const LinearDnpuOptions& o,
                                   const std::function<void(std::size_t, std::size_t, std::size_t)>& progress) {
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
  auto pack = [&]() {
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
  auto unpack = [&](const Eigen::VectorXd& p) {
    Eigen::Index i = 0;
    if (o.baseline) {
      m.hb = p.segment(i, m.hb.size()); i += m.hb.size();
      m.hv = p.segment(i, m.hv.size()); i += m.hv.size();
      m.oc = p.segment(i, m.oc.size());
    } else {
      for (auto& n : m.nodes) { n.controls_V = p.segment(i, n.controls_V.size()); i += n.controls_V.size(); }
    }
  };
  Adam adam_w, adam_p;
  adam_w.lr = adam_p.lr = o.learning_rate;
  Eigen::VectorXd wflat = Eigen::Map<Eigen::VectorXd>(m.W.data(), m.W.size());
  Eigen::VectorXd p = pack();
  LinearDnpuResult res;
  Model best = m;
  std::vector<std::size_t> order(static_cast<std::size_t>(xtr.cols()));
  std::iota(order.begin(), order.end(), 0);
  Rng shuffle = Rng::stream(o.seed, "linear_dnpu/shuffle");
  const std::size_t batches = (order.size() + o.batch - 1) / o.batch;
  const auto f = static_cast<Eigen::Index>(o.field);
  for (std::size_t ep = 0; ep < o.epochs; ++ep) {
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

#include "nnspice/memristor/training.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

#include "nnspice/common/error.hpp"
#include "nnspice/common/rng.hpp"

namespace nnspice::memristor {

UpdateRule parse_update_rule(const std::string& n) {
  if (n == "ideal") return UpdateRule::ideal;
  if (n == "sgd") return UpdateRule::sgd;
  if (n == "tiki-taka" || n == "tt") return UpdateRule::tiki_taka;
  if (n == "shd") return UpdateRule::shd;
  throw InputError(fmt::format("unknown update rule '{}' (ideal, sgd, tiki-taka, shd)", n));
}

std::string to_string(UpdateRule r) {
  switch (r) {
    case UpdateRule::ideal: return "ideal";
    case UpdateRule::sgd: return "sgd";
    case UpdateRule::tiki_taka: return "tiki-taka";
    case UpdateRule::shd: return "shd";
  }
  return "?";
}

void InPlaceOptions::validate() const {
  auto bad = [](const char* f, const std::string& v, const char* c) {
    throw InputError(fmt::format("InPlaceOptions::{} = {}. Violated constraint: {}", f, v, c));
  };
  if (epochs < 1) bad("epochs", std::to_string(epochs), "epochs >= 1");
  if (classes < 2) bad("classes", std::to_string(classes), "classes >= 2");
  if (!(learning_rate > 0) || !std::isfinite(learning_rate)) bad("learning_rate", fmt::format("{}", learning_rate), "learning_rate > 0");
  if (!(w_scale > 0) || !std::isfinite(w_scale)) bad("w_scale", fmt::format("{}", w_scale), "w_scale > 0");
  if (max_pulses < 1) bad("max_pulses", std::to_string(max_pulses), "max_pulses >= 1");
  if (!(gamma >= 0)) bad("gamma", fmt::format("{}", gamma), "gamma >= 0");
  if (!(transfer_lr > 0)) bad("transfer_lr", fmt::format("{}", transfer_lr), "transfer_lr > 0");
  if (!(shd_lr > 0)) bad("shd_lr", fmt::format("{}", shd_lr), "shd_lr > 0");
  if (transfer_columns < 1) bad("transfer_columns", std::to_string(transfer_columns), "transfer_columns >= 1");
  if (transfer_every < 1) bad("transfer_every", std::to_string(transfer_every), "transfer_every >= 1");
  if (!(pulse_cost >= 0)) bad("pulse_cost", fmt::format("{}", pulse_cost), "pulse_cost >= 0");
  if (!(friction >= 0 && friction <= 1)) bad("friction", fmt::format("{}", friction), "0 <= friction <= 1");
}

namespace {

/// One weight array on devices: w = w_scale (g - g_ref) / (g_max - g_min), reference devices programmed once.
struct DeviceWeights {
  DeviceArray dev, ref;
  double w_scale = 1, g_range = 1, pulses_per_w = 1;
  std::size_t rows = 0, cols = 0;
  Eigen::MatrixXd w;  // (rows x cols), kept in sync with the devices

  DeviceWeights(const DeviceParams& p, std::size_t r, std::size_t c, double scale, std::uint64_t seed, const std::string& name, bool ref_at_symmetry)
      : dev(p, r * c, seed, name), ref(p, r * c, seed, name + "/ref"), w_scale(scale), g_range(p.g_max_S - p.g_min_S), pulses_per_w((p.states - 1) / scale),
        rows(r), cols(c), w(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) {
    Rng rng = Rng::stream(seed, "memristor/train/program/" + name);
    for (std::size_t i = 0; i < r * c; ++i) {
      // start each device at its reference point: the symmetry point (A arrays) or mid-window (weights)
      const double w0 = ref_at_symmetry ? dev.symmetry_point_of(i) : 0.5;
      dev.set_state(i, w0);
      ref.program(i, dev.conductance(i), rng);
    }
    for (std::size_t i = 0; i < r * c; ++i) sync(i);
  }
  void sync(std::size_t i) { w(static_cast<Eigen::Index>(i % rows), static_cast<Eigen::Index>(i / rows)) = w_scale * (dev.conductance(i) - ref.conductance(i)) / g_range; }
  /// Applies the weight change dw as stochastically rounded pulses (soft-thresholded by `cost` pulses).
  void update(std::size_t r, std::size_t c, double dw, long max_pulses, double cost, Rng& rng) {
    double n = dw * pulses_per_w;
    if (cost > 0) n = n > 0 ? std::max(n - cost, 0.0) : std::min(n + cost, 0.0);
    if (!std::isfinite(n)) return;  // a NaN loss is reported at the end of the epoch
    n = std::clamp(n, -static_cast<double>(max_pulses) - 1, static_cast<double>(max_pulses) + 1);  // no overflow in the cast below
    const double fl = std::floor(n);
    long k = static_cast<long>(fl) + (rng.uniform() < n - fl ? 1 : 0);
    k = std::clamp(k, -max_pulses, max_pulses);
    if (k == 0) return;
    const std::size_t i = c * rows + r;
    dev.pulse(i, k, rng);
    sync(i);
  }
  std::uint64_t pulses() const { return dev.pulses_applied(); }
};

double softmax_grad(const Eigen::VectorXd& logits, int label, Eigen::VectorXd& delta, bool& correct) {
  Eigen::Index arg;
  const double mx = logits.maxCoeff(&arg);
  const Eigen::VectorXd e = (logits.array() - mx).exp();
  const double z = e.sum();
  delta = e / z;
  delta(label) -= 1;
  correct = arg == label;
  return -(logits(label) - mx - std::log(z));
}

}  // namespace

InPlaceResult train_in_place(const DeviceParams& device, const Eigen::MatrixXd& xtr, const std::vector<int>& ytr, const Eigen::MatrixXd& xte,
                             const std::vector<int>& yte, const InPlaceOptions& o, const std::function<void(std::size_t, std::size_t, std::size_t)>& progress) {
  o.validate();
  device.validate();
  if (xtr.cols() != static_cast<Eigen::Index>(ytr.size()) || xte.cols() != static_cast<Eigen::Index>(yte.size()))
    throw InputError("train_in_place: sample and label counts differ");
  if (xtr.rows() != xte.rows()) throw InputError("train_in_place: train and test inputs differ in size");
  for (const auto* y : {&ytr, &yte})
    for (int l : *y)
      if (l < 0 || l >= static_cast<int>(o.classes)) throw InputError(fmt::format("label {} outside 0..{}", l, o.classes - 1));
  const std::size_t rows = o.classes, cols = static_cast<std::size_t>(xtr.rows()) + 1;
  const bool ideal = o.rule == UpdateRule::ideal, two = o.rule == UpdateRule::tiki_taka || o.rule == UpdateRule::shd;
  Eigen::MatrixXd w_ideal = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  std::unique_ptr<DeviceWeights> c_arr, a_arr;
  if (!ideal) {
    c_arr = std::make_unique<DeviceWeights>(device, rows, cols, o.w_scale, o.seed, "C", false);
    if (two) a_arr = std::make_unique<DeviceWeights>(device, rows, cols, o.w_scale, o.seed, "A", true);
  }
  auto weights = [&]() -> Eigen::MatrixXd {
    if (ideal) return w_ideal;
    if (o.rule == UpdateRule::tiki_taka) return o.gamma * a_arr->w + c_arr->w;
    return c_arr->w;
  };
  // read noise of one output: sum over the devices of a row (device + reference, per array) of V-weighted Gaussian errors
  const double read_sd_w = ideal ? 0.0 : o.w_scale * device.read_noise_sd * device.g_max_S / (device.g_max_S - device.g_min_S);
  const double arrays_factor = o.rule == UpdateRule::tiki_taka ? std::sqrt(1 + o.gamma * o.gamma) : 1.0;
  Rng noise = Rng::stream(o.seed, "memristor/train/read");
  Rng rng = Rng::stream(o.seed, "memristor/train/pulses");
  Rng shuffle = Rng::stream(o.seed, "memristor/train/shuffle");

  auto logits_of = [&](const Eigen::MatrixXd& w, const Eigen::VectorXd& x, Rng& nr) {
    Eigen::VectorXd l = w.leftCols(cols - 1) * x + w.col(static_cast<Eigen::Index>(cols - 1));
    if (read_sd_w > 0) {
      const double sd = read_sd_w * arrays_factor * std::sqrt(2.0 * (x.squaredNorm() + 1.0));
      for (Eigen::Index k = 0; k < l.size(); ++k) l(k) += sd * nr.normal();
    }
    return l;
  };
  auto test_accuracy = [&]() {
    const Eigen::MatrixXd w = weights();
    Rng nr = Rng::stream(o.seed, "memristor/test/read");
    std::size_t correct = 0;
    for (Eigen::Index s = 0; s < xte.cols(); ++s) {
      Eigen::Index arg;
      logits_of(w, xte.col(s), nr).maxCoeff(&arg);
      correct += arg == yte[static_cast<std::size_t>(s)];
    }
    return xte.cols() ? static_cast<double>(correct) / static_cast<double>(xte.cols()) : 0.0;
  };

  InPlaceResult res;
  std::vector<std::size_t> order(static_cast<std::size_t>(xtr.cols()));
  std::iota(order.begin(), order.end(), 0);
  std::size_t next_col = 0, since_transfer = 0;
  std::vector<Eigen::Index> active;
  Eigen::VectorXd delta;
  for (std::size_t ep = 0; ep < o.epochs; ++ep) {
    for (std::size_t i = order.size(); i-- > 1;) std::swap(order[i], order[shuffle.below(i + 1)]);
    const std::uint64_t pulses0 = (c_arr ? c_arr->pulses() : 0) + (a_arr ? a_arr->pulses() : 0);
    double loss = 0;
    std::size_t correct = 0;
    Eigen::MatrixXd w = weights();
    for (std::size_t n = 0; n < order.size(); ++n) {
      const auto s = static_cast<Eigen::Index>(order[n]);
      const Eigen::VectorXd x = xtr.col(s);
      bool ok = false;
      loss += softmax_grad(logits_of(w, x, noise), ytr[order[n]], delta, ok);
      correct += ok;
      active.clear();
      for (Eigen::Index j = 0; j < x.size(); ++j)
        if (x(j) != 0) active.push_back(j);
      active.push_back(static_cast<Eigen::Index>(cols - 1));
      auto xin = [&](Eigen::Index j) { return j == static_cast<Eigen::Index>(cols - 1) ? 1.0 : x(j); };
      if (ideal) {
        for (Eigen::Index j : active) w_ideal.col(j) -= o.learning_rate * xin(j) * delta;
      } else {
        DeviceWeights& target = two ? *a_arr : *c_arr;
        for (Eigen::Index j : active)
          for (std::size_t r = 0; r < rows; ++r)
            target.update(r, static_cast<std::size_t>(j), -o.learning_rate * xin(j) * delta(static_cast<Eigen::Index>(r)), o.max_pulses, 0.0, rng);
        const double read_sd = read_sd_w * std::sqrt(2.0);
        if (o.rule == UpdateRule::tiki_taka) {
          for (std::size_t t = 0; t < o.transfer_columns; ++t, next_col = (next_col + 1) % cols)
            for (std::size_t r = 0; r < rows; ++r) {
              const double a = a_arr->w(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(next_col)) + read_sd * noise.normal();
              c_arr->update(r, next_col, o.transfer_lr * a, o.max_pulses, 0.0, rng);
            }
        } else if (o.rule == UpdateRule::shd && ++since_transfer >= o.transfer_every) {
          since_transfer = 0;
          for (std::size_t c = 0; c < cols; ++c)
            for (std::size_t r = 0; r < rows; ++r) {
              const double p = a_arr->w(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) + read_sd * noise.normal();
              c_arr->update(r, c, o.shd_lr * p, o.max_pulses, o.pulse_cost, rng);
              if (o.friction > 0) a_arr->update(r, c, -o.friction * p, o.max_pulses, o.pulse_cost, rng);  // dp = -friction p
            }
        }
      }
      w = weights();
      if (progress && (n + 1) % 500 == 0) progress(ep, n + 1, order.size());
    }
    InPlaceEpoch e;
    e.loss = loss / static_cast<double>(std::max<std::size_t>(order.size(), 1));
    if (!std::isfinite(e.loss)) throw NumericalError(fmt::format("in-place training: loss is {} in epoch {}", e.loss, ep + 1));
    e.train_accuracy = static_cast<double>(correct) / static_cast<double>(std::max<std::size_t>(order.size(), 1));
    e.test_accuracy = test_accuracy();
    e.pulses = (c_arr ? c_arr->pulses() : 0) + (a_arr ? a_arr->pulses() : 0) - pulses0;
    res.history.push_back(e);
    if (progress) progress(ep, order.size(), order.size());
  }
  res.test_accuracy = res.history.back().test_accuracy;
  res.pulses = (c_arr ? c_arr->pulses() : 0) + (a_arr ? a_arr->pulses() : 0);
  res.update_energy_J = static_cast<double>(res.pulses) * device.energy_per_pulse_J;
  if (!ideal) {
    const DeviceArray& d = two ? a_arr->dev : c_arr->dev;
    double s = 0;
    for (std::size_t i = 0; i < d.size(); ++i) s += d.symmetry_point_of(i);
    res.symmetry_point_mean = s / static_cast<double>(d.size());
  }
  res.weights = weights();
  return res;
}

}  // namespace nnspice::memristor

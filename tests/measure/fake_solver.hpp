// A behavioural stand-in for sim::NetworkDcSolver (no ngspice): neuron i of layer l has slope a[l][i];
// synapse (j, i) delivers a·G+[j,i]·(k/7)·x_i at code k > 0 and subtracts a·G-[j,i]·(|k|/7)·x_i at k < 0;
// every neuron rectifies. Linear, so the characterisation's estimators must recover a, G+ and G- exactly.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <vector>

#include <memory>
#include <string>

#include "nnspice/measure/op_log.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/sim/network_dc.hpp"

namespace nnspice::measure::testing {

struct FakeChipModel {
  std::vector<std::vector<double>> a;       ///< [l][i]
  std::vector<std::vector<double>> g_pos;   ///< [l] row-major (N_{l+1}, N_l)
  std::vector<std::vector<double>> g_neg;   ///< [l] row-major
  /// Optional gains per code, [l] row-major (7, N_{l+1}, N_l): code ±k uses entry k−1 instead of g_pos / g_neg.
  std::vector<std::vector<double>> g_pos_code, g_neg_code;
};

class FakeSolver final : public sim::NetworkDcSolver {
 public:
  explicit FakeSolver(FakeChipModel m) : m_(std::move(m)) {}
  std::string method() const override { return "fake"; }
  std::vector<sim::DcOutcome> solve(const netlist::WeightCodes& w, const std::vector<std::vector<double>>& inputs) override {
    std::vector<sim::DcOutcome> out;
    for (const auto& in : inputs) {
      sim::DcOutcome o;
      o.ok = true;
      o.newton_iterations = 1;
      o.currents.push_back(in);
      for (std::size_t l = 0; l < w.size(); ++l) {
        std::vector<double> y(w[l].rows, 0.0);
        const auto& x = o.currents[l];
        for (std::size_t j = 0; j < w[l].rows; ++j) {
          double s = 0;
          for (std::size_t i = 0; i < w[l].cols; ++i) {
            const int k = w[l].at(j, i);
            const double base = m_.a[l][i] * x[i] * std::abs(k) / 7.0;
            const std::size_t si = j * w[l].cols + i, off = (std::abs(k) - 1) * w[l].rows * w[l].cols;
            if (k > 0) s += base * (m_.g_pos_code.empty() ? m_.g_pos[l][si] : m_.g_pos_code[l][off + si]);
            if (k < 0) s -= base * (m_.g_neg_code.empty() ? m_.g_neg[l][si] : m_.g_neg_code[l][off + si]);
          }
          y[j] = std::max(0.0, s);
        }
        o.currents.push_back(y);
      }
      ++calls_;
      out.push_back(std::move(o));
    }
    return out;
  }
  int calls() const { return calls_; }

 private:
  FakeChipModel m_;
  int calls_ = 0;
};

/// An OpRunner over a FakeSolver of model `m` on an ideal chip (no progress output); `log` = its checkpoint.
inline OpRunner fake_runner(const netlist::NetworkSpec& spec, const FakeChipModel& m, const std::string& log = {}, bool resume = false) {
  RunnerOptions ro;
  ro.method = "fake";
  ro.progress = false;
  ro.log_path = log;
  ro.resume = resume;
  return OpRunner(std::make_unique<FakeSolver>(m), sim::NetworkChip{spec, {}, mismatch::ideal_chip(spec)}, ro);
}

}  // namespace nnspice::measure::testing

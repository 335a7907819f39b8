// The run report from stage folders: typed values read from each stage's summary, n/a where a stage is
// missing or its summary is not JSON, no JSON in the report, the paper comparison present.
#include <gtest/gtest.h>

#include <cmath>

#include "../test_support.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/report/run_report.hpp"

using namespace nnspice;
using namespace nnspice::report;

namespace {

void put(const std::string& path, const std::string& text) {
  make_dirs(path.substr(0, path.rfind('/')));
  write_file_atomic(path, text);
}

ExperimentPlan plan(const std::string& run, long long chips) {
  ExperimentPlan p;
  p.name = "mnist";
  p.dataset = "mnist";
  p.layers = "196-20-10";
  p.chip_model = "per-neuron";
  p.chip_seed = 7;
  p.chips = chips;
  p.dir = run + "/mnist";
  return p;
}

}  // namespace

TEST(RunReport, ReadsTypedResultsAndShowsNaForMissingStages) {
  const std::string run = test::scratch_dir("report", "run");
  put(run + "/mnist/train_homogeneous/summary.json", R"({"test_accuracy": 0.95})");
  put(run + "/mnist/chip_0/infer_chip/summary.json", R"({"accuracy": 0.94})");
  put(run + "/mnist/chip_0/evaluate_chip/summary.json",
      R"({"accuracy": 0.93, "evaluated": 2000, "engine_audit": {"synapses": 40, "worst_error_over_bound": 0.19, "within_bound": true, "worst_at": "x"}})");
  put(run + "/mnist/chip_1/evaluate_chip/summary.json", R"({"accuracy": 0.91, "evaluated": 2000})");
  put(run + "/mnist/chip_1/infer_chip/summary.json", "{not json");
  put(run + "/mnist/chip_0/characterize/summary.json",
      R"({"per_layer": [{"layer": 0, "neurons": 196, "slope_normalised": {"mean": 1, "sd": 0.14, "min": 0.7, "max": 1.4, "n": 196},
          "negative_gain": {"mean": 1.33, "sd": 0.11, "n": 196}, "slope_fit_rel_rms": 0.027}]})");
  put(run + "/mnist/chip_0/dynamics/summary.json",
      R"({"method": "tabulated", "operations_per_pattern": 4120, "levels": [{"mean_input_A": 1.5e-8, "patterns": 100, "failed": 0,
          "accuracy_asymptotic": 0.92, "correct_within_window_fraction": 0.99, "time_to_output_s": {"mean": 2.2e-6, "sd": 1.6e-6, "p05": 0,
          "median": 1.9e-6, "p95": 5e-6, "n": 100}, "energy_per_op_to_output_pJ": {"mean": 0.026, "sd": 0.017, "n": 93},
          "efficiency_window_TOp_per_J": 5.5}]})");
  put(run + "/mnist/chip_0/characterize/stage.json", R"({"payload": {"wall_s": 33.1}, "store": {}})");
  const auto r = read_experiment(plan(run, 2), run);
  ASSERT_EQ(r.chips.size(), 2u);
  EXPECT_EQ(r.chips[1].seed, 8u);
  EXPECT_DOUBLE_EQ(r.chips[0].accuracy[0], 0.95);
  EXPECT_DOUBLE_EQ(r.chips[0].accuracy[2], 0.94);
  EXPECT_TRUE(std::isnan(r.chips[1].accuracy[2])) << "a summary that is not JSON counts as missing";
  EXPECT_TRUE(std::isnan(r.chips[0].accuracy[3]));
  EXPECT_EQ(r.accuracy_over_chips[4].n, 2);
  EXPECT_NEAR(r.accuracy_over_chips[4].mean, 0.92, 1e-12);
  EXPECT_NEAR(r.accuracy_over_chips[4].sd, std::sqrt(0.0002), 1e-12);
  ASSERT_EQ(r.calibration.size(), 1u);
  EXPECT_DOUBLE_EQ(r.calibration[0].slope.sd, 0.14);
  ASSERT_EQ(r.dynamics.size(), 1u);
  EXPECT_DOUBLE_EQ(r.dynamics[0].time_to_output_s.p50, 1.9e-6);
  ASSERT_EQ(r.audits.size(), 1u);
  EXPECT_EQ(r.audits[0].stage, "evaluate_chip");
  ASSERT_EQ(r.times.size(), 1u);
  EXPECT_EQ(r.times[0].stage, "mnist/chip_0/characterize");

  RunInfo info;
  info.run_dir = run;
  info.config_source = "c.yaml";
  info.config_text = "out: x\n";
  write_run_report(info, {r});
  const std::string md = read_file(run + "/report.md");
  EXPECT_EQ(md.find("```json"), std::string::npos);
  EXPECT_EQ(md.find("\"mean\""), std::string::npos);
  EXPECT_NE(md.find("## mnist: mnist on 2 196-20-10 chips (seeds 7…8)"), std::string::npos) << md;
  EXPECT_NE(md.find("| 8 | 95.00 % | n/a | n/a | n/a | 91.00 % | 2000 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| mean ± sd | 95.00 ± 0.00 % | n/a | 94.00 % |"), std::string::npos) << md;
  EXPECT_NE(md.find("## Against the paper"), std::string::npos);
  EXPECT_NE(md.find("| time to output at 15 nA (mnist 196-20-10) | 8.5 ± 2.3 µs | 2.20 ± 1.60 µs |"), std::string::npos) << md;
  EXPECT_NE(md.find("0.026 pJ = 38.5 TOp/J"), std::string::npos) << md;
  const std::string html = read_file(run + "/report.html");
  EXPECT_NE(html.find("Against the paper"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);
}

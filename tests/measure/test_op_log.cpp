// The op log (checkpoint): bit-identical round trip, cut-off and garbage lines ignored, truncation without
// --resume; the runner takes finished points from it and simulates only the rest.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fake_solver.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/measure/op_log.hpp"
#include "nnspice/measure/routing.hpp"
#include "nnspice/mismatch/chip.hpp"

namespace nm = nnspice::measure;
namespace fs = std::filesystem;
using nnspice::netlist::NetworkSpec;

namespace {

std::string scratch(const std::string& name) {
  const auto d = fs::temp_directory_path() / ("nnspice_test_measure_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

nm::OpRecord record(double scale) {
  nm::OpRecord r;
  r.ok = true;
  r.currents = {{1e-9 / 3 * scale, 2.0000000000000004e-8}, {0.1 * scale, 5e-324, 1.7976931348623157e308}};
  r.newton_iterations = 42;
  return r;
}

}  // namespace

TEST(OpLog, RoundTripIsBitIdentical) {
  const std::string path = scratch("rt") + "/ops.jsonl";
  {
    nm::OpLog log(path, false);
    log.append(0x0123456789abcdefULL, record(1));
    log.append(7, record(3));
    log.append(7, record(5));  // a key is recorded once
  }
  nm::OpLog log(path, true);
  EXPECT_EQ(log.size(), 2u);
  const auto* r = log.find(0x0123456789abcdefULL);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->ok);
  EXPECT_TRUE(r->from_log);
  EXPECT_EQ(r->currents, record(1).currents);  // exact double equality
  EXPECT_EQ(r->newton_iterations, 42);
  EXPECT_EQ(log.find(7)->currents, record(3).currents);
  EXPECT_EQ(log.find(8), nullptr);
}

TEST(OpLog, IgnoresCutOffAndGarbageLines) {
  const std::string path = scratch("cut") + "/ops.jsonl";
  {
    nm::OpLog log(path, false);
    log.append(1, record(1));
    log.append(2, record(2));
  }
  std::string text = nnspice::read_file(path);
  // An edited digit in the currents of key 2 (line 2): that record only is dropped, the others stay.
  const auto at = text.find("2.0000000000000004e-08", text.find('\n'));
  ASSERT_NE(at, std::string::npos);
  text[at] = '3';
  text += "this is not json\n";
  {
    nm::OpLog three(path + ".3", false);  // a valid line for key 3, written by the log itself
    three.append(3, record(1));
  }
  text += nnspice::read_file(path + ".3");
  text += "{\"k\":\"0000000000000005\",\"c\":[[1e-9]],\"n\":3}\n";  // no checksum (e.g. written by hand)
  text += "{\"k\":\"0000000000000004\",\"c\":[[1e-9, 2";            // killed mid-line
  nnspice::write_file_atomic(path, text);
  nm::OpLog log(path, true);
  EXPECT_EQ(log.size(), 2u);
  EXPECT_EQ(log.ignored_lines(), 4u);
  EXPECT_EQ(log.find(2), nullptr);
  EXPECT_NE(log.find(1), nullptr);
  EXPECT_EQ(log.find(5), nullptr);
  EXPECT_NE(log.find(3), nullptr);
  EXPECT_EQ(log.find(4), nullptr);
  log.append(4, record(4));  // appending after a cut line starts a fresh, parseable line
  nm::OpLog again(path, true);
  EXPECT_EQ(again.size(), 3u);
  EXPECT_EQ(again.ignored_lines(), 0u);
}

TEST(OpLog, WithoutResumeStartsEmpty) {
  const std::string path = scratch("fresh") + "/ops.jsonl";
  {
    nm::OpLog log(path, false);
    log.append(1, record(1));
  }
  nm::OpLog log(path, false);
  EXPECT_EQ(log.size(), 0u);
  nm::OpLog reread(path, true);
  EXPECT_EQ(reread.size(), 0u);
}

TEST(OpRunner, ResumeTakesFinishedPointsFromTheLog) {
  const auto spec = NetworkSpec::parse("3-4-2");
  nm::testing::FakeChipModel m;
  m.a = {{1, 1.1, 0.9}, {1, 1, 1, 1}};
  m.g_pos = {std::vector<double>(12, 1.0), std::vector<double>(8, 1.0)};
  m.g_neg = m.g_pos;
  const nnspice::sim::NetworkChip chip{spec, {}, nnspice::mismatch::ideal_chip(spec)};
  const std::string dir = scratch("runner");
  nm::RunnerOptions ro;
  ro.method = "fake";
  ro.progress = false;
  ro.log_path = dir + "/ops.jsonl";
  const auto rs = nm::balanced_routings(spec, 4, 1);
  std::vector<nm::OpBatch> batches;
  for (const auto& r : rs) batches.push_back({nm::routing_weights(spec, r), {{1e-9, 1e-9, 1e-9}, {2e-9, 2e-9, 2e-9}}});
  std::vector<std::vector<nm::OpRecord>> first;
  {
    auto solver = std::make_unique<nm::testing::FakeSolver>(m);
    nm::OpRunner runner(std::move(solver), chip, ro);
    // Only the first two batches finish before the "kill".
    first = runner.run({batches[0], batches[1]}, "part");
    EXPECT_EQ(runner.stats().ops_simulated, 4u);
  }
  ro.resume = true;
  auto solver = std::make_unique<nm::testing::FakeSolver>(m);
  auto* raw = solver.get();
  nm::OpRunner runner(std::move(solver), chip, ro);
  const auto all = runner.run(batches, "all");
  EXPECT_EQ(runner.stats().ops_from_log, 4u);
  EXPECT_EQ(runner.stats().ops_simulated, 4u);
  EXPECT_EQ(raw->calls(), 4);
  EXPECT_TRUE(all[0][1].from_log);
  EXPECT_FALSE(all[3][0].from_log);
  EXPECT_EQ(all[1][0].currents, first[1][0].currents);
  // Keys depend on weights and inputs.
  EXPECT_NE(runner.key(batches[0].weights, batches[0].inputs[0]), runner.key(batches[0].weights, batches[0].inputs[1]));
  EXPECT_NE(runner.key(batches[0].weights, batches[0].inputs[0]), runner.key(batches[1].weights, batches[0].inputs[0]));
}

TEST(OpRunner, UnknownMethodIsAnInputError) {
  const auto spec = NetworkSpec::parse("2-2");
  nm::RunnerOptions ro;
  ro.method = "magic";
  EXPECT_THROW(nm::OpRunner(nnspice::sim::NetworkChip{spec, {}, nnspice::mismatch::ideal_chip(spec)}, ro), nnspice::InputError);
}

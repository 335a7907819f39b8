// The DNPU SPICE element: ngspice's operating point of the generated B-source subcircuit equals the C++
// forward pass (acceptance: within 0.1 % on 100 random inputs inside the ranges). Runs /usr/bin/ngspice -b
// as a child process (the dnpu library never links libngspice). Tolerance: rel 1e-3 with an absolute
// floor of 1e-3 nA (ngspice prints 10 digits, so the real agreement is ~1e-8).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/dnpu/spice.hpp"
#include "nnspice/dnpu/surrogate.hpp"

using namespace nnspice;
using namespace nnspice::dnpu;

namespace {

const char* kNgspice = "/usr/bin/ngspice";

void compare_with_ngspice(const SurrogateModel& m, int samples, std::uint64_t seed, const std::string& tag) {
  if (!std::filesystem::exists(kNgspice)) GTEST_SKIP() << "no " << kNgspice;
  const std::string dir = testing::TempDir() + "/dnpu_spice_" + tag;
  std::filesystem::create_directories(dir);
  SpiceElementOptions o;
  o.subckt_name = "dnpu_test";
  write_file_atomic(dir + "/dnpu.cir", dnpu_subcircuit(m, o));
  Rng rng(seed);
  Eigen::MatrixXd v(static_cast<Eigen::Index>(m.n_inputs()), samples);
  for (int s = 0; s < samples; ++s)
    for (std::size_t e = 0; e < m.n_inputs(); ++e) v(static_cast<Eigen::Index>(e), s) = rng.uniform(m.voltage_ranges_V[e][0], m.voltage_ranges_V[e][1]);
  std::ostringstream n;
  n << "* dnpu element vs C++\n.include dnpu.cir\n";
  for (std::size_t e = 0; e < m.n_inputs(); ++e) n << "VE" << e << " e" << e << " 0 dc 0\n";
  n << "X1";
  for (std::size_t e = 0; e < m.n_inputs(); ++e) n << " e" << e;
  n << " out dnpu_test\nVP out 0 dc 0\n.control\nset numdgt=12\n";
  for (int s = 0; s < samples; ++s) {
    for (std::size_t e = 0; e < m.n_inputs(); ++e) n << "alter VE" << e << " dc = " << fmt::format("{:.17e}", v(static_cast<Eigen::Index>(e), s)) << "\n";
    n << "op\nprint i(vp)\n";
  }
  n << ".endc\n.end\n";
  write_file_atomic(dir + "/check.cir", n.str());
  const std::string cmd = fmt::format("cd '{}' && {} -b check.cir > check.log 2> check.err", dir, kNgspice);
  const int rc = std::system(cmd.c_str());  // ngspice -b exits 1 after a .control block: judge by the output
  ASSERT_NE(rc, -1) << "cannot start " << kNgspice;
  std::ifstream log(dir + "/check.log");
  std::string line;
  std::vector<double> got;
  const std::regex re(R"(^i\(vp\) = (\S+))");
  std::smatch mt;
  while (std::getline(log, line))
    if (std::regex_search(line, mt, re)) got.push_back(std::stod(mt[1]));
  ASSERT_EQ(got.size(), static_cast<std::size_t>(samples)) << "see " << dir << "/check.log";
  const Eigen::VectorXd ref = m.eval(v);
  double worst = 0;
  for (int s = 0; s < samples; ++s) {
    const double spice_nA = got[static_cast<std::size_t>(s)] * 1e9;  // current into `out` through VP to ground
    EXPECT_NEAR(spice_nA, ref(s), 1e-3 * std::max(std::abs(ref(s)), 1.0)) << "sample " << s;
    worst = std::max(worst, std::abs(spice_nA - ref(s)) / std::max(std::abs(ref(s)), 1.0));
  }
  testing::Test::RecordProperty("worst_relative_error", fmt::format("{:.3g}", worst));
  std::cout << tag << ": worst relative error " << worst << " over " << samples << " operating points\n";
}

}  // namespace

#ifndef NNSPICE_DNPU_SLOW
// A 7-16x6-1 float32 fixture with clipping (fast): 100 operating points.
TEST(DnpuSpice, FixtureElementMatchesForwardPass) {
  compare_with_ngspice(load_surrogate(NNSPICE_TEST_DATA_DIR "/dnpu/legacy-f32.pt"), 100, 17, "fixture");
}

#else
// Acceptance on the seed paper's surrogate (7-90x5-1): ngspice parses ~0.9 MB of B-sources (slow label).
TEST(DnpuSpiceSlow, SiBoronElementMatchesForwardPass) {
  compare_with_ngspice(load_surrogate(NNSPICE_SOURCE_DIR "/data/dnpu/si-boron-2020"), 100, 18, "si_boron");
}

#endif

#ifndef NNSPICE_DNPU_SLOW
TEST(DnpuSpice, SubcircuitShape) {
  const SurrogateModel m = load_surrogate(NNSPICE_TEST_DATA_DIR "/dnpu/legacy-f64.pt");
  const std::string s = dnpu_subcircuit(m);
  EXPECT_NE(s.find(".subckt dnpu e0 e1 e2 e3 e4 e5 e6 out\n"), std::string::npos);
  EXPECT_NE(s.find(".ends dnpu"), std::string::npos);
  std::size_t sources = 0;
  for (std::size_t p = s.find("\nB"); p != std::string::npos; p = s.find("\nB", p + 1)) ++sources;
  EXPECT_EQ(sources, 12u + 9u + 6u + 1u);  // hidden units + output
  EXPECT_NE(s.find("min(max("), std::string::npos);  // clipping [-150, 120] nA
  EXPECT_EQ(spice_name("si-boron-2020"), "si_boron_2020");
  EXPECT_EQ(spice_name("2x"), "d2x");
}
#endif

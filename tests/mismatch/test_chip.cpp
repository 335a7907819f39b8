#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"

using namespace nnspice;
using namespace nnspice::netlist;

static Process proc() {
  Process p;
  p.model_card = "/card.lib";
  return p;
}

TEST(Chip, SameSeedIdenticalNetlistBytesDifferentSeedDifferent) {
  const auto s = NetworkSpec::parse("20-10-5");
  const auto w = random_weights(s, 3);
  auto text = [&](std::uint64_t seed) {
    const auto chip = mismatch::draw_chip(s, proc(), seed);
    return write_ngspice(build_network(s, w, proc(), &chip.delvto_V, {}));
  };
  EXPECT_EQ(text(7), text(7));
  EXPECT_NE(text(7), text(8));
}

TEST(Chip, FileRoundTripIsExactAndReproducesTheNetlist) {
  const auto s = NetworkSpec::parse("4-7-3");
  const auto chip = mismatch::draw_chip(s, proc(), 42);
  const std::string path = testing::TempDir() + "/chip.csv";
  mismatch::save_chip(chip, path);
  const auto back = mismatch::load_chip(path, &s);
  EXPECT_EQ(back.delvto_V, chip.delvto_V);
  EXPECT_EQ(back.names, chip.names);
  EXPECT_EQ(back.seed, 42u);
  const auto w = random_weights(s, 1);
  EXPECT_EQ(write_ngspice(build_network(s, w, proc(), &chip.delvto_V, {})), write_ngspice(build_network(s, w, proc(), &back.delvto_V, {})));
}

static std::string load_error(const std::string& text, const NetworkSpec* expect = nullptr) {
  const std::string p = testing::TempDir() + "/bad_chip.csv";
  std::ofstream(p) << text;
  try {
    mismatch::load_chip(p, expect);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Chip, BadFilesAreNamedErrors) {
  const auto s = NetworkSpec::parse("2-2-1");
  const auto chip = mismatch::draw_chip(s, proc(), 1);
  const std::string path = testing::TempDir() + "/c.csv";
  mismatch::save_chip(chip, path);
  const std::string good = read_file(path);
  const auto other = NetworkSpec::parse("4-7-3");
  EXPECT_NE(load_error(good, &other).find("chip was drawn for network 2-2-1, but the network is 4-7-3"), std::string::npos);
  EXPECT_NE(load_error(good.substr(0, good.size() / 2)).find("truncated"), std::string::npos) << load_error(good.substr(0, good.size() / 2));
  EXPECT_NE(load_error("hello\n").find("not an nnspice chip file"), std::string::npos);
  std::string corrupt = good;
  corrupt.replace(corrupt.find(",", corrupt.find("MN0_0_1")) + 1, 3, "abc");
  EXPECT_NE(load_error(corrupt).find("is not a threshold shift"), std::string::npos) << load_error(corrupt);
  EXPECT_THROW(mismatch::load_chip(testing::TempDir() + "/none.csv"), InputError);
}

TEST(Chip, HeaderOfAHugeNetworkInASmallFileIsTruncatedNotAnAllocation) {
  // Fuzz finding (docs/reliability.md): the loader enumerated every transistor name of the header's network
  // before reading a line, so '# layers: 100000-100000' (1.1e11 transistors) in a 60-byte file meant a
  // bad_alloc (or the OOM killer) instead of an InputError; 1000-1000 took ~0.1 s per file.
  const std::string m = load_error("# nnspice chip v1\n# layers: 100000-100000\nname,delvto_V\n");
  EXPECT_NE(m.find("bad_chip.csv:2: truncated chip file: network 100000-100000 has 110000700000 transistors, the file (56 bytes) cannot hold them"),
            std::string::npos)
      << m;
}

TEST(Chip, SigmaPerDeviceClassMatchesPelgromWithinStatisticalBand) {
  // 196-100-50-10: ~278k transistors. For N samples of N(0, sigma), sd(sample sd) ~ sigma / sqrt(2N);
  // accept 5 of those. Sample means within 5 sigma / sqrt(N).
  const auto s = NetworkSpec::parse("196-100-50-10");
  const Process p = proc();
  const auto chip = mismatch::draw_chip(s, p, 2024);
  const auto stats = mismatch::class_statistics(chip, p);
  for (const auto& c : stats) {
    ASSERT_GT(c.count, 9u) << c.role;
    const double band = 5 * c.sigma_V / std::sqrt(2.0 * c.count);
    EXPECT_NEAR(c.sd_V, c.sigma_V, band) << c.role << " n=" << c.count;
    EXPECT_NEAR(c.mean_V, 0.0, 5 * c.sigma_V / std::sqrt(double(c.count))) << c.role;
    std::printf("class %-10s n=%7zu sigma=%.3f mV sample sd=%.3f mV (band +-%.3f)\n", c.role.c_str(), c.count, c.sigma_V * 1e3, c.sd_V * 1e3, band * 1e3);
  }
  EXPECT_NEAR(stats[static_cast<int>(DeviceRole::mirror_lsb)].sigma_V, 8.6e-3, 0.05e-3);
}

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "nnspice/common/error.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/netlist/network.hpp"

using namespace nnspice;
using namespace nnspice::netlist;

static std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(NetworkSpec, ParsesAndCounts) {
  const auto s = NetworkSpec::parse("196-100-50-10");
  EXPECT_EQ(s.layers, (std::vector<int>{196, 100, 50, 10}));
  EXPECT_EQ(s.n_synapses(), 25100u);
  EXPECT_EQ(s.str(), "196-100-50-10");
  // 5 per input/hidden neuron, 11 per synapse, M0 + readout sink per output neuron: 1230 + 113300 + 20.
  // (circuits.md's 114,580 and ngspice-notes' 609 for 4-7-3 count full 5-FET somas on the outputs, no sink.)
  EXPECT_EQ(count_transistors(NetworkSpec::parse("196-50-10")), 114550u);
  EXPECT_EQ(count_transistors(NetworkSpec::parse("4-7-3")), 600u);
  EXPECT_EQ(enumerate_transistors(NetworkSpec::parse("4-7-3")).size(), count_transistors(NetworkSpec::parse("4-7-3")));
}

TEST(NetworkSpec, RejectsBadSpecsNamingThem) {
  for (const char* bad : {"", "4", "4-x-3", "4--3", "0-3", "4-7-3-", "-4-3", "4-7-2000000", "4.5-3"}) {
    const std::string m = message_of([&] { NetworkSpec::parse(bad); });
    EXPECT_NE(m.find("invalid layer spec"), std::string::npos) << bad << ": " << m;
    EXPECT_NE(m.find(std::string("--layers = '") + bad + "'"), std::string::npos) << m;
  }
}

TEST(Weights, RandomAreSeededAndInRange) {
  const auto s = NetworkSpec::parse("20-10-5");
  const auto a = random_weights(s, 3), b = random_weights(s, 3), c = random_weights(s, 4);
  EXPECT_EQ(a[0].codes, b[0].codes);
  EXPECT_NE(a[0].codes, c[0].codes);
  int lo = 0, hi = 0;
  for (auto& m : a)
    for (auto v : m.codes) {
      lo = std::min<int>(lo, v);
      hi = std::max<int>(hi, v);
    }
  EXPECT_EQ(lo, -7);
  EXPECT_EQ(hi, 7);
}

TEST(Weights, FilesRoundTripAndBadCodesRejected) {
  const auto s = NetworkSpec::parse("3-2-1");
  const std::string dir = testing::TempDir() + "/w_rt";
  const auto w = random_weights(s, 1);
  save_weights(w, dir);
  const auto r = load_weights({dir}, s);
  EXPECT_EQ(r[0].codes, w[0].codes);
  EXPECT_EQ(r[1].codes, w[1].codes);

  // Wrong shape: the transposed matrix.
  write_npy(dir + "/t.npy", std::vector<double>(6, 1.0), {3, 2});
  write_npy(dir + "/ok1.npy", std::vector<double>(2, 1.0), {1, 2});
  std::string m = message_of([&] { load_weights({dir + "/t.npy", dir + "/ok1.npy"}, s); });
  EXPECT_NE(m.find("shape (3, 2), expected (2, 3)"), std::string::npos) << m;

  for (double bad : {8.0, -8.0, 2.5}) {
    std::vector<double> v(6, 1.0);
    v[4] = bad;
    write_npy(dir + "/bad.npy", v, {2, 3});
    m = message_of([&] { load_weights({dir + "/bad.npy", dir + "/ok1.npy"}, s); });
    EXPECT_NE(m.find("row 1, column 1"), std::string::npos) << m;
    EXPECT_NE(m.find(bad == 2.5 ? "not an integer" : "outside -7..7"), std::string::npos) << m;
  }
  std::ofstream(dir + "/w.csv") << "1,2,3\n-7,0,7\n";
  std::ofstream(dir + "/w1.csv") << "1,1\n";
  EXPECT_EQ(load_weights({dir + "/w.csv", dir + "/w1.csv"}, s)[0].at(1, 2), 7);
  m = message_of([&] { load_weights({dir + "/w.csv"}, s); });
  EXPECT_NE(m.find("1 weight files given"), std::string::npos) << m;
  m = message_of([&] { load_weights({dir + "/missing.npy", dir + "/w1.csv"}, s); });
  EXPECT_NE(m.find("missing.npy"), std::string::npos) << m;
}

TEST(NetworkSpec, FetIndicesMatchCanonicalOrder) {
  const auto s = NetworkSpec::parse("3-4-2-2");
  const auto sites = enumerate_transistors(s);
  for (size_t l = 0; l < s.layers.size(); ++l)
    for (int i = 0; i < s.layers[l]; ++i)
      for (int k = 0; k < (l + 1 < s.layers.size() ? 5 : 1); ++k) EXPECT_EQ(sites[soma_fet_index(s, l, i, k)].name, names::soma_fet(l, i, k));
  for (size_t l = 0; l + 1 < s.layers.size(); ++l)
    for (int j = 0; j < s.layers[l + 1]; ++j)
      for (int i = 0; i < s.layers[l]; ++i)
        for (int k = 10; k <= 20; ++k) EXPECT_EQ(sites[synapse_fet_index(s, l, j, i, k)].name, names::synapse_fet(l, j, i, k));
  EXPECT_EQ(sites[sink_fet_index(s, 1)].name, names::sink_fet(1));
}

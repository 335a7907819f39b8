// The one weight-code reader and writer (issue 17, class 5): round trips, shapes, codes, ambiguous folders.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../test_support.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/model/weight_codes.hpp"

using namespace nnspice;
using namespace nnspice::model;

using nnspice::test::error_of;
using nnspice::test::scratch_dir;

static std::string fresh_dir(const std::string& name) { return scratch_dir("model", name); }

static WeightCodes sample_codes() {
  WeightCodes w{{2, 3, {-7, -1, 0, 1, 6, 7}}, {1, 2, {3, -4}}};
  return w;
}

TEST(WeightCodes, RoundTripThroughTheWriter) {
  const std::string dir = fresh_dir("rt");
  const WeightCodes w = sample_codes();
  const auto files = write_weight_codes(dir, w);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(read_weight_codes({dir}), w);                      // layers implied by the files
  EXPECT_EQ(read_weight_codes({dir}, {3, 2, 1}), w);           // layers given
  EXPECT_EQ(read_weight_codes(files, {3, 2, 1}), w);           // one file per layer
  EXPECT_EQ(layers_of(w), (Layers{3, 2, 1}));
  check_weight_codes(w, {3, 2, 1}, "w");
}

TEST(WeightCodes, CsvReadsLikeNpy) {
  const std::string dir = fresh_dir("csv");
  std::ofstream(dir + "/weights_0.csv") << "-7,-1,0\n1,6,7\n";
  std::ofstream(dir + "/weights_1.csv") << "3,-4\n";
  EXPECT_EQ(read_weight_codes({dir}), sample_codes());
}

TEST(WeightCodes, NpyAndCsvOfOneLayerIsAnErrorNamingBoth) {
  const std::string dir = fresh_dir("both");
  write_weight_codes(dir, sample_codes());
  std::ofstream(dir + "/weights_0.csv") << "-7,-1,0\n1,6,7\n";
  for (const Layers& l : {Layers{}, Layers{3, 2, 1}}) {
    const std::string m = error_of([&] { read_weight_codes({dir}, l); });
    EXPECT_NE(m.find(dir + "/weights_0.npy and " + dir + "/weights_0.csv: two files for weight layer 0"), std::string::npos) << m;
  }
}

TEST(WeightCodes, BadCodesShapesAndExtraLayersNamed) {
  const std::string dir = fresh_dir("bad");
  for (double bad : {8.0, -8.0, 2.5}) {
    std::vector<double> v(6, 1.0);
    v[4] = bad;
    write_npy(dir + "/weights_0.npy", v, {2, 3});
    const std::string m = error_of([&] { read_weight_codes({dir + "/weights_0.npy"}); });
    EXPECT_NE(m.find("weights_0.npy: row 1, column 1: weight code"), std::string::npos) << m;
    EXPECT_NE(m.find(bad == 2.5 ? "not an integer" : "outside -7..7"), std::string::npos) << m;
  }
  write_weight_codes(dir, sample_codes());
  std::string m = error_of([&] { read_weight_codes({dir}, {2, 3, 1}); });
  EXPECT_NE(m.find("shape (2, 3), expected (3, 2)"), std::string::npos) << m;
  m = error_of([&] { read_weight_codes({dir}, {3, 2}); });  // weights_1 left over
  EXPECT_NE(m.find("holds weights_1 but network 3-2 has only 1 weight layers"), std::string::npos) << m;
  write_npy(dir + "/weights_1.npy", std::vector<double>(3, 1.0), {1, 3});
  m = error_of([&] { read_weight_codes({dir}); });
  EXPECT_NE(m.find("does not chain"), std::string::npos) << m;
  std::ofstream(dir + "/h.csv") << "a,b,c\n1,2,3\n";
  m = error_of([&] { read_weight_codes({dir + "/h.csv"}); });
  EXPECT_NE(m.find("no header line"), std::string::npos) << m;
  m = error_of([&] { read_weight_codes({dir + "/nonexistent"}); });
  EXPECT_NE(m.find("nonexistent: no such folder (no weights_0.npy or weights_0.csv found)"), std::string::npos) << m;
  m = error_of([&] { read_weight_codes({fresh_dir("empty")}); });
  EXPECT_NE(m.find("no weights_0.npy (or weights_0.csv) found"), std::string::npos) << m;
  m = error_of([&] { check_weight_codes(sample_codes(), {3, 2, 2}, "mine"); });
  EXPECT_NE(m.find("mine: weight layer 1 has shape (1, 2), expected (2, 2)"), std::string::npos) << m;
}

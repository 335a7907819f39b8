// The one layer-spec grammar (issue 17, class 5): every command and file parses N-N-...-N the same way.
#include <gtest/gtest.h>


#include "../test_support.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/model/layer_spec.hpp"

using namespace nnspice;
using namespace nnspice::model;

using nnspice::test::error_of;
using nnspice::test::scratch_dir;

TEST(LayerSpec, ParsesAndFormats) {
  EXPECT_EQ(parse_layers("196-100-50-10", "--layers"), (Layers{196, 100, 50, 10}));
  EXPECT_EQ(parse_layers("4-7-3", "--layers"), (Layers{4, 7, 3}));
  EXPECT_EQ(parse_layers("1-100000", "--layers"), (Layers{1, 100000}));
  EXPECT_EQ(parse_layers("007-3", "--layers"), (Layers{7, 3}));
  EXPECT_EQ(format_layers({196, 100, 10}), "196-100-10");
  EXPECT_EQ(parse_layers("2-2-2-2-2-2-2-2-2-2-2-2-2-2-2-2", "x").size(), kMaxLayers);
}

TEST(LayerSpec, RejectsEveryOtherSpellingNamingOptionAndValue) {
  // The spellings train once accepted (issue 17): spaces, commas, 'x', signs, sizes beyond the bound.
  for (const char* bad : {"4-7 3", "4,7,3", "4x7x3", "+4-7-3", "4-+7-3", "4-1000000-3", "", "4", "4--3", "-4-3", "4-3-", "0-3", "4.5-3",
                          " 4-3", "4-3 ", "4-3\n", "1e2-3", "0x10-3", "4-99999999999999999999999-3", "2-2-2-2-2-2-2-2-2-2-2-2-2-2-2-2-2"}) {
    const std::string m = error_of([&] { parse_layers(bad, "--layers"); });
    EXPECT_NE(m.find(std::string("--layers = '") + bad + "': invalid layer spec"), std::string::npos) << "[" << bad << "]: " << m;
  }
}

TEST(LayerSpec, ListsHaveTheSameBounds) {
  EXPECT_EQ(check_layers({4, 7, 3}, "layers"), (Layers{4, 7, 3}));
  EXPECT_NE(error_of([] { check_layers({4, 0, 3}, "f.json: layers"); }).find("f.json: layers[1] = 0: invalid layer size"), std::string::npos);
  EXPECT_NE(error_of([] { check_layers({4, 1000000}, "layers"); }).find("layers[1] = 1000000"), std::string::npos);
  EXPECT_NE(error_of([] { check_layers({4}, "layers"); }).find("at least an input and an output layer"), std::string::npos);
  EXPECT_NE(error_of([] { check_layers(std::vector<long long>(17, 2), "layers"); }).find("more than 16 layers"), std::string::npos);
}

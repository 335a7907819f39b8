#include <gtest/gtest.h>

#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"

using namespace nnspice;

TEST(Csv, HeaderCommentsAndValues) {
  CsvTable t = parse_csv("# comment\na,b\n1, 2\n\n3,-4.5e-9\n", "t.csv");
  EXPECT_EQ(t.header, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(t.rows, 2u);
  ASSERT_EQ(t.cols, 2u);
  EXPECT_DOUBLE_EQ(t.at(1, 1), -4.5e-9);
}

TEST(Csv, RaggedRowAndBadFieldGiveLineAndColumn) {
  try {
    parse_csv("1,2\n3\n", "r.csv");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("r.csv:2"), std::string::npos) << e.what();
  }
  try {
    parse_csv("1,2\n3,x7\n", "x.csv");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("x.csv:2:3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'x7'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_csv("", "empty.csv"), InputError);
  EXPECT_THROW(parse_csv("1,nan\n", "nan.csv"), InputError);
}

// Issue 17 class 1: a first row mixing numbers and non-numbers is a broken data row, not a header.
TEST(Csv, MixedFirstRowIsAnErrorNotAHeader) {
  for (const std::string text : {"1e-8,2e-8x\n3e-8,1e-8\n", "# c\n2e-8x,1e-8\n3e-8,1e-8\n", "1x\n2\n3\n", "0.1,abc,0.3\n1,2,3\n"}) {
    try {
      parse_csv(text, "m.csv");
      FAIL() << "accepted: " << text;
    } catch (const InputError& e) {
      const std::string w = e.what();
      EXPECT_NE(w.find("m.csv:"), std::string::npos) << w;
      EXPECT_NE(w.find("not a number"), std::string::npos) << w;
    }
  }
  try {
    parse_csv("1e-8,2e-8x\n3e-8,1e-8\n", "p.csv");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("p.csv:1:6"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'2e-8x'"), std::string::npos) << e.what();
  }
}

TEST(Csv, HeaderOnlyWhenNoFieldIsANumber) {
  const CsvTable t = parse_csv("label\n3\n1\n", "l.csv");
  EXPECT_EQ(t.header, std::vector<std::string>{"label"});
  EXPECT_EQ(t.rows, 2u);
  EXPECT_DOUBLE_EQ(t.at(0, 0), 3);
  // a header with an empty name, or with more names than the rows have fields
  EXPECT_THROW(parse_csv("a,,b\n1,2,3\n", "e.csv"), InputError);
  EXPECT_THROW(parse_csv("a,b,c\n1,2\n", "n.csv"), InputError);
}

TEST(Csv, Utf8ByteOrderMarkIsStripped) {
  const CsvTable t = parse_csv("\xEF\xBB\xBF" "1,2\n3,4\n", "bom.csv");
  EXPECT_TRUE(t.header.empty());
  ASSERT_EQ(t.rows, 2u);
  EXPECT_DOUBLE_EQ(t.at(0, 0), 1);
  const CsvTable h = parse_csv("\xEF\xBB\xBF" "a,b\n3,4\n", "bomh.csv");
  EXPECT_EQ(h.header, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(h.rows, 1u);
}

TEST(Csv, ExpectedColumnsNameTheFileAndCount) {
  EXPECT_NO_THROW(parse_csv("a,b\n1,2\n", "ok.csv", 2));
  try {
    parse_csv("a,b,c\n1,2,3\n", "c.csv", 2);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("c.csv:1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("3 columns"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_csv("1,2,3\n", "d.csv", 2), InputError);
}

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

#include <gtest/gtest.h>

#include "nnspice/common/error.hpp"
#include "nnspice/common/yaml_util.hpp"

using namespace nnspice;

TEST(Yaml, MalformedReportsLineAndColumn) {
  try {
    parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("malformed YAML"), std::string::npos) << e.what();
    EXPECT_GT(e.where().line, 0);
  }
}

TEST(Yaml, UnknownKeyAndWrongTypeNamed) {
  YamlMap m(parse_yaml("vdd_V: 1.8\nvdd: 2\n", "p.yaml"), "p.yaml", "process");
  try {
    m.check_keys({"vdd_V"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'vdd'"), std::string::npos) << e.what();
    EXPECT_EQ(e.where().line, 2);
  }
  YamlMap m2(parse_yaml("vdd_V: high\n", "q.yaml"), "q.yaml", "process");
  try {
    m2.get_double("vdd_V", 1.8);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("process.vdd_V = high"), std::string::npos) << e.what();
  }
  EXPECT_DOUBLE_EQ(YamlMap(parse_yaml("x: 2.5", "r"), "r", "").get_double("x", 0), 2.5);
}

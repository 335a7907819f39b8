#include <gtest/gtest.h>

#include "nnspice/common/error.hpp"
#include "nnspice/common/json_util.hpp"
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

// Issue 17, class 5: a key given twice is an error naming file:line and the key (yaml-cpp and nlohmann
// would keep one of them silently).
template <class F>
static std::string message_of(F f) {
  try { f(); } catch (const InputError& e) { return e.what(); }
  return "(no error)";
}

TEST(Yaml, DuplicateKeysNamedWithLine) {
  std::string m = message_of([] { parse_yaml("seed: 1\nepochs: 3\nseed: 2\n", "t.yaml"); });
  EXPECT_NE(m.find("t.yaml:3:1: duplicate key 'seed' (first at line 1"), std::string::npos) << m;
  m = message_of([] { parse_yaml("experiments:\n  - name: a\n    train: {epochs: 1, epochs: 2}\n", "r.yaml"); });
  EXPECT_NE(m.find("r.yaml:3:"), std::string::npos) << m;
  EXPECT_NE(m.find("duplicate key 'epochs'"), std::string::npos) << m;
  // The same key in two different mappings, and anchors/aliases, are fine.
  EXPECT_EQ(message_of([] { parse_yaml("a: {x: 1}\nb: {x: 2}\nc: &k {y: 1}\nd: *k\ne: *k\n", "ok.yaml"); }), "(no error)");
}

TEST(Json, DuplicateKeysNamedWithLine) {
  std::string m = message_of([] { parse_json("{\n  \"layers\": [4, 7, 3],\n  \"slopes\": [],\n  \"layers\": [4, 3]\n}", "c.json"); });
  EXPECT_NE(m.find("c.json:4:3: duplicate key 'layers'"), std::string::npos) << m;
  m = message_of([] { parse_json(R"({"a": {"b": 1, "c": "\"b\": 2", "b": 3}})", "n.json"); });
  EXPECT_NE(m.find("n.json:1:"), std::string::npos) << m;
  EXPECT_NE(m.find("duplicate key 'b'"), std::string::npos) << m;
  EXPECT_EQ(message_of([] { parse_json(R"({"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 1}, {"x": 2}]})", "ok.json"); }), "(no error)");
  m = message_of([] { parse_json("{\"a\": 1,", "bad.json"); });
  EXPECT_NE(m.find("bad.json: not valid JSON"), std::string::npos) << m;
}

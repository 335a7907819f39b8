// The checkpoint / stage store: round trips, and every kind of damage (one flipped bit or digit in the payload,
// the inputs hash, the version; a torn line) makes the record unusable with a reason, never a wrong value.
#include <gtest/gtest.h>

#include <filesystem>

#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/store.hpp"

namespace st = nnspice::store;

namespace {

std::string scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("nnspice_test_store_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

const st::Kind kKind{"test-record", 3};

std::uint64_t inputs_hash(double lr = 0.01) { return st::Inputs().add("layers", "4-7-3").add("lr", lr).add("seed", std::int64_t{7}).hash(); }

std::string binary_payload() {
  std::string p;
  for (int i = 0; i < 300; ++i) p += static_cast<char>((i * 37) & 0xff);
  return p;
}

}  // namespace

TEST(Fnv1a64, KnownValuesAndEveryByteCounts) {
  EXPECT_EQ(nnspice::fnv1a64(""), 1469598103934665603ULL);
  EXPECT_EQ(nnspice::hex64(0xabcULL), "0000000000000abc");
  std::string s = binary_payload();
  const auto h = nnspice::fnv1a64(s);
  for (std::size_t i = 0; i < s.size(); i += 7)
    for (int bit = 0; bit < 8; ++bit) {
      std::string t = s;
      t[i] = static_cast<char>(t[i] ^ (1 << bit));
      EXPECT_NE(nnspice::fnv1a64(t), h) << "byte " << i << " bit " << bit;
    }
}

TEST(StoreInputs, CanonicalAndSensitiveToEveryEntry) {
  EXPECT_EQ(inputs_hash(), inputs_hash());
  EXPECT_NE(inputs_hash(0.01), inputs_hash(0.010000000000000002));
  // Length prefixes: moving a character between key and value is another list.
  EXPECT_NE(st::Inputs().add("ab", "c").hash(), st::Inputs().add("a", "bc").hash());
  EXPECT_NE(st::Inputs().add("a", "b").add("c", "d").hash(), st::Inputs().add("a", "b;c=d").hash());
  const std::string dir = scratch("inputs");
  nnspice::write_file_atomic(dir + "/w.csv", "1,2\n");
  const auto a = st::Inputs().add_file("weights", dir + "/w.csv").hash();
  nnspice::write_file_atomic(dir + "/w.csv", "1,3\n");
  EXPECT_NE(st::Inputs().add_file("weights", dir + "/w.csv").hash(), a);
  EXPECT_NE(st::Inputs().add_file("weights", dir + "/none.csv").hash(), a);
}

TEST(StoreRecord, RoundTrip) {
  const std::string path = scratch("rt") + "/r.bin";
  st::write_record(path, kKind, inputs_hash(), binary_payload());
  const auto r = st::load_record(path, kKind, inputs_hash());
  ASSERT_TRUE(r) << r.reason;
  EXPECT_EQ(*r.value, binary_payload());
  EXPECT_TRUE(st::load_record(path + ".none", kKind, inputs_hash()).missing());
}

TEST(StoreRecord, EveryFlippedBitIsRefused) {
  const std::string path = scratch("flip") + "/r.bin";
  st::write_record(path, kKind, inputs_hash(), binary_payload());
  const std::string good = nnspice::read_file(path);
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ (1 << (i % 8)));
    nnspice::write_file_atomic(path, bad);
    const auto r = st::load_record(path, kKind, inputs_hash());
    EXPECT_FALSE(r) << "byte " << i << " of " << good.size();
    EXPECT_FALSE(r.reason.empty());
  }
}

TEST(StoreRecord, ForeignInputsVersionKindAndTruncationAreRefusedWithAReason) {
  const std::string path = scratch("foreign") + "/r.bin";
  st::write_record(path, kKind, inputs_hash(), binary_payload());
  auto r = st::load_record(path, kKind, inputs_hash(0.02));
  EXPECT_FALSE(r);
  EXPECT_NE(r.reason.find("other inputs"), std::string::npos) << r.reason;
  r = st::load_record(path, st::Kind{kKind.name, kKind.version + 1}, inputs_hash());
  EXPECT_NE(r.reason.find("format version 3, expected 4"), std::string::npos) << r.reason;
  r = st::load_record(path, st::Kind{"other", kKind.version}, inputs_hash());
  EXPECT_NE(r.reason.find("kind 'test-record'"), std::string::npos) << r.reason;
  const std::string good = nnspice::read_file(path);
  nnspice::write_file_atomic(path, good.substr(0, good.size() - 1));
  r = st::load_record(path, kKind, inputs_hash());
  EXPECT_NE(r.reason.find("truncated"), std::string::npos) << r.reason;
  nnspice::write_file_atomic(path, "garbage\n");
  EXPECT_FALSE(st::load_record(path, kKind, inputs_hash()));
}

TEST(StoreRecord, OnlyTheHeaderTheWriterWritesIsAccepted) {
  // sscanf alone takes "v03", "bytes=+300", doubled spaces and a trailing blank: other files than the one written.
  const std::string path = scratch("canonical") + "/r.bin";
  st::write_record(path, kKind, inputs_hash(), binary_payload());
  const std::string good = nnspice::read_file(path);
  const std::size_t nl = good.find('\n');
  const std::string head = good.substr(0, nl), payload = good.substr(nl);
  auto edited = [&](const std::string& from, const std::string& to) {
    std::string h = head;
    const auto at = h.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return h.replace(at, from.size(), to) + payload;
  };
  for (const std::string& bad : {edited(" v3 ", " v03 "), edited(" v3 ", " v+3 "), edited("bytes=300", "bytes=+300"),
                                 edited("bytes=300", "bytes=0300"), edited(" inputs=", "  inputs="), head + " " + payload}) {
    nnspice::write_file_atomic(path, bad);
    const auto r = st::load_record(path, kKind, inputs_hash());
    EXPECT_FALSE(r) << bad.substr(0, bad.find('\n'));
    EXPECT_FALSE(r.reason.empty());
  }
}

TEST(StoreJson, RoundTripIsExactAndEditedDigitsAreRefused) {
  const std::string path = scratch("json") + "/r.json";
  const nlohmann::json p = {{"accuracy", 0.9733333333333334}, {"outputs", {1e-9 / 3, 2.0000000000000004e-8, 5e-324}}, {"n", 42}};
  st::write_json_record(path, kKind, inputs_hash(), p);
  auto r = st::load_json_record(path, kKind, inputs_hash());
  ASSERT_TRUE(r) << r.reason;
  EXPECT_EQ(*r.value, p);
  EXPECT_EQ(r.value->at("outputs")[0].get<double>(), 1e-9 / 3);
  std::string text = nnspice::read_file(path);
  const auto at = text.find("0.9733333333333334");
  ASSERT_NE(at, std::string::npos);
  text[at + 5] = '4';  // one changed digit
  nnspice::write_file_atomic(path, text);
  r = st::load_json_record(path, kKind, inputs_hash());
  EXPECT_FALSE(r);
  EXPECT_NE(r.reason.find("checksum"), std::string::npos) << r.reason;
  nnspice::write_file_atomic(path, "{\"payload\": 1}");
  EXPECT_FALSE(st::load_json_record(path, kKind, inputs_hash()));
}

TEST(StoreJson, NonFiniteValuesMakeTheRecordInvalid) {
  const std::string path = scratch("nan") + "/r.json";
  st::write_json_record(path, kKind, inputs_hash(), {{"outputs", {1.0, std::nan(""), 3.0}}});
  auto r = st::load_json_record(path, kKind, inputs_hash());
  EXPECT_FALSE(r);
  EXPECT_NE(r.reason.find("outputs[1] is null"), std::string::npos) << r.reason;
  // A validator sees the payload and can refuse a range.
  st::write_json_record(path, kKind, inputs_hash(), {{"accuracy", 1.5}});
  r = st::load_json_record(path, kKind, inputs_hash(), [](const nlohmann::json& j) {
    return j.at("accuracy").get<double>() <= 1 ? std::string() : std::string("accuracy = 1.5: expected <= 1");
  });
  EXPECT_FALSE(r);
  EXPECT_NE(r.reason.find("accuracy = 1.5"), std::string::npos) << r.reason;
}

TEST(StoreLine, SealedLinesRoundTripAndTornOrEditedLinesAreRefused) {
  const nlohmann::json o = {{"k", "0123456789abcdef"}, {"c", {{1e-9 / 3, 7e-8}}}, {"n", 12}};
  const std::string line = st::seal_line(kKind, o);
  ASSERT_EQ(line.back(), '\n');
  const std::string body = line.substr(0, line.size() - 1);
  auto r = st::unseal_line(kKind, body);
  ASSERT_TRUE(r) << r.reason;
  EXPECT_EQ(*r.value, o);
  EXPECT_FALSE(st::unseal_line(kKind, body.substr(0, body.size() - 3)));  // torn
  std::string edited = body;
  edited[edited.find("7e-08")] = '8';  // one digit
  r = st::unseal_line(kKind, edited);
  EXPECT_FALSE(r);
  EXPECT_NE(r.reason.find("checksum"), std::string::npos) << r.reason;
  EXPECT_FALSE(st::unseal_line(st::Kind{kKind.name, kKind.version + 1}, body));
  EXPECT_FALSE(st::unseal_line(kKind, o.dump()));  // unsealed
  EXPECT_FALSE(st::unseal_line(kKind, st::seal_line(kKind, {{"c", std::nan("")}})));
}

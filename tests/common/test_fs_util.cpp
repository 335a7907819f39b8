// read_file refuses what is not a regular file (without blocking on a FIFO) and files above their
// kind's size limit, before reading (issue 17 class 7).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"

using namespace nnspice;

namespace {

std::string fmt_dir() { return "nnspice_test_fs_util_" + std::to_string(::getpid()); }

std::string scratch(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / fmt_dir();
  std::filesystem::create_directories(d);
  return (d / name).string();
}

std::string message_of(const std::string& path) {
  try {
    read_file(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace



TEST(ReadFile, RegularFileIsReadWhole) {
  const std::string p = scratch("a.csv");
  std::ofstream(p) << "1,2\n3,4\n";
  EXPECT_EQ(read_file(p), "1,2\n3,4\n");
}

TEST(ReadFile, FifoIsRefusedWithoutBlocking) {
  const std::string p = scratch("weights_0.npy");
  std::filesystem::remove(p);
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  const std::string m = message_of(p);  // a blocking open would hang here (ctest TIMEOUT)
  EXPECT_NE(m.find(p), std::string::npos) << m;
  EXPECT_NE(m.find("FIFO"), std::string::npos) << m;
}

TEST(ReadFile, DevicesAndDirectoriesAreRefused) {
  const std::string z = message_of("/dev/zero");
  EXPECT_NE(z.find("/dev/zero"), std::string::npos) << z;
  EXPECT_NE(z.find("character device"), std::string::npos) << z;
  const std::string d = message_of(std::filesystem::temp_directory_path().string());
  EXPECT_NE(d.find("a directory"), std::string::npos) << d;
  EXPECT_NE(message_of(scratch("missing.yaml")).find("No such file"), std::string::npos);
}

TEST(ReadFile, SizeAboveTheKindsLimitIsRefusedNamingBoth) {
  const std::string p = scratch("big.yaml");
  { std::ofstream(p) << "a: 1\n"; }
  std::filesystem::resize_file(p, (std::uintmax_t(48) << 20));  // sparse: costs no disk
  const std::string m = message_of(p);
  EXPECT_NE(m.find("big.yaml"), std::string::npos) << m;
  EXPECT_NE(m.find("50331648 bytes"), std::string::npos) << m;
  EXPECT_NE(m.find("16.0 MiB"), std::string::npos) << m;
  EXPECT_NE(m.find("YAML config"), std::string::npos) << m;
  // the same size is fine for an input file of another kind, and an explicit limit applies to any name
  const std::string q = scratch("big.npy");
  std::filesystem::rename(p, q);
  EXPECT_EQ(read_limit_for(q).max_bytes, kInputFileLimit.max_bytes);
  EXPECT_EQ(read_limit_for("x/a.wav").max_bytes, std::uint64_t(256) << 20);
  EXPECT_EQ(read_limit_for("x/a.csv").max_bytes, std::uint64_t(1) << 30);
  EXPECT_EQ(read_limit_for("x/a.yml").max_bytes, kConfigFileLimit.max_bytes);
  EXPECT_THROW(read_file(q, ReadLimit{1000, "a test file"}), InputError);
  std::filesystem::remove(q);
}

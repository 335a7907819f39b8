#include <gtest/gtest.h>

#include <filesystem>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"

using namespace nnspice;

TEST(Npy, RoundTripDouble) {
  const std::string p = testing::TempDir() + "/a.npy";
  std::vector<double> d = {1.5, -2, 3e-9, 4, 5, 6};
  write_npy(p, d, {2, 3});
  NpyArray a = read_npy(p);
  ASSERT_EQ(a.shape, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(a.data, d);
  EXPECT_EQ(a.descr, "<f8");
  EXPECT_FALSE(a.integer_dtype);
}

TEST(Npy, RoundTripInt32AndHeaderAlignment) {
  const std::string p = testing::TempDir() + "/b.npy";
  std::vector<int32_t> d = {-7, 0, 7};
  write_npy(p, d, {3});
  const std::string bytes = read_file(p);
  EXPECT_EQ((bytes.size() - 3 * 4) % 64, 0u);  // numpy aligns the data to 64 bytes
  NpyArray a = read_npy(p);
  EXPECT_TRUE(a.integer_dtype);
  EXPECT_EQ(a.data, (std::vector<double>{-7, 0, 7}));
}

TEST(Npy, FortranOrderIsTransposedToC) {
  // A 2x3 Fortran-order float64 array [[1,2,3],[4,5,6]] is stored column by column.
  std::string header = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }";
  header += std::string(64 - (10 + header.size() + 1) % 64, ' ') + "\n";
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  for (double v : {1.0, 4.0, 2.0, 5.0, 3.0, 6.0}) bytes.append(reinterpret_cast<const char*>(&v), 8);
  NpyArray a = parse_npy(bytes, "f.npy");
  EXPECT_EQ(a.data, (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(Npy, BadInputsNameTheFile) {
  EXPECT_THROW(parse_npy("hello", "x.npy"), InputError);
  const std::string p = testing::TempDir() + "/c.npy";
  write_npy(p, std::vector<double>{1, 2, 3, 4}, {4});
  std::string bytes = read_file(p);
  try {
    parse_npy(bytes.substr(0, bytes.size() - 5), "trunc.npy");
    FAIL() << "truncated file accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("trunc.npy: truncated"), std::string::npos) << e.what();
  }
  try {
    read_npy(testing::TempDir() + "/does-not-exist.npy");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("does-not-exist.npy"), std::string::npos);
  }
  std::string bad = bytes;
  bad.replace(bad.find("<f8"), 3, "<c8");
  EXPECT_THROW(parse_npy(bad, "complex.npy"), InputError);
}

// Issue 17 class 7: a header whose shape needs more bytes than the file holds is refused before the
// values are allocated (1e18 doubles would be a bad_alloc / length_error, not an InputError).
TEST(Npy, ShapeLargerThanTheFileIsRefusedBeforeAllocating) {
  for (const std::string shape : {"(1000000000, 1000000000)", "(400000000000000,)", "(100000, 100000, 100)"}) {
    std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }";
    dict += std::string(63 - (10 + dict.size()) % 64, ' ') + "\n";
    std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
    bytes += static_cast<char>(dict.size() & 0xff);
    bytes += static_cast<char>(dict.size() >> 8);
    bytes += dict + std::string(64, '\0');
    try {
      parse_npy(bytes, "huge.npy");
      FAIL() << shape << " accepted";
    } catch (const InputError& e) {
      const std::string w = e.what();
      EXPECT_TRUE(w.find("huge.npy: truncated .npy data") != std::string::npos || w.find("huge.npy: .npy shape") != std::string::npos) << w;
    }
  }
}

// Calibration values are range-checked when read (issue 17, class 4): a slope or gain that is not finite
// or beyond 1000 (slopes are normalised to mean 1, gains are current ratios) names the file, field and
// index; a duplicate key names the line. And a NaN/Inf output is never counted as a class.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../test_support.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/train/calibration.hpp"
#include "nnspice/train/trainer.hpp"

using namespace nnspice;
using namespace nnspice::train;

using nnspice::test::error_of;
using nnspice::test::scratch_dir;

static std::string write_calibration_text(const std::string& text) {
  const std::string path = scratch_dir("model_calibration", testing::UnitTest::GetInstance()->current_test_info()->name()) + "/calibration.json";
  std::ofstream(path) << text;
  return path;
}

TEST(CalibrationValues, ImplausibleSlopesAndGainsNamed) {
  struct Case {
    const char* slopes;
    const char* gain;
    const char* expect;
  };
  for (const Case& c : {Case{"[[1e308, 1]]", "1", "slopes[0][0] = 1e+308: must be a finite number >= 0 and <= 1000"},
                        Case{"[[1, 1001]]", "1", "slopes[0][1] = 1001"}, Case{"[[1, -0.5]]", "1", "slopes[0][1] = -0.5"},
                        Case{"[[1, 1]]", "1e308", "negative_gain = 1e+308: must be a finite number > 0 and <= 1000"},
                        Case{"[[1, 1]]", "[[1, 5000]]", "negative_gain[0][1] = 5000"}, Case{"[[1, 1]]", "[0]", "negative_gain[0] = 0"}}) {
    const std::string path = write_calibration_text(fmt::format(R"({{"format": "nnspice-calibration/1", "layers": [2, 1], "slopes": {}, "negative_gain": {}}})",
                                                                c.slopes, c.gain));
    const std::string m = error_of([&] { read_calibration(path); });
    EXPECT_NE(m.find(path + ": " + c.expect), std::string::npos) << c.slopes << " " << c.gain << ": " << m;
  }
  const std::string ok = write_calibration_text(R"({"format": "nnspice-calibration/1", "layers": [2, 1], "slopes": [[0, 2]], "negative_gain": 999})");
  EXPECT_EQ(read_calibration(ok).slopes[0][1], 2.0);
}

TEST(CalibrationValues, DuplicateKeyNamesLine) {
  const std::string path = write_calibration_text(
      "{\"format\": \"nnspice-calibration/1\",\n \"layers\": [2, 1],\n \"slopes\": [[1, 1]],\n \"slopes\": [[1e308, 1]]}");
  const std::string m = error_of([&] { read_calibration(path); });
  EXPECT_NE(m.find(path + ":4:2: duplicate key 'slopes'"), std::string::npos) << m;
}

TEST(CalibrationValues, NonFiniteOutputsAreFailedSamples) {
  Eigen::MatrixXf out(2, 4);
  out << 1, 0, 0, 2, 0, 1, 1, 0;
  EXPECT_EQ(non_finite_samples(out).count, 0u);
  out(1, 2) = std::numeric_limits<float>::quiet_NaN();
  out(0, 3) = std::numeric_limits<float>::infinity();
  const NonFinite bad = non_finite_samples(out);
  EXPECT_EQ(bad.count, 2u);
  EXPECT_EQ(bad.first, 2u);
}

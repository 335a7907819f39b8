// libFuzzer target: numeric CSV tables (common/csv.cpp) and CSV weight-code files through both
// weight loaders (model::read_weight_codes with layers given; train::read_weight_codes on a folder). Besides
// "only InputError", it checks
// the grammar of issue 17 class 1 on every accepted table: a header has only names (none empty, none
// starting like a number), no row is lost (rows * cols values, all finite), a UTF-8 BOM changes nothing,
// and an expected column count is enforced.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "fuzz_util.hpp"
#include "nnspice/common/csv.hpp"
#include "nnspice/model/weight_codes.hpp"
#include "nnspice/train/weights_io.hpp"

namespace {

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_csv: accepted table violates the grammar: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  const std::string text(reinterpret_cast<const char*>(data), size);
  CsvTable t;
  bool parsed = false;
  fuzz::expect_input_errors([&] {
    t = parse_csv(text, "fuzz.csv");
    parsed = true;
  });
  if (!parsed) return 0;
  check(t.rows >= 1 && t.cols >= 1 && t.data.size() == t.rows * t.cols, "rows * cols values");
  for (double v : t.data) check(std::isfinite(v), "finite values");
  check(t.header.empty() || t.header.size() == t.cols, "header has the rows' column count");
  for (const auto& h : t.header) check(!h.empty() && std::string("0123456789+-.").find(h[0]) == std::string::npos, "header names only");
  if (text.compare(0, 3, "\xEF\xBB\xBF") != 0) {
    CsvTable b;
    fuzz::expect_input_errors([&] { b = parse_csv("\xEF\xBB\xBF" + text, "fuzz.csv"); });
    check(b.rows == t.rows && b.cols == t.cols && b.header == t.header && b.data == t.data, "a BOM changes nothing");
  }
  bool wrong_count_accepted = false;
  fuzz::expect_input_errors([&] {
    parse_csv(text, "fuzz.csv", t.cols + 1);
    wrong_count_accepted = true;
  });
  check(!wrong_count_accepted, "expected column count enforced");
  if (t.rows > 100000 || t.cols > 100000) return 0;
  const std::string path = fuzz::write_scratch("csv/weights_0.csv", data, size);
  const model::Layers layers = {static_cast<int>(t.cols), static_cast<int>(t.rows)};
  fuzz::expect_input_errors([&] { model::read_weight_codes({path}, layers); });
  fuzz::expect_input_errors([&] { train::read_weight_codes(fuzz::scratch_dir() + "/csv"); });
  return 0;
}

// libFuzzer target: numeric CSV tables (common/csv.cpp) and CSV weight-code files through both
// ways of the one weight reader (model::read_weight_codes with layers given; train::read_weight_codes on a folder).
#include "fuzz_util.hpp"
#include "nnspice/common/csv.hpp"
#include "nnspice/model/weight_codes.hpp"
#include "nnspice/train/weights_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  const std::string text(reinterpret_cast<const char*>(data), size);
  CsvTable t;
  bool parsed = false;
  fuzz::expect_input_errors([&] {
    t = parse_csv(text, "fuzz.csv");
    parsed = true;
  });
  if (!parsed || t.rows < 1 || t.cols < 1 || t.rows > 100000 || t.cols > 100000) return 0;
  const std::string path = fuzz::write_scratch("csv/weights_0.csv", data, size);
  const model::Layers layers = {static_cast<int>(t.cols), static_cast<int>(t.rows)};
  fuzz::expect_input_errors([&] { model::read_weight_codes({path}, layers); });
  fuzz::expect_input_errors([&] { train::read_weight_codes(fuzz::scratch_dir() + "/csv"); });
  return 0;
}

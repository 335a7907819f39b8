// Golden files: generated netlists vs checked-in copies. Regenerate with NNSPICE_UPDATE_GOLDEN=1
// (then review the diff); a stale golden file fails the test.
#include <gtest/gtest.h>

#include <cstdlib>

#include "nnspice/common/fs_util.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"

using namespace nnspice;
using namespace nnspice::netlist;

static void check_golden(const std::string& name, const std::string& text) {
  const std::string path = std::string(NNSPICE_TEST_DATA_DIR) + "/golden/" + name;
  if (const char* u = std::getenv("NNSPICE_UPDATE_GOLDEN"); u && *u == '1') {
    write_file_atomic(path, text);
    GTEST_SKIP() << "updated " << path;
  }
  ASSERT_TRUE(file_exists(path)) << path << " missing: run with NNSPICE_UPDATE_GOLDEN=1";
  EXPECT_EQ(read_file(path), text) << "golden file " << path << " is stale or the writer changed: review, then NNSPICE_UPDATE_GOLDEN=1";
}

static Process golden_process() {
  Process p;
  p.model_card = "MODEL_CARD.lib";  // machine-independent placeholder (the builder never reads it)
  return p;
}

TEST(Golden, Network221WithChip) {
  const auto s = NetworkSpec::parse("2-2-1");
  const Process p = golden_process();
  const auto chip = mismatch::draw_chip(s, p, 7);
  WeightCodes w = random_weights(s, 5);
  BuildOptions o;
  o.input_A = {1e-8, 3e-8};
  o.comments = {"golden 2-2-1, chip seed 7, weights seed 5"};
  check_golden("net_2-2-1.cir", write_ngspice(build_network(s, w, p, &chip.delvto_V, o)));
}

TEST(Golden, Network221ParasiticsNoMismatch) {
  const auto s = NetworkSpec::parse("2-2-1");
  BuildOptions o;
  o.parasitics = true;
  o.readout = false;
  o.control = {".tran 2e-08 1.5e-05"};
  check_golden("net_2-2-1_parasitics.cir", write_ngspice(build_network(s, constant_weights(s, -3), golden_process(), nullptr, o)));
}

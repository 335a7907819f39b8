#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/netlist/process.hpp"

using namespace nnspice;
using namespace nnspice::netlist;

static const std::string kCard = std::string(NNSPICE_SOURCE_DIR) + "/data/models/mosis-tsmc018-t58f-bsim3v33.lib";

static std::string write(const std::string& name, const std::string& text) {
  const std::string p = testing::TempDir() + "/" + name;
  std::ofstream(p) << text;
  return p;
}

static std::string error_of(const std::string& path) {
  try {
    load_process(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Process, DefaultIsTable2AndPelgrom) {
  const Process p = load_process(std::string(NNSPICE_SOURCE_DIR) + "/data/process/tsmc180.yaml");
  EXPECT_EQ(p.nmos_model, "nfet");
  EXPECT_DOUBLE_EQ(p.vdd_V, 1.8);
  EXPECT_TRUE(file_exists(p.model_card));
  // circuits.md §3: 3.0 mV soma, 8.6 / 6.1 / 4.3 mV mirrors, 6.1 mV switches.
  EXPECT_NEAR(p.sigma_vt_V(DeviceRole::soma), 3.0e-3, 0.05e-3);
  EXPECT_NEAR(p.sigma_vt_V(DeviceRole::mirror_lsb), 8.6e-3, 0.05e-3);
  EXPECT_NEAR(p.sigma_vt_V(DeviceRole::mirror_mid), 6.1e-3, 0.05e-3);
  EXPECT_NEAR(p.sigma_vt_V(DeviceRole::mirror_msb), 4.3e-3, 0.05e-3);
  EXPECT_NEAR(p.sigma_vt_V(DeviceRole::sw), 6.1e-3, 0.05e-3);
  EXPECT_NO_THROW(load_process(std::string(NNSPICE_SOURCE_DIR) + "/data/process/ptm180.yaml"));
}

TEST(Process, ConventionAndClassOverrides) {
  const std::string p = write("conv.yaml", "model_card: " + kCard + "\nmismatch:\n  convention: pair_difference\n  classes: {soma: 6.6}\n");
  const Process pr = load_process(p);
  EXPECT_NEAR(pr.sigma_vt_V(DeviceRole::soma), 6.6e-9 / std::sqrt(2 * 2.7e-6 * 0.45e-6), 1e-12);
}

TEST(Process, MalformedYamlGivesLineAndColumn) {
  const std::string m = error_of(write("mal.yaml", "model_card: x\nvdd_V: [1.8\n"));
  EXPECT_TRUE(std::regex_search(m, std::regex("mal\\.yaml:[0-9]+:[0-9]+: malformed YAML"))) << m;
}

TEST(Process, UnknownKeyWrongTypeAndRangeNamed) {
  std::string m = error_of(write("unk.yaml", "model_card: " + kCard + "\nvdd: 1.8\n"));
  EXPECT_NE(m.find("unk.yaml:2:1: unknown key 'vdd'"), std::string::npos) << m;
  m = error_of(write("type.yaml", "model_card: " + kCard + "\nvdd_V: high\n"));
  EXPECT_NE(m.find("process.vdd_V = high"), std::string::npos) << m;
  m = error_of(write("range.yaml", "model_card: " + kCard + "\nvdd_V: -1\n"));
  EXPECT_NE(m.find("vdd_V = -1"), std::string::npos) << m;
}

TEST(Process, MissingCardAndMissingModelNamed) {
  std::string m = error_of(write("nocard.yaml", "model_card: /no/such/card.lib\n"));
  EXPECT_NE(m.find("model card '/no/such/card.lib' not found"), std::string::npos) << m;
  m = error_of(write("nomodel.yaml", "model_card: " + kCard + "\nnmos_model: nch\n"));
  EXPECT_NE(m.find("no model named 'nch'"), std::string::npos) << m;
}

TEST(Process, Bsim3Version31CardRejectedBecauseOfDelvto) {
  std::string card = read_file(kCard);
  card = std::regex_replace(card, std::regex("VERSION = 3\\.3\\.0"), "VERSION = 3.1");
  const std::string cp = write("v31.lib", card);
  const std::string m = error_of(write("v31.yaml", "model_card: " + cp + "\n"));
  EXPECT_NE(m.find("v31.lib:10"), std::string::npos) << m;
  EXPECT_NE(m.find("rejects the delvto"), std::string::npos) << m;
}

// The one writer of process files (a sweep's derived processes): every field reads back to the value written.
TEST(Process, WrittenYamlReadsBackToTheSameProcess) {
  Process p = load_process(write("rt_in.yaml", "name: it's a test\nmodel_card: " + kCard +
                                                    "\nvdd_V: 1.62\ntemp_C: 85\nsizes: {soma: {w_um: 3.1, l_um: 0.7}}\n"
                                                    "mismatch: {convention: pair_difference, a_vt_mV_um: 4.95, classes: {switch: 2.5}}\n"
                                                    "parasitics: {out_fF: 7, bit_fF: [1, 2, 3]}\nngspice_options: {itl1: 1000, gmin: 1e-15}\n"));
  for (auto& s : p.sizes) s.w_m *= 1.7;  // a derived process: not what any file says
  p.a_vt_V_m[2] *= 0.5;
  const Process q = load_process(write("rt_out.yaml", process_yaml(p)));
  EXPECT_EQ(q.name, p.name);
  EXPECT_EQ(q.model_card, p.model_card);
  EXPECT_EQ(q.nmos_model, p.nmos_model);
  EXPECT_DOUBLE_EQ(q.vdd_V, p.vdd_V);
  EXPECT_DOUBLE_EQ(q.temp_C, p.temp_C);
  EXPECT_EQ(q.convention, p.convention);
  for (std::size_t i = 0; i < kDeviceRoles; ++i) {
    EXPECT_DOUBLE_EQ(q.sizes[i].w_m, p.sizes[i].w_m) << i;
    EXPECT_DOUBLE_EQ(q.sizes[i].l_m, p.sizes[i].l_m) << i;
    EXPECT_DOUBLE_EQ(q.a_vt_V_m[i], p.a_vt_V_m[i]) << i;
  }
  EXPECT_DOUBLE_EQ(q.c_out_F, p.c_out_F);
  EXPECT_DOUBLE_EQ(q.c_bit_F[2], p.c_bit_F[2]);
  EXPECT_EQ(q.ngspice_options, p.ngspice_options);
  EXPECT_DOUBLE_EQ(q.sigma_vt_V(DeviceRole::mirror_mid), p.sigma_vt_V(DeviceRole::mirror_mid));
}

TEST(Process, WeightBitsAreReadCheckedAndWritten) {
  const std::string ok = write("bits4.yaml", "name: b4\nmodel_card: " + kCard + "\nweight_bits: 4\n");
  const Process p = load_process(ok);
  EXPECT_EQ(p.weight_bits, 4);
  EXPECT_EQ(p.max_code(), 15);
  const std::string again = write("bits4_again.yaml", process_yaml(p));
  EXPECT_EQ(load_process(again).weight_bits, 4);
  EXPECT_EQ(load_process(std::string(NNSPICE_SOURCE_DIR) + "/data/process/tsmc180.yaml").weight_bits, 3);
  for (const char* bad : {"0", "7", "-1", "2.5", "four"}) {
    const std::string path = write("bits_bad.yaml", "name: b\nmodel_card: " + kCard + "\nweight_bits: " + bad + "\n");
    const std::string e = error_of(path);
    EXPECT_NE(e.find("bits_bad.yaml:3"), std::string::npos) << bad << ": " << e;
    EXPECT_NE(e.find("weight_bits"), std::string::npos) << bad << ": " << e;
  }
  // 6 bits of a wide LSB mirror: the MSB mirror (32 x W) must stay below the size bound.
  const std::string wide = write("bits_wide.yaml", "name: b\nmodel_card: " + kCard + "\nweight_bits: 6\nsizes: {mirror_lsb: {w_um: 40, l_um: 0.54}}\n");
  EXPECT_NE(error_of(wide).find("sizes.mirror_lsb.w_um x 2^5"), std::string::npos) << error_of(wide);
}

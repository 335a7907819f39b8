#include <gtest/gtest.h>
#include <fmt/format.h>

#include <map>
#include <set>

#include "nnspice/common/error.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"

using namespace nnspice;
using namespace nnspice::netlist;

static Process test_process() {
  Process p;
  p.model_card = "/nonexistent/card.lib";  // the builder does not read the card
  return p;
}

TEST(Builder, TransistorOrderMatchesChipEnumeration) {
  const auto s = NetworkSpec::parse("3-4-2");
  const auto c = build_network(s, random_weights(s, 1), test_process(), nullptr, {});
  std::vector<std::string> fets;
  for (auto& e : c.elements)
    if (e.kind == ElementKind::mosfet) fets.push_back(e.name);
  const auto sites = enumerate_transistors(s);
  ASSERT_EQ(fets.size(), sites.size());
  for (size_t i = 0; i < fets.size(); ++i) EXPECT_EQ(fets[i], sites[i].name) << i;
}

TEST(Builder, SynapseBitsAndSignFollowTheCode) {
  const auto s = NetworkSpec::parse("1-1");
  for (int code = -7; code <= 7; ++code) {
    WeightCodes w = constant_weights(s, code);
    const auto c = build_network(s, w, test_process(), nullptr, {});
    std::map<std::string, const Element*> by;
    for (auto& e : c.elements) by[e.name] = &e;
    const int mag = std::abs(code);
    EXPECT_EQ(by["MW0_0_0_16"]->nodes[1], code < 0 ? "vdd" : "0") << code;  // sign: VDD = negative branch on
    EXPECT_EQ(by["MW0_0_0_17"]->nodes[1], code < 0 ? "vdd" : "0") << code;
    EXPECT_EQ(by["MW0_0_0_18"]->nodes[1], (mag & 1) ? "vdd" : "0") << code;  // LSB
    EXPECT_EQ(by["MW0_0_0_19"]->nodes[1], (mag & 2) ? "vdd" : "0") << code;
    EXPECT_EQ(by["MW0_0_0_20"]->nodes[1], (mag & 4) ? "vdd" : "0") << code;  // MSB
    EXPECT_EQ(by["MW0_0_0_20"]->nodes[2], "x1_0");                            // output onto the post-neuron's sum node
    EXPECT_EQ(by["MW0_0_0_12"]->w_m, 1.08e-6);                                 // MSB mirror
    EXPECT_EQ(by["MW0_0_0_10"]->w_m, 0.27e-6);                                 // LSB mirror
  }
}

TEST(Builder, ParasiticsSumToElevenFemtofaradsPerSynapse) {
  const auto s = NetworkSpec::parse("3-4-2");
  BuildOptions o;
  o.parasitics = true;
  const auto c = build_network(s, random_weights(s, 1), test_process(), nullptr, o);
  double total = 0;
  for (auto& e : c.elements)
    if (e.kind == ElementKind::capacitor) total += e.value;
  EXPECT_NEAR(total, 11e-15 * s.n_synapses(), 1e-21);
}

TEST(Builder, BadInputsAreInputErrors) {
  const auto s = NetworkSpec::parse("2-2-1");
  const auto w = random_weights(s, 1);
  BuildOptions o;
  o.input_A = {1e-8};
  EXPECT_THROW(build_network(s, w, test_process(), nullptr, o), InputError);
  o.input_A = {1e-8, -1e-9};
  EXPECT_THROW(build_network(s, w, test_process(), nullptr, o), InputError);
  std::vector<double> dv(5, 0.0);
  EXPECT_THROW(build_network(s, w, test_process(), &dv, {}), InputError);
  EXPECT_THROW(build_network(NetworkSpec::parse("2-3-1"), w, test_process(), nullptr, {}), InputError);
}

TEST(Writer, ReaderRoundTripIsExact) {
  const auto s = NetworkSpec::parse("4-7-3");
  Process p = test_process();
  const auto chip = mismatch::draw_chip(s, p, 11);
  BuildOptions o;
  o.parasitics = true;
  o.input_A = {1e-8, 2.5e-8, 0, 3.25e-7};
  const auto c = build_network(s, random_weights(s, 2), p, &chip.delvto_V, o);
  const std::string text = write_ngspice(c);
  const auto back = read_ngspice(text, "rt.cir");
  EXPECT_EQ(write_ngspice(back), text);
  ASSERT_EQ(back.elements.size(), c.elements.size());
  for (size_t i = 0; i < c.elements.size(); ++i) EXPECT_EQ(back.elements[i].delvto_V, c.elements[i].delvto_V);
  EXPECT_THROW(read_ngspice("t\nM1 a b c\n", "bad.cir"), InputError);
  EXPECT_THROW(read_ngspice("t\nR1 a b 1k\n", "suffix.cir"), InputError);  // scale suffixes are never written
}

TEST(Reader, WaveformStartsAfterTheDcValue) {
  // Fuzz finding (docs/reliability.md): the waveform was searched for by its text from the first " DC ",
  // so "V1 a 0 DC 1 DC 2" read "DC 1 DC 2" as the waveform and every write/read added another copy.
  const auto c = read_ngspice("t\nV1 a 0 DC 1.5 DC 1.5 PULSE(0 1 0 1e-9 1e-9 1e-6 2e-6)\nI1 0 b DC 1e-9 PWL(0 0 1e-6 1e-9)\n", "w.cir");
  ASSERT_EQ(c.elements.size(), 2U);
  EXPECT_EQ(c.elements[0].waveform, "DC 1.5 PULSE(0 1 0 1e-9 1e-9 1e-6 2e-6)");
  EXPECT_EQ(c.elements[1].waveform, "PWL(0 0 1e-6 1e-9)");
  const std::string once = write_ngspice(c);
  EXPECT_EQ(write_ngspice(read_ngspice(once, "again.cir")), once);
  // Tabs separate tokens like spaces; an .include without a file is an error, not the whole line as a path.
  const auto tabs = read_ngspice("t\n.include\t\"/x/card.lib\"\nR1\ta\t0\t1e3\n", "tabs.cir");
  EXPECT_EQ(tabs.includes, (std::vector<std::string>{"/x/card.lib"}));
  EXPECT_THROW(read_ngspice("t\n.include\n", "inc.cir"), InputError);
}

// Issue 19: B magnitude bits (1..6). Bit m has an nFET and a pFET mirror of W = W_lsb * 2^m (3 bits: the table's
// lsb / mid / msb sizes), the two sign switches, and a bit switch; 3B + 2 transistors in the chip's order.
TEST(Builder, WeightBitsGiveBinaryScaledMirrorsAndTheirSwitches) {
  for (int B : {1, 2, 4, 6}) {
    Process p = test_process();
    p.weight_bits = B;
    p.validate();
    const auto s = NetworkSpec::parse("2-3").for_process(p);
    ASSERT_EQ(s.max_code(), (1 << B) - 1);
    ASSERT_EQ(s.synapse_fets(), 3 * B + 2);
    const auto sites = enumerate_transistors(s);
    EXPECT_EQ(sites.size(), count_transistors(s));
    EXPECT_EQ(count_transistors(s), 2 * 5 + 3 * 2 + static_cast<std::size_t>(3 * B + 2) * 6) << B;
    for (int code : {s.max_code(), -s.max_code(), 1, -1, 0, (1 << (B - 1))}) {
      const auto c = build_network(s, constant_weights(s, code), p, nullptr, {});
      std::vector<std::string> fets;
      std::map<std::string, const Element*> by;
      for (auto& e : c.elements)
        if (e.kind == ElementKind::mosfet) fets.push_back(e.name), by[e.name] = &e;
      ASSERT_EQ(fets.size(), sites.size());
      for (std::size_t i = 0; i < fets.size(); ++i) ASSERT_EQ(fets[i], sites[i].name) << B << " " << i;
      const int mag = std::abs(code);
      for (int m = 0; m < B; ++m) {
        const auto* n = by.at(fmt::format("MW0_0_0_{}", 10 + m));
        const auto* q = by.at(fmt::format("MW0_0_0_{}", 10 + B + m));
        const auto* sw = by.at(fmt::format("MW0_0_0_{}", 12 + 2 * B + m));
        EXPECT_DOUBLE_EQ(n->w_m, 0.27e-6 * (1 << m)) << B << " bit " << m;
        EXPECT_DOUBLE_EQ(q->w_m, n->w_m);
        EXPECT_EQ(n->model, "nfet");
        EXPECT_EQ(q->model, "pfet");
        EXPECT_EQ(sw->nodes[1], (mag >> m) & 1 ? "vdd" : "0") << B << " code " << code << " bit " << m;
        EXPECT_EQ(sw->nodes[0], n->nodes[0]);  // the bit switch carries its mirrors' node b_m
      }
      EXPECT_EQ(by.at(fmt::format("MW0_0_0_{}", 10 + 2 * B))->nodes[1], code < 0 ? "vdd" : "0");
      EXPECT_EQ(by.at(fmt::format("MW0_0_0_{}", 11 + 2 * B))->nodes[1], code < 0 ? "vdd" : "0");
    }
    // Codes beyond the bits are refused.
    EXPECT_THROW(constant_weights(s, s.max_code() + 1), InputError);
    WeightCodes w = constant_weights(s, 0);
    w[0].codes[0] = static_cast<std::int8_t>(s.max_code() + 1);
    EXPECT_THROW(build_network(s, w, p, nullptr, {}), InputError);
    // A network of other bits than the process's is refused.
    EXPECT_THROW(build_network(NetworkSpec::parse("2-3"), constant_weights(NetworkSpec::parse("2-3"), 1), p, nullptr, {}), InputError);
  }
}

TEST(Builder, ThreeBitsAreTheTableSizes) {
  // With the default 3 bits the process's mirror_mid / mirror_msb sizes are used as given (not 2x / 4x LSB).
  Process p = test_process();
  p.sizes[static_cast<std::size_t>(DeviceRole::mirror_mid)].w_m = 0.6e-6;
  EXPECT_DOUBLE_EQ(p.mirror_size(1).w_m, 0.6e-6);
  p.weight_bits = 4;
  EXPECT_DOUBLE_EQ(p.mirror_size(1).w_m, 0.54e-6);
  EXPECT_DOUBLE_EQ(p.mirror_size(3).w_m, 2.16e-6);
  EXPECT_DOUBLE_EQ(p.c_bit(0), p.c_bit_F[0]);
  EXPECT_DOUBLE_EQ(p.c_bit(3), p.c_bit_F[2]);
  EXPECT_DOUBLE_EQ(p.c_bit(1), p.c_bit_F[1]);
}

TEST(Chip, WeightBitsRoundTripAndMismatchAreRefused) {
  Process p = test_process();
  p.weight_bits = 5;
  const auto s = NetworkSpec::parse("3-2").for_process(p);
  const auto chip = mismatch::draw_chip(s, p, 11);
  ASSERT_EQ(chip.delvto_V.size(), count_transistors(s));
  const std::string path = testing::TempDir() + "/chip5.csv";
  mismatch::save_chip(chip, path);
  const auto back = mismatch::load_chip(path);
  EXPECT_EQ(back.spec.weight_bits, 5);
  EXPECT_EQ(back.delvto_V, chip.delvto_V);
  EXPECT_EQ(back.names, chip.names);
  const auto s3 = NetworkSpec::parse("3-2");
  try {
    mismatch::load_chip(path, &s3);
    ADD_FAILURE() << "a 5-bit chip loaded as a 3-bit network";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("chip was drawn with 5-bit synapses, but the network 3-2 has 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mismatch::draw_chip(s3, p, 11), InputError);
  // The mirrors' shifts scale as A_VT / sqrt(W L) of their bit: bit 4 (16x LSB) has a quarter of the LSB's sigma.
  EXPECT_NEAR(p.sigma_mirror_vt_V(4), p.sigma_mirror_vt_V(0) / 4, 1e-12);
}

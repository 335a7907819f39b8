// Netlist text safety (issue 17, class 2): hostile strings through every entry point that reaches SPICE text
// (the circuit writer's fields, the process loader, the builder) end in InputError naming the field and the
// value; nothing is written. Valid tokens still pass.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "../test_support.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/process.hpp"
#include "nnspice/netlist/spice_text.hpp"
#include "nnspice/netlist/writer.hpp"

using namespace nnspice;
using namespace nnspice::netlist;

namespace {

const std::string kCard = std::string(NNSPICE_SOURCE_DIR) + "/data/models/mosis-tsmc018-t58f-bsim3v33.lib";
const std::string kInject = "1000\n.control\nshell touch /tmp/pwned\n.endc";

/// Hostile strings of every kind: line breaks, comment starters, card starters, whitespace, control bytes.
const std::vector<std::string> kHostile = {kInject, "x\n.control", "x\r\nshell ls", "x y", "x\ty", ".control", "*x", "x;y", "x$y",
                                           "", "x\x01y", "+x", "x\x7fy"};

using nnspice::test::error_of;

Circuit small_circuit() {
  Circuit c;
  c.title = "t";
  c.comments = {"a comment"};
  c.includes = {kCard};
  c.options = {{"itl1", "1000"}, {"method", "gear"}, {"gmin", "1e-14"}, {"abstol", "10p"}};
  c.add_vsource("VDD", "vdd", "0", 1.8);
  c.add_mosfet("M0", "vdd", "g", "0", "0", "nfet", 1e-6, 1e-6, 0);
  c.add_isource("IIN0", "0", "g", 1e-8);
  c.control = {".op", ".save vdd#branch", ".tran 1e-9 1e-6"};
  return c;
}

/// Both writers refuse `c`; the message names `field` and shows the value escaped (no raw newline).
void expect_refused(const Circuit& c, const std::string& field, const std::string& what) {
  const std::string m = error_of([&] { write_ngspice(c); });
  EXPECT_NE(m.find(field), std::string::npos) << what << ": " << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << what << ": the value must be escaped: " << m;
  EXPECT_NE(error_of([&] { ngspice_lines(c); }), "(no error)") << what;
}

}  // namespace

TEST(SpiceText, GrammarAcceptsTheTokensNnspiceWrites) {
  for (const char* n : {"M0_1_2_3", "vdd", "0", "w0_1_2sn", "VX0_1", "nch.1", "x1:a", "b[3]"}) EXPECT_EQ(spice_text::why_not_name(n), "") << n;
  for (const char* v : {"1000", "1e-14", "-3", "2.5E+3", ".5", "10u", "1meg", "gear", "TRAP", "1mil"})
    EXPECT_EQ(spice_text::why_not_option_value(v), "") << v;
  for (const char* c : {".op", ".tran 1e-9 1e-6 0 1e-9", ".save vdd#branch v(x0_1)", ".dc VE0 0 1 0.1"}) EXPECT_EQ(spice_text::why_not_card(c), "") << c;
  EXPECT_EQ(spice_text::why_not_expression("PWL(0 1e-9 1e-6 2e-9)"), "");
  EXPECT_EQ(spice_text::why_not_expression("PWL(" + std::string(20000, '1') + ")"), "") << "layer-wise drivers are long PWL lines";
  EXPECT_NO_THROW(write_ngspice(small_circuit()));
}

TEST(SpiceText, GrammarRefusesHostileTokens) {
  for (const auto& s : kHostile) {
    EXPECT_NE(spice_text::why_not_name(s), "") << spice_text::quote(s);
    EXPECT_NE(spice_text::why_not_option_value(s), "") << spice_text::quote(s);
    EXPECT_NE(spice_text::why_not_option_key(s), "") << spice_text::quote(s);
  }
  for (const char* v : {"1e", "1e-14x", "reltol", "1;2", "0x10", "nan", "inf", "1 2"}) EXPECT_NE(spice_text::why_not_option_value(v), "") << v;
  for (const char* c : {".control", ".endc", "shell touch /tmp/x", ".include /etc/passwd", ".lib x", ".options reltol=1", "op", ".op ; x",
                        ".op\n.control", "* .op"})
    EXPECT_NE(spice_text::why_not_card(c), "") << c;
  for (const char* l : {"a\nb", "a\rb", "a\x1b[2J"}) EXPECT_NE(spice_text::why_not_line_text(l), "") << l;
  EXPECT_NE(spice_text::why_not_path("a\".include b"), "");
  EXPECT_EQ(spice_text::quote("1000\n.control"), "\"1000\\n.control\"");
}

TEST(SpiceText, EveryCircuitFieldIsChecked) {
  for (const auto& h : kHostile) {
    const std::string q = spice_text::quote(h);
    auto with = [&](const std::function<void(Circuit&)>& edit) {
      Circuit c = small_circuit();
      edit(c);
      return c;
    };
    if (!spice_text::why_not_line_text(h).empty()) {
      expect_refused(with([&](Circuit& c) { c.title = h; }), "circuit.title", q);
      expect_refused(with([&](Circuit& c) { c.comments.push_back(h); }), "circuit.comments[1]", q);
      expect_refused(with([&](Circuit& c) { c.includes.push_back(h); }), "circuit.includes[1]", q);
    }
    expect_refused(with([&](Circuit& c) { c.options.emplace_back("reltol", h); }), "circuit.options.reltol", q);
    expect_refused(with([&](Circuit& c) { c.options.emplace_back(h, "1"); }), "circuit.options", q);
    expect_refused(with([&](Circuit& c) { c.elements[1].name = h; }), "circuit.elements[1].name", q);
    for (int n = 0; n < 4; ++n) expect_refused(with([&](Circuit& c) { c.elements[1].nodes[static_cast<std::size_t>(n)] = h; }), fmt::format(".nodes[{}]", n), q);
    expect_refused(with([&](Circuit& c) { c.elements[1].model = h; }), "(M0).model", q);
    expect_refused(with([&](Circuit& c) { c.control.push_back(h); }), "circuit.control[3]", q);
  }
  for (const std::string w : {"PWL(0 0 1 1)\n.control", "PWL(0 0 1 1) ; x", "PWL(0 0 $x)", ".control", "*PWL", "+ 1", "PWL(0\r0)"}) {
    Circuit c = small_circuit();
    c.elements[2].waveform = w;
    expect_refused(c, "(IIN0).waveform", w);
  }
  // The element letter must match its kind (a "V" name on a resistor would change what the line means).
  expect_refused([] {
    Circuit c = small_circuit();
    c.elements[1].name = "X0";
    return c;
  }(), "must start with 'M'", "letter");
  expect_refused([] {
    Circuit c = small_circuit();
    c.elements[0].value = std::nan("");
    return c;
  }(), "(VDD).value", "nan");
}

TEST(SpiceText, ProcessYamlIsCheckedAtLoadTimeWithFileAndLine) {
  auto load_error = [](const std::string& name, const std::string& body) {
    const std::string p = testing::TempDir() + "/" + name;
    std::ofstream(p) << "model_card: " << kCard << "\n" << body;
    return error_of([&] { load_process(p); });
  };
  std::string m = load_error("inj_opt.yaml", "ngspice_options:\n  reltol: \"1000\\n.control\\nshell touch /tmp/pwned\\n.endc\"\n");
  EXPECT_NE(m.find("inj_opt.yaml:3:3: process.ngspice_options.reltol = \"1000\\n.control\\nshell touch /tmp/pwned\\n.endc\": not a number or known keyword"),
            std::string::npos)
      << m;
  m = load_error("inj_key.yaml", "ngspice_options:\n  \"reltol=1\\n.control\": 1\n");
  EXPECT_NE(m.find("inj_key.yaml:3:3: process.ngspice_options = \"reltol=1\\n.control\": not an identifier"), std::string::npos) << m;
  m = load_error("inj_name.yaml", "name: \"p\\n.control\\nshell touch /tmp/pwned\\n.endc\"\n");
  EXPECT_NE(m.find("inj_name.yaml:2:1: process.name = \"p\\n.control"), std::string::npos) << m;
  EXPECT_NE(m.find("line break"), std::string::npos) << m;
  m = load_error("inj_model.yaml", "nmos_model: \"nfet\\n.control\"\n");
  EXPECT_NE(m.find("inj_model.yaml:2:1: process.nmos_model = \"nfet\\n.control\""), std::string::npos) << m;
  m = load_error("inj_pmodel.yaml", "pmos_model: \"pfet x\"\n");
  EXPECT_NE(m.find("inj_pmodel.yaml:2:1: process.pmos_model = \"pfet x\": contains whitespace"), std::string::npos) << m;
  // good values still load
  const std::string ok = testing::TempDir() + "/ok_opts.yaml";
  std::ofstream(ok) << "model_card: " << kCard << "\nngspice_options: {itl1: 1000, gmin: 1e-15, method: gear}\n";
  EXPECT_NO_THROW(load_process(ok));
}

TEST(SpiceText, BuilderOutputIsCheckedEvenForProcessesMadeInCode) {
  Process p;
  p.model_card = kCard;
  p.ngspice_options = {{"reltol", kInject}};
  const auto spec = NetworkSpec::parse("2-2");
  std::string m = error_of([&] { p.validate(); });
  EXPECT_NE(m.find("process.ngspice_options.reltol = \"1000\\n.control"), std::string::npos) << m;
  const Circuit c = build_network(spec, random_weights(spec, 1), p, nullptr, {});
  m = error_of([&] { write_ngspice(c); });
  EXPECT_NE(m.find("circuit.options.reltol = \"1000\\n.control\\nshell touch /tmp/pwned\\n.endc\": not a number or known keyword"), std::string::npos) << m;
  BuildOptions bo;
  bo.comments = {"chip from " + kInject};
  p.ngspice_options.clear();
  m = error_of([&] { write_ngspice(build_network(spec, random_weights(spec, 1), p, nullptr, bo)); });
  EXPECT_NE(m.find("circuit.comments[0]"), std::string::npos) << m;
  bo.comments.clear();
  bo.control = {".op", "shell touch /tmp/pwned"};
  m = error_of([&] { write_ngspice(build_network(spec, random_weights(spec, 1), p, nullptr, bo)); });
  EXPECT_NE(m.find("circuit.control[1] = \"shell touch /tmp/pwned\": not an analysis or output card"), std::string::npos) << m;
  p.nmos_model = "nfet\n.control";
  m = error_of([&] { write_ngspice(circuit_for_process(p, "t")); });
  EXPECT_EQ(m, "(no error)") << "no MOSFET uses the model yet";
  m = error_of([&] { write_ngspice(build_network(spec, random_weights(spec, 1), p, nullptr, {})); });
  EXPECT_NE(m.find(".model = \"nfet\\n.control\""), std::string::npos) << m;
}

// Classification of ngspice's output lines. Every line below was printed by Debian's libngspice 39.3
// (captured with the driver's SendChar callback); docs/ngspice.md lists where each comes from.
#include <gtest/gtest.h>

#include "ngspice_text.hpp"

namespace nnspice::sim::detail {
namespace {

TEST(NgspiceText, StripsStreamPrefix) {
  bool err = false;
  EXPECT_EQ(strip_stream_prefix("stderr Error: circuit not parsed.", &err), "Error: circuit not parsed.");
  EXPECT_TRUE(err);
  EXPECT_EQ(strip_stream_prefix("stdout Circuit: divider", &err), "Circuit: divider");
  EXPECT_FALSE(err);
  EXPECT_EQ(strip_stream_prefix(" Reference value :  7.40015e-08", &err), " Reference value :  7.40015e-08");
  EXPECT_EQ(strip_stream_prefix("stdout", &err), "");
}

TEST(NgspiceText, ErrorsAsPrinted) {
  for (const char* line : {
           "Error: unknown subckt: x1 in 0 foo",
           "Error on line 3 or its substitute:",
           "could not find a valid modelname",
           "Error: Could not find include file /nonexistent/x.lib",
           "unknown parameter (delvto) ",
           "Error: circuit not parsed.",
           "Error: Transient op failed, timestep too small",
           "doAnalyses: OP:  Timestep too small; cause unrecorded.",
           "op simulation(s) aborted",
           "doAnalyses: TRAN:  Timestep too small; time = 1e-21, timestep = 1.25e-22: cause unrecorded.",
           "Fatal error: DC Transfer Function: Voltage source, current source, or resistor named \"V1\" is not in "
           "the circuit",
           "Error: no such device or model name nothere",
           "Error: no such parameter foo.",
           "foobar: no such command available in ngspice",
           "Error: there aren't any circuits loaded.",
           "Error: no circuit loaded",
           "ERROR: fatal error in ngspice, exit(1)",
           "Fatal: Tox = -1e-09 is not positive.",
       }) {
    EXPECT_EQ(classify_line(line), LineKind::error) << line;
  }
}

TEST(NgspiceText, WarningsOnTheWayToAConvergedAnswerAreNotErrors) {
  // Printed by an OP that ngspice finally solved (gmin/source stepping failed, transient op succeeded).
  for (const char* line : {
           "Warning: singular matrix:  check node a",
           "Warning: Dynamic gmin stepping failed",
           "Warning: True gmin stepping failed",
           "Supplies reduced to   0.1000% Supplies reduced to   0.0000% Warning: source stepping failed",
           "Note: Transient op started",
           "Note: Transient op finished successfully",
       }) {
    EXPECT_NE(classify_line(line), LineKind::error) << line;
  }
  EXPECT_EQ(classify_line("Warning: source stepping failed"), LineKind::context);
  EXPECT_EQ(classify_line("Warning: singular matrix:  check node v1#branch"), LineKind::context);
}

TEST(NgspiceText, HarmlessModelWarningsArePlain) {
  for (const char* line : {
           "Warning: Pd = 0 is less than W.",
           "Warning: Ps = 0 is less than W.",
           "Checking parameters for BSIM 3.3 model nfet",
           "unrecognized parameter (tref) - ignored",
           "unrecognized parameter (binflag) - ignored",
           "Warning: Model issue on line 5 :",
           "Note: No compatibility mode selected!",
           "Circuit: divider",
           "Doing analysis at TEMP = 27.000000 and TNOM = 27.000000",
           "No. of Data Rows : 1",
           "Note: v1: dc value used for op instead of transient time=0 value.",
           "Warning: r1: resistance to low, set to 1 mOhm",
           "error1 a 0 b 0 2",  // a VCVS named "error1" echoed in a message is not an error
       }) {
    EXPECT_EQ(classify_line(line), LineKind::plain) << line;
  }
}

TEST(NgspiceText, ErrorBlock) {
  EXPECT_TRUE(starts_error_block("Error on line 5 or its substitute:"));
  EXPECT_FALSE(starts_error_block("Error: circuit not parsed."));
}

TEST(NgspiceText, ParsesIterationsAndVersion) {
  EXPECT_EQ(parse_total_iterations({"Total elapsed time (seconds) = 0.007 ", "Total iterations = 1043"}), 1043);
  EXPECT_EQ(parse_total_iterations({"Note: no resource usage information for 'totiter',"}), -1);
  EXPECT_EQ(parse_version({"******", "** ngspice-39 shared library", "** Creation Date: Sun Feb  5"}), "ngspice-39");
  EXPECT_EQ(parse_version({"nothing"}), "");
}

TEST(NgspiceText, MakesRelativeIncludesAbsolute) {
  EXPECT_EQ(absolutize_include(".include models/a.lib", "/home/u"), ".include /home/u/models/a.lib");
  EXPECT_EQ(absolutize_include(".INC 'a b.lib'", "/w"), ".INC '/w/a b.lib'");
  EXPECT_EQ(absolutize_include(".lib cards.lib tt", "/w/"), ".lib /w/cards.lib tt");
  EXPECT_EQ(absolutize_include(".include /abs/a.lib", "/w"), ".include /abs/a.lib");
  EXPECT_EQ(absolutize_include("R1 a b 1e3", "/w"), "R1 a b 1e3");
}

}  // namespace
}  // namespace nnspice::sim::detail

// The analog circuits themselves, through libngspice (circuits.md §2, ngspice-notes.md "Circuit sanity"):
// single-synapse transfer for all 15 codes, soma transfer, subtraction by negative weights, and
// a non-converging circuit reported without killing the process.
#include <gtest/gtest.h>

#include <cmath>

#include "nnspice/mismatch/chip.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"
#include "nnspice/sim/session.hpp"

using namespace nnspice;
using namespace nnspice::netlist;

static Process proc() { return load_process(std::string(NNSPICE_SOURCE_DIR) + "/data/process/tsmc180.yaml"); }

// Output-neuron input current of a 1-1 network (no mismatch) for input current i_in and code k.
static double one_synapse(sim::Session& s, int code, double i_in) {
  const auto spec = NetworkSpec::parse("1-1");
  BuildOptions o;
  o.input_A = {i_in};
  s.load(ngspice_lines(build_network(spec, constant_weights(spec, code), proc(), nullptr, o)));
  return s.op().vectors.current(names::probe(1, 0))[0];
}

TEST(Circuits, SingleSynapseTransferAllCodes) {
  sim::Session s;
  const double i_in = 10e-9;
  double prev = 0;
  for (int code = 0; code <= 7; ++code) {
    const double y = one_synapse(s, code, i_in);
    std::printf("code %+d: I_out / I_in = %.3f\n", code, y / i_in);
    if (code == 0) {
      EXPECT_LT(std::abs(y), 1e-3 * i_in) << "code 0 must be (nearly) off";
    } else {
      EXPECT_GT(y, prev) << "magnitude must grow with the code: code " << code;  // monotone
      EXPECT_GT(y / i_in, 0.1);
      EXPECT_LT(y / i_in, 2.0);
    }
    prev = y;
  }
  // Negative codes alone rectify: the post-neuron's input current stays ~0.
  for (int code = -7; code < 0; ++code) {
    const double y = one_synapse(s, code, i_in);
    EXPECT_LT(std::abs(y), 1e-2 * i_in) << "negative code " << code << " must rectify to ~0, got " << y;
  }
}

TEST(Circuits, NegativeWeightsSubtract) {
  // 2-1 network: input 0 through +7, input 1 through -k; the output falls linearly with input 1.
  sim::Session s;
  const auto spec = NetworkSpec::parse("2-1");
  auto run = [&](int neg, double i1) {
    WeightCodes w = constant_weights(spec, 0);
    w[0].codes = {7, static_cast<std::int8_t>(neg)};
    BuildOptions o;
    o.input_A = {40e-9, i1};
    s.load(ngspice_lines(build_network(spec, w, proc(), nullptr, o)));
    return s.op().vectors.current(names::probe(1, 0))[0];
  };
  const double pos_only = run(0, 10e-9);
  const double y5 = run(-4, 5e-9), y10 = run(-4, 10e-9);
  EXPECT_LT(y5, pos_only);
  EXPECT_LT(y10, y5);
  const double d1 = pos_only - y5, d2 = y5 - y10;
  EXPECT_NEAR(d2 / d1, 1.0, 0.25) << "subtraction should be roughly linear: " << d1 << " then " << d2;
  std::printf("pos only %.3f nA, -4 x 5 nA: %.3f nA, -4 x 10 nA: %.3f nA (negative unit gain %.2f of positive)\n", pos_only * 1e9, y5 * 1e9,
              y10 * 1e9, d1 / 5e-9 / (run(4, 0) * 0 + one_synapse(s, 4, 5e-9) / 5e-9));
}

TEST(Circuits, SomaTransferIsRectifyingAndMonotone) {
  // The soma's Vn/Vp follow its input current monotonically (Vn up, Vp down), log-like in subthreshold.
  sim::Session s;
  const auto spec = NetworkSpec::parse("1-1");
  double prev_vn = -1, prev_vp = 10;
  for (double i_in : {1e-10, 1e-9, 1e-8, 1e-7}) {
    BuildOptions o;
    o.input_A = {i_in};
    s.load(ngspice_lines(build_network(spec, constant_weights(spec, 7), proc(), nullptr, o)));
    const auto r = s.op();
    const double vn = r.vectors.at("v(n0_0)")[0], vp = r.vectors.at("v(p0_0)")[0];
    EXPECT_GT(vn, prev_vn);
    EXPECT_LT(vp, prev_vp);
    EXPECT_NEAR(r.vectors.current(names::probe(0, 0))[0], i_in, 1e-6 * i_in);  // the probe sees the input current
    prev_vn = vn;
    prev_vp = vp;
  }
  // A decade of current moves Vn by roughly n*UT*ln(10) = 60..110 mV in weak inversion.
}

TEST(Circuits, NonConvergingCircuitIsReportedAndTheSessionSurvives) {
  // A 4-7-3 network with a second, conflicting supply source across VDD: no operating point exists
  // (singular matrix through gmin and source stepping). The error says so; the same session then
  // simulates the next circuit.
  sim::Session s;
  const auto spec = NetworkSpec::parse("4-7-3");
  BuildOptions o;
  o.input_A = {1e-7, 2e-7, 3e-7, 5e-8};
  auto c = build_network(spec, random_weights(spec, 1), proc(), nullptr, o);
  c.add_vsource("VBAD", "vdd", "0", 1.0);
  s.load(ngspice_lines(c));
  try {
    s.op();
    FAIL() << "expected a convergence failure";
  } catch (const sim::SimError& e) {
    EXPECT_NE(std::string(e.what()).find("did not converge"), std::string::npos) << e.what();
  }
  EXPECT_GT(one_synapse(s, 7, 10e-9), 1e-9);
}

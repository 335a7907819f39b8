#include "nnspice/dnpu/spice.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/netlist/spice_text.hpp"

namespace nnspice::dnpu {

std::string spice_name(const std::string& s) {
  std::string out;
  for (char c : s) out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : '_');
  if (out.empty() || !std::isalpha(static_cast<unsigned char>(out[0]))) out = "d" + out;
  return out;
}

namespace {

std::string act_expr(Activation a, const std::string& x) {
  switch (a) {
    case Activation::relu: return fmt::format("uramp({})", x);
    case Activation::elu: return fmt::format("(({0}) > 0 ? ({0}) : exp({0}) - 1)", x);
    case Activation::tanh: return fmt::format("tanh({})", x);
    case Activation::sigmoid: return fmt::format("1 / (1 + exp(-({})))", x);
    case Activation::hardtanh: return fmt::format("min(max({}, -1), 1)", x);
    case Activation::leaky_relu: return fmt::format("(({0}) > 0 ? ({0}) : 0.01 * ({0}))", x);
  }
  return x;
}

}  // namespace

std::string dnpu_subcircuit(const SurrogateModel& m, const SpiceElementOptions& o) {
  m.validate("surrogate");
  netlist::spice_text::require_name("subcircuit name", o.subckt_name);
  if (!std::isalpha(static_cast<unsigned char>(o.subckt_name[0])))
    netlist::spice_text::require("subcircuit name", o.subckt_name, "must start with a letter");
  // float32 weights print exactly with 9 significant digits; float64 with 17
  const int digits = m.dtype == ScalarType::float64 ? 16 : 8;
  auto num = [&](double x) { return fmt::format("{:.{}e}", x, digits); };
  const std::size_t n_in = m.n_inputs();
  std::string s;
  const std::string source = m.source.dump();  // JSON: control characters in strings are escaped
  netlist::spice_text::require_line_text("surrogate source", source);
  s += fmt::format("* DNPU surrogate as a behavioural subcircuit (nnspice dnpu spice)\n* source: {}\n", source);
  std::vector<std::string> shape{std::to_string(n_in)};
  for (const auto& W : m.weights) shape.push_back(std::to_string(W.rows()));
  s += fmt::format("* network {} ({} activation), output current = raw x {} nA, pushed into `out`\n", fmt::format("{}", fmt::join(shape, "-")),
                   activation_name(m.activation), m.amplification);
  if (!m.voltage_ranges_V.empty()) {
    s += "* electrode ranges (V):";
    for (std::size_t e = 0; e < n_in; ++e) s += fmt::format(" e{} [{}, {}]", e, m.voltage_ranges_V[e][0], m.voltage_ranges_V[e][1]);
    s += "\n";
  }
  s += ".subckt " + o.subckt_name;
  for (std::size_t e = 0; e < n_in; ++e) s += fmt::format(" e{}", e);
  s += " out\n";
  std::vector<std::string> prev;
  for (std::size_t e = 0; e < n_in; ++e) prev.push_back(fmt::format("V(e{})", e));
  auto affine = [&](std::size_t l, Eigen::Index j) {
    std::string e = num(m.biases[l](j));
    const auto& W = m.weights[l];
    for (Eigen::Index i = 0; i < W.cols(); ++i) {
      if ((i % o.terms_per_line) == 0) e += "\n+ ";
      const double w = W(j, i);
      e += fmt::format(" {} {}*{}", w < 0 ? "-" : "+", num(std::abs(w)), prev[static_cast<std::size_t>(i)]);
    }
    return e;
  };
  for (std::size_t l = 0; l + 1 < m.n_layers(); ++l) {
    std::vector<std::string> cur;
    for (Eigen::Index j = 0; j < m.weights[l].rows(); ++j) {
      const std::string node = fmt::format("h{}_{}", l, j);
      s += fmt::format("B{} {} 0 V = {}\n", node, node, act_expr(m.activation, affine(l, j)));
      cur.push_back(fmt::format("V({})", node));
    }
    prev = std::move(cur);
  }
  std::string y = fmt::format("{} * ({}\n+ )", num(m.amplification * 1e-9), affine(m.n_layers() - 1, 0));
  if (std::isfinite(m.clip_min_nA)) y = fmt::format("max({}, {})", y, num(m.clip_min_nA * 1e-9));
  if (std::isfinite(m.clip_max_nA)) y = fmt::format("min({}, {})", y, num(m.clip_max_nA * 1e-9));
  s += fmt::format("Bout 0 out I = {}\n", y);
  s += ".ends " + o.subckt_name + "\n";
  return s;
}

}  // namespace nnspice::dnpu

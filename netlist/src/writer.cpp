#include <fmt/format.h>

#include "nnspice/netlist/writer.hpp"

#include <cctype>
#include <cmath>

#include "nnspice/common/error.hpp"

#include "nnspice/netlist/spice_text.hpp"

namespace nnspice::netlist {
namespace {

char kind_letter(ElementKind k) {
  switch (k) {
    case ElementKind::mosfet: return 'M';
    case ElementKind::vsource: return 'V';
    case ElementKind::isource: return 'I';
    case ElementKind::capacitor: return 'C';
    case ElementKind::resistor: return 'R';
  }
  return '?';
}

template <typename Out>
void emit_element(Out& out, const Element& e) {
  switch (e.kind) {
    case ElementKind::mosfet:
      fmt::format_to(out, "{} {} {} {} {} {} W={} L={}", e.name, e.nodes[0], e.nodes[1], e.nodes[2], e.nodes[3], e.model, e.w_m, e.l_m);
      if (e.delvto_V != 0) fmt::format_to(out, " delvto={}", e.delvto_V);
      break;
    case ElementKind::vsource:
    case ElementKind::isource:
      fmt::format_to(out, "{} {} {} DC {}", e.name, e.nodes[0], e.nodes[1], e.value);
      if (!e.waveform.empty()) fmt::format_to(out, " {}", e.waveform);
      break;
    case ElementKind::capacitor:
    case ElementKind::resistor:
      fmt::format_to(out, "{} {} {} {}", e.name, e.nodes[0], e.nodes[1], e.value);
      break;
  }
}

}  // namespace

void check_text_safety(const Circuit& c) {
  using namespace spice_text;
  require_line_text("circuit.title", c.title);
  for (std::size_t k = 0; k < c.comments.size(); ++k) require_line_text(fmt::format("circuit.comments[{}]", k), c.comments[k]);
  for (std::size_t k = 0; k < c.includes.size(); ++k) require(fmt::format("circuit.includes[{}]", k), c.includes[k], why_not_path(c.includes[k]));
  for (const auto& [key, value] : c.options) require_option("circuit.options", key, value);
  auto finite = [](const std::string& field, double v) {
    if (!std::isfinite(v)) throw InputError(fmt::format("{} = {}: not a finite number", field, v));
  };
  finite("circuit.temp_C", c.temp_C);
  for (std::size_t k = 0; k < c.elements.size(); ++k) {
    const Element& e = c.elements[k];
    const std::string at = fmt::format("circuit.elements[{}]", k);
    require_name(at + ".name", e.name);
    const char want = kind_letter(e.kind);
    if (std::toupper(static_cast<unsigned char>(e.name[0])) != want)
      require(at + ".name", e.name, fmt::format("must start with '{}' (the SPICE letter of its element kind)", want));
    const int n_nodes = e.kind == ElementKind::mosfet ? 4 : 2;
    for (int i = 0; i < n_nodes; ++i) require_name(fmt::format("{} ({}).nodes[{}]", at, e.name, i), e.nodes[static_cast<std::size_t>(i)]);
    if (e.kind == ElementKind::mosfet) require_name(fmt::format("{} ({}).model", at, e.name), e.model);
    finite(fmt::format("{} ({}).value", at, e.name), e.value);
    if (e.kind == ElementKind::mosfet) {
      finite(fmt::format("{} ({}).w_m", at, e.name), e.w_m);
      finite(fmt::format("{} ({}).l_m", at, e.name), e.l_m);
      finite(fmt::format("{} ({}).delvto_V", at, e.name), e.delvto_V);
    }
    if (!e.waveform.empty()) require(fmt::format("{} ({}).waveform", at, e.name), e.waveform, why_not_expression(e.waveform));
  }
  for (std::size_t k = 0; k < c.control.size(); ++k) require(fmt::format("circuit.control[{}]", k), c.control[k], why_not_card(c.control[k]));
}

namespace {

template <typename Sink>
void emit(const Circuit& c, Sink&& line) {
  check_text_safety(c);
  fmt::memory_buffer b;
  auto out = std::back_inserter(b);
  auto flush = [&] {
    line(std::string_view(b.data(), b.size()));
    b.clear();
  };
  fmt::format_to(out, "{}", c.title.empty() ? "nnspice circuit" : c.title);
  flush();
  for (const auto& com : c.comments) {
    fmt::format_to(out, "* {}", com);
    flush();
  }
  for (const auto& inc : c.includes) {
    fmt::format_to(out, ".include \"{}\"", inc);
    flush();
  }
  fmt::format_to(out, ".temp {}", c.temp_C);
  flush();
  for (const auto& [k, v] : c.options) {
    fmt::format_to(out, ".options {}={}", k, v);
    flush();
  }
  for (const auto& e : c.elements) {
    emit_element(out, e);
    flush();
  }
  for (const auto& card : c.control) {
    fmt::format_to(out, "{}", card);
    flush();
  }
  fmt::format_to(out, ".end");
  flush();
}

}  // namespace

std::string write_ngspice(const Circuit& circuit) {
  std::string text;
  text.reserve(circuit.elements.size() * 72 + 1024);
  emit(circuit, [&](std::string_view l) {
    text.append(l);
    text.push_back('\n');
  });
  return text;
}

std::vector<std::string> ngspice_lines(const Circuit& circuit) {
  std::vector<std::string> lines;
  lines.reserve(circuit.elements.size() + 16);
  emit(circuit, [&](std::string_view l) { lines.emplace_back(l); });
  return lines;
}

}  // namespace nnspice::netlist

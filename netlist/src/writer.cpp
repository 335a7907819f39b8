#include <fmt/format.h>

#include "nnspice/netlist/writer.hpp"

namespace nnspice::netlist {
namespace {

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

template <typename Sink>
void emit(const Circuit& c, Sink&& line) {
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

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>

#include "nnspice/common/error.hpp"
#include "nnspice/netlist/writer.hpp"

namespace nnspice::netlist {
namespace {

// Whitespace-separated tokens of a line and the offset of each in the line.
std::vector<std::string> tokens(const std::string& line, std::vector<std::size_t>* offsets = nullptr) {
  std::vector<std::string> t;
  std::size_t i = 0;
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (i < line.size()) {
    while (i < line.size() && space(line[i])) ++i;
    if (i == line.size()) break;
    const std::size_t start = i;
    while (i < line.size() && !space(line[i])) ++i;
    t.push_back(line.substr(start, i - start));
    if (offsets) offsets->push_back(start);
  }
  return t;
}

double number(const std::string& s, const SourceLocation& at) {
  double v;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v))
    throw InputError(at, fmt::format("'{}' is not a plain number (nnspice netlists use exponent notation)", s));
  return v;
}

}  // namespace

Circuit read_ngspice(const std::string& text, const std::string& name) {
  Circuit c;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  bool ended = false;
  while (std::getline(in, line)) {
    ++lineno;
    const SourceLocation at{name, lineno, 1, line};
    if (lineno == 1) {
      c.title = line;
      continue;
    }
    if (line.empty()) continue;
    if (ended) throw InputError(at, "text after .end");
    if (line[0] == '*') {
      c.comments.push_back(line.size() > 2 ? line.substr(2) : "");
      continue;
    }
    std::vector<std::size_t> at_offset;
    auto t = tokens(line, &at_offset);
    if (t.empty()) continue;
    const std::string& head = t[0];
    if (head == ".include") {
      if (t.size() < 2) throw InputError(at, ".include needs a file name");
      std::string p = line.substr(at_offset[1]);
      if (p.size() >= 2 && p.front() == '"' && p.back() == '"') p = p.substr(1, p.size() - 2);
      c.includes.push_back(p);
    } else if (head == ".temp" && t.size() == 2) {
      c.temp_C = number(t[1], at);
    } else if (head == ".options" && t.size() == 2 && t[1].find('=') != std::string::npos) {
      const auto eq = t[1].find('=');
      c.options.emplace_back(t[1].substr(0, eq), t[1].substr(eq + 1));
    } else if (head == ".end") {
      ended = true;
    } else if (head[0] == '.') {
      c.control.push_back(line);
    } else {
      const char k = static_cast<char>(std::toupper(static_cast<unsigned char>(head[0])));
      if (k == 'M') {
        if (t.size() < 8) throw InputError(at, "MOSFET line needs: name d g s b model W=.. L=..");
        double w = NAN, l = NAN, dv = 0;
        for (size_t i = 6; i < t.size(); ++i) {
          const auto eq = t[i].find('=');
          if (eq == std::string::npos) throw InputError(at, fmt::format("unexpected MOSFET parameter '{}'", t[i]));
          const std::string key = t[i].substr(0, eq);
          const double v = number(t[i].substr(eq + 1), at);
          if (key == "W") w = v;
          else if (key == "L") l = v;
          else if (key == "delvto") dv = v;
          else throw InputError(at, fmt::format("unknown MOSFET parameter '{}'", key));
        }
        if (std::isnan(w) || std::isnan(l)) throw InputError(at, "MOSFET line lacks W= or L=");
        c.add_mosfet(t[0], t[1], t[2], t[3], t[4], t[5], w, l, dv);
      } else if (k == 'V' || k == 'I') {
        if (t.size() < 5 || t[3] != "DC") throw InputError(at, "source line needs: name p n DC value");
        if (k == 'V') c.add_vsource(t[0], t[1], t[2], number(t[4], at));
        else c.add_isource(t[0], t[1], t[2], number(t[4], at));
        if (t.size() > 5) c.elements.back().waveform = line.substr(at_offset[5]);  // e.g. PULSE(...) after the DC value
      } else if (k == 'C' || k == 'R') {
        if (t.size() != 4) throw InputError(at, "two-terminal line needs: name p n value");
        if (k == 'C') c.add_capacitor(t[0], t[1], t[2], number(t[3], at));
        else c.add_resistor(t[0], t[1], t[2], number(t[3], at));
      } else {
        throw InputError(at, fmt::format("unsupported element '{}'", head));
      }
    }
  }
  if (lineno == 0) throw InputError(fmt::format("{}: empty netlist", name));
  return c;
}

}  // namespace nnspice::netlist

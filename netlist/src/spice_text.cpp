#include "nnspice/netlist/spice_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "nnspice/common/error.hpp"

namespace nnspice::netlist::spice_text {
namespace {

constexpr std::size_t kMaxName = 256;
constexpr std::size_t kMaxLine = 4096;

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// Why `s` is not one line of text of at most `max` characters ("" = it is); tabs are allowed.
std::string why_not_line(std::string_view s, std::size_t max = kMaxLine) {
  if (s.size() > max) return fmt::format("longer than {} characters", max);
  for (char c : s)
    if (is_control(c) && c != '\t')
      return c == '\n' || c == '\r' ? "contains a line break (would start a new netlist line)" : "contains a control character";
  return {};
}

/// Length of the SPICE number at the start of `s` (0 = none): [+-]? digits [. digits] [e[+-]digits].
std::size_t number_prefix(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    std::size_t ed = 0;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j, ++ed;
    if (ed > 0) i = j;
  }
  return i;
}

}  // namespace

std::string why_not_name(std::string_view s) {
  if (s.empty()) return "empty (a SPICE name needs at least one character)";
  if (s.size() > kMaxName) return fmt::format("longer than {} characters", kMaxName);
  if (!is_alnum(s[0]) && s[0] != '_') return "must start with a letter, digit or '_' (not '.', '*', '+', ';', '$' or a blank)";
  static constexpr std::string_view extra = "_#:-+[]<>./!";
  for (char c : s) {
    if (is_alnum(c) || extra.find(c) != std::string_view::npos) continue;
    if (std::isspace(static_cast<unsigned char>(c))) return "contains whitespace or a line break (a SPICE name is one token)";
    if (is_control(c)) return "contains a control character";
    return fmt::format("contains '{}' (allowed: letters, digits and {})", c, extra);
  }
  return {};
}

std::string why_not_option_key(std::string_view s) {
  if (s.empty()) return "empty (an option name is an identifier)";
  if (!std::isalpha(static_cast<unsigned char>(s[0]))) return "not an identifier [A-Za-z][A-Za-z0-9_]*";
  for (char c : s)
    if (!is_alnum(c) && c != '_') return "not an identifier [A-Za-z][A-Za-z0-9_]*";
  if (s.size() > 64) return "longer than 64 characters";
  return {};
}

std::string why_not_option_value(std::string_view s) {
  static constexpr std::array<std::string_view, 9> keywords{"gear", "trap", "trapezoidal", "true", "false", "yes", "no", "on", "off"};
  const std::string l = lower(s);
  if (std::find(keywords.begin(), keywords.end(), l) != keywords.end()) return {};
  const std::size_t n = number_prefix(l);
  if (n > 0) {
    static constexpr std::array<std::string_view, 11> suffixes{"", "t", "g", "meg", "k", "m", "u", "n", "p", "f", "mil"};
    const std::string_view rest = std::string_view(l).substr(n);
    if (std::find(suffixes.begin(), suffixes.end(), rest) != suffixes.end()) return {};
  }
  return fmt::format("not a number or known keyword ({})", fmt::join(keywords, ", "));
}

std::string why_not_line_text(std::string_view s) { return why_not_line(s); }

std::string why_not_path(std::string_view s) {
  if (s.empty()) return "empty";
  if (auto w = why_not_line(s); !w.empty()) return w;
  if (s.find('"') != std::string_view::npos) return "contains '\"' (would end the quoted file name)";
  return {};
}

std::string why_not_expression(std::string_view s) {
  if (auto w = why_not_line(s, std::string_view::npos); !w.empty()) return w;  // PWL sources of long transients are long lines
  const auto first = s.find_first_not_of(" \t");
  if (first != std::string_view::npos && (s[first] == '.' || s[first] == '*' || s[first] == '+'))
    return fmt::format("starts with '{}' (would read as a card, comment or continuation)", s[first]);
  for (char c : s)
    if (c == ';' || c == '$') return fmt::format("contains '{}' (starts a comment in ngspice)", c);
  return {};
}

std::string why_not_card(std::string_view s) {
  static constexpr std::array<std::string_view, 10> cards{".op", ".tran", ".dc", ".save", ".ic", ".nodeset", ".print", ".probe", ".meas", ".measure"};
  if (auto w = why_not_line(s, std::string_view::npos); !w.empty()) return w;  // .save of many vectors
  const auto end = s.find_first_of(" \t");
  const std::string head = lower(s.substr(0, end));
  if (std::find(cards.begin(), cards.end(), head) == cards.end())
    return fmt::format("not an analysis or output card (allowed: {})", fmt::join(cards, " "));
  if (end == std::string_view::npos) return {};
  const std::string_view rest = s.substr(end);
  for (char c : rest)
    if (c == ';' || c == '$') return fmt::format("contains '{}' (starts a comment in ngspice)", c);
  return {};
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  std::size_t shown = 0;
  for (char c : s) {
    if (shown++ == 60) {
      out += "…";
      break;
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (is_control(c)) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        else out.push_back(c);
    }
  }
  out += "\"";
  return out;
}

void require(std::string_view field, std::string_view value, const std::string& why) {
  if (!why.empty()) throw InputError(fmt::format("{} = {}: {}", field, quote(value), why));
}

}  // namespace nnspice::netlist::spice_text

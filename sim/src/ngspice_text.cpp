// Classification of libngspice's text output; the patterns are documented in docs/ngspice.md.
#include "ngspice_text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

namespace nnspice::sim::detail {

namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

std::string_view trim_left(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) != 0) ++i;
  return s.substr(i);
}

// A failure wherever it appears in a (non-warning) line.
constexpr std::array<std::string_view, 17> kErrorPhrases = {
    "fatal error",
    "fatal:",  // a model's parameter check: "Fatal: Tox = -1e-09 is not positive." (then "Fatal error(s) detected")
    "simulation(s) aborted",
    "timestep too small",
    "no circuit loaded",
    "aren't any circuits loaded",
    "circuit not parsed",
    "could not find",
    "unknown model",
    "unknown parameter",
    "unknown subckt",
    "no such device",
    "no such parameter",
    "no such command",
    "no such vector",
    "is not in the circuit",
    "iteration limit reached",
};

// Explains a failure; harmless on its own (ngspice prints these on the way to a converged answer).
constexpr std::array<std::string_view, 7> kContextPhrases = {
    "singular",
    "stepping failed",
    "gmin step failed",
    "transient op",
    "can't find model",
    "solution failed",
    "iteration limit",
};

}  // namespace

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

bool contains_ci(std::string_view s, std::string_view needle) {
  if (needle.empty()) return true;
  if (s.size() < needle.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= s.size(); ++i) {
    if (starts_with_ci(s.substr(i), needle)) return true;
  }
  return false;
}

std::string strip_stream_prefix(std::string_view raw, bool* is_stderr) {
  bool err = false;
  if (raw.substr(0, 7) == "stdout ") {
    raw.remove_prefix(7);
  } else if (raw.substr(0, 7) == "stderr ") {
    raw.remove_prefix(7);
    err = true;
  } else if (raw == "stdout" || raw == "stderr") {
    err = raw == "stderr";
    raw = {};
  }
  if (is_stderr != nullptr) *is_stderr = err;
  while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r')) raw.remove_suffix(1);
  return std::string(raw);
}

LineKind classify_line(std::string_view line) {
  const std::string_view s = trim_left(line);
  if (s.empty()) return LineKind::plain;
  const bool is_warning = starts_with_ci(s, "warning") || starts_with_ci(s, "note");
  if (!is_warning) {
    // "Error:", "Error on line 3 ...", "ERROR: fatal error in ngspice" -- but not a netlist line that
    // happens to start with "error1 ..." (an E element named rror1).
    if (starts_with_ci(s, "error") && (s.size() == 5 || !is_word_char(s[5]))) return LineKind::error;
    if (starts_with_ci(s, "doanalyses:")) return LineKind::error;
    for (std::string_view p : kErrorPhrases) {
      if (contains_ci(s, p)) return LineKind::error;
    }
  }
  for (std::string_view p : kContextPhrases) {
    if (contains_ci(s, p)) return LineKind::context;
  }
  return LineKind::plain;
}

bool starts_error_block(std::string_view line) {
  return starts_with_ci(trim_left(line), "error on line");
}

long parse_total_iterations(const std::vector<std::string>& lines) {
  constexpr std::string_view key = "Total iterations";
  for (const std::string& l : lines) {
    const std::size_t at = l.find(key);
    if (at == std::string::npos) continue;
    const std::size_t eq = l.find('=', at + key.size());
    if (eq == std::string::npos) continue;
    char* end = nullptr;
    const long v = std::strtol(l.c_str() + eq + 1, &end, 10);
    if (end != l.c_str() + eq + 1) return v;
  }
  return -1;
}

std::string parse_version(const std::vector<std::string>& lines) {
  for (const std::string& l : lines) {
    const std::size_t at = l.find("ngspice-");
    if (at == std::string::npos) continue;
    std::size_t end = at + 8;
    while (end < l.size() && !std::isspace(static_cast<unsigned char>(l[end]))) ++end;
    if (end > at + 8 && std::isdigit(static_cast<unsigned char>(l[at + 8])) != 0) return l.substr(at, end - at);
  }
  return {};
}

std::string first_word_lower(std::string_view line) {
  const std::string_view s = trim_left(line);
  std::size_t end = 0;
  while (end < s.size() && std::isspace(static_cast<unsigned char>(s[end])) == 0) ++end;
  return to_lower(s.substr(0, end));
}

std::string absolutize_include(const std::string& line, const std::string& base_dir) {
  const std::string word = first_word_lower(line);
  if (word != ".include" && word != ".inc" && word != ".lib") return line;
  // Locate the path token after the keyword.
  std::size_t pos = line.find_first_not_of(" \t");
  pos += word.size();
  pos = line.find_first_not_of(" \t", pos);
  if (pos == std::string::npos) return line;
  char quote = 0;
  if (line[pos] == '"' || line[pos] == '\'') quote = line[pos++];
  std::size_t end = pos;
  if (quote != 0) {
    end = line.find(quote, pos);
    if (end == std::string::npos) return line;
  } else {
    while (end < line.size() && std::isspace(static_cast<unsigned char>(line[end])) == 0) ++end;
  }
  const std::string path = line.substr(pos, end - pos);
  if (path.empty() || path[0] == '/' || path[0] == '~' || base_dir.empty()) return line;
  std::string abs = base_dir;
  if (abs.back() != '/') abs += '/';
  abs += path;
  return line.substr(0, pos) + abs + line.substr(end);
}

}  // namespace nnspice::sim::detail

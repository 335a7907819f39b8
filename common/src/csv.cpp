#include "nnspice/common/csv.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"

namespace nnspice {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool parse_double(const std::string& s, double& v) {
  if (s.empty()) return false;
  const char* b = s.data();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::pair<std::string, int>> split(const std::string& line) {
  std::vector<std::pair<std::string, int>> out;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    std::string raw = line.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t lead = raw.find_first_not_of(" \t");
    out.emplace_back(trim(raw), static_cast<int>(start + (lead == std::string::npos ? 0 : lead)) + 1);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

CsvTable parse_csv(const std::string& text, const std::string& name) {
  CsvTable t;
  size_t pos = 0;
  int lineno = 0;
  bool first_content = true;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string tl = trim(line);
    if (tl.empty() || tl[0] == '#') continue;
    auto fields = split(line);
    if (first_content) {
      first_content = false;
      double dummy;
      bool numeric = true;
      for (auto& f : fields) numeric = numeric && parse_double(f.first, dummy);
      if (!numeric) {
        for (auto& f : fields) t.header.push_back(f.first);
        t.cols = fields.size();
        continue;
      }
    }
    if (t.cols == 0) t.cols = fields.size();
    if (fields.size() != t.cols)
      throw InputError(SourceLocation{name, lineno, 0, line}, fmt::format("row has {} fields, expected {}", fields.size(), t.cols));
    for (auto& [f, col] : fields) {
      double v;
      if (!parse_double(f, v) || !std::isfinite(v))
        throw InputError(SourceLocation{name, lineno, col, line}, fmt::format("'{}' is not a finite number", f));
      t.data.push_back(v);
    }
    ++t.rows;
  }
  if (t.rows == 0) throw InputError(fmt::format("{}: no data rows", name));
  return t;
}

CsvTable read_csv(const std::string& path) { return parse_csv(read_file(path), path); }

void write_csv(const std::string& path, const std::vector<std::string>& header, const std::vector<double>& data, size_t cols) {
  fmt::memory_buffer buf;
  for (size_t i = 0; i < header.size(); ++i) fmt::format_to(std::back_inserter(buf), "{}{}", i ? "," : "", header[i]);
  if (!header.empty()) buf.push_back('\n');
  for (size_t i = 0; i < data.size(); ++i) {
    fmt::format_to(std::back_inserter(buf), "{}", data[i]);
    buf.push_back((i + 1) % cols == 0 ? '\n' : ',');
  }
  write_file_atomic(path, fmt::to_string(buf));
}

}  // namespace nnspice

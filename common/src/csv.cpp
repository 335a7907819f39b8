#include "nnspice/common/csv.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <string_view>

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

CsvTable parse_csv(const std::string& text, const std::string& name, std::size_t expected_cols) {
  CsvTable t;
  // A UTF-8 byte-order mark (spreadsheet exports) is not part of the first field.
  size_t pos = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  int lineno = 0;
  bool first_content = true;
  int header_line = 0;
  auto count_error = [&](const SourceLocation& at, const char* what, size_t n) {
    throw InputError(at, fmt::format("{} has {} columns, expected {}", what, n, expected_cols));
  };
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
      // The grammar: a header line is one where NO field is a number (column names); a line where some
      // fields are numbers is a data row, and every field of it must be one (a mixed first row is a broken
      // data row, never a header: taking it as one would silently drop a sample).
      first_content = false;
      double dummy;
      size_t numbers = 0;
      for (auto& f : fields) numbers += parse_double(f.first, dummy);
      if (numbers == 0) {
        for (auto& [f, col] : fields) {
          if (f.empty()) throw InputError(SourceLocation{name, lineno, col, line}, "header line has an empty column name");
          // A name must not look like a mistyped number ("1x", "-2e-8y"): in a one-column file that
          // line would otherwise be taken as a header and the sample dropped.
          if (std::string_view("0123456789+-.").find(f[0]) != std::string_view::npos)
            throw InputError(SourceLocation{name, lineno, col, line},
                             fmt::format("'{}' is not a number, and not a column name (names start with a letter)", f));
          t.header.push_back(f);
        }
        if (expected_cols != 0 && fields.size() != expected_cols) count_error(SourceLocation{name, lineno, 0, line}, "header line", fields.size());
        t.cols = fields.size();
        header_line = lineno;
        continue;
      }
    }
    if (t.cols == 0) {
      if (expected_cols != 0 && fields.size() != expected_cols) count_error(SourceLocation{name, lineno, 0, line}, "row", fields.size());
      t.cols = fields.size();
    }
    if (fields.size() != t.cols)
      throw InputError(SourceLocation{name, lineno, 0, line},
                       fmt::format("row has {} fields, expected {} ({})", fields.size(), t.cols,
                                   t.header.empty() ? "as the first row" : fmt::format("the header line {} names", header_line)));
    for (size_t k = 0; k < fields.size(); ++k) {
      const auto& [f, col] = fields[k];
      double v;
      if (!parse_double(f, v))
        throw InputError(SourceLocation{name, lineno, col, line},
                         fmt::format("field {} = '{}' is not a number (a data row holds only numbers; a header line only names)", k + 1, f));
      if (!std::isfinite(v))
        throw InputError(SourceLocation{name, lineno, col, line}, fmt::format("field {} = '{}' is not a finite number", k + 1, f));
      t.data.push_back(v);
    }
    ++t.rows;
  }
  if (t.rows == 0) throw InputError(fmt::format("{}: no data rows", name));
  return t;
}

CsvTable read_csv(const std::string& path, std::size_t expected_cols) { return parse_csv(read_file(path), path, expected_cols); }

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

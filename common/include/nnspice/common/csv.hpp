// Numeric CSV tables: comma-separated, '#' comment lines and blank lines ignored, a UTF-8 BOM stripped.
// Grammar: an optional header line first, in which NO field is a number (column names, none empty);
// every other line is a data row of finite numbers only. A first line mixing numbers and names is a
// broken data row (an error), never a header. Errors name file:line:col, the field and its value.
#pragma once

#include <string>
#include <vector>

namespace nnspice {

struct CsvTable {
  std::vector<std::string> header;  ///< empty when the file has no header line
  std::size_t rows = 0, cols = 0;
  std::vector<double> data;         ///< row-major, rows*cols values
  double at(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
};

/// `expected_cols` != 0: the header (if any) and the rows must have that many columns (error at its line).
CsvTable read_csv(const std::string& path, std::size_t expected_cols = 0);
CsvTable parse_csv(const std::string& text, const std::string& name, std::size_t expected_cols = 0);
/// Writes a table with a header line; values in shortest round-trip form.
void write_csv(const std::string& path, const std::vector<std::string>& header, const std::vector<double>& data, std::size_t cols);

}  // namespace nnspice

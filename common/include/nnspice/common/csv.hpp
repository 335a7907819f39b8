// Numeric CSV tables: comma-separated, optional header line (first line with a non-numeric
// field), '#' comment lines, blank lines ignored. Errors name file:line:col and the field.
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

CsvTable read_csv(const std::string& path);
CsvTable parse_csv(const std::string& text, const std::string& name);
/// Writes a table with a header line; values in shortest round-trip form.
void write_csv(const std::string& path, const std::vector<std::string>& header, const std::vector<double>& data, std::size_t cols);

}  // namespace nnspice

#include "nnspice/common/error.hpp"

#include <fmt/format.h>

#include <fstream>

namespace nnspice {

InputError::InputError(const std::string& message) : std::runtime_error(message) {}

InputError::InputError(const SourceLocation& where, const std::string& message)
    : std::runtime_error(format_location(where, message)), where_(where) {}

std::string format_location(const SourceLocation& where, const std::string& message) {
  std::string out;
  if (!where.file.empty()) {
    out += where.file;
    if (where.line > 0) out += fmt::format(":{}", where.line);
    if (where.line > 0 && where.col > 0) out += fmt::format(":{}", where.col);
    out += ": ";
  }
  out += message;
  if (!where.line_text.empty()) {
    out += "\n  " + where.line_text;
    if (where.col > 0) out += "\n  " + std::string(static_cast<size_t>(where.col - 1), ' ') + "^";
  }
  return out;
}

std::string read_line_of_file(const std::string& file, int line) {
  std::ifstream in(file);
  std::string text;
  for (int i = 1; in && std::getline(in, text); ++i)
    if (i == line) return text;
  return {};
}

}  // namespace nnspice

#include "nnspice/common/json_util.hpp"

#include <fmt/format.h>

#include <map>
#include <set>
#include <vector>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"

namespace nnspice {
namespace {

// Line and column (1-based) of the n-th (0-based) occurrence of `key` as an object key in `text`: the
// key's JSON spelling followed by optional whitespace and ':'. The parser's key events come in text order,
// and such a spelling cannot occur inside another string (its quotes would be escaped there).
SourceLocation key_location(const std::string& text, const std::string& name, const std::string& key, int n) {
  const std::string quoted = nlohmann::json(key).dump();
  std::size_t pos = 0;
  for (int seen = 0;; ++pos) {
    pos = text.find(quoted, pos);
    if (pos == std::string::npos) return SourceLocation{name, 0, 0, {}};
    std::size_t after = pos + quoted.size();
    while (after < text.size() && (text[after] == ' ' || text[after] == '\t' || text[after] == '\n' || text[after] == '\r')) ++after;
    if (after < text.size() && text[after] == ':' && seen++ == n) break;
  }
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < pos; ++i)
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  const std::size_t line_end = text.find('\n', line_start);
  return SourceLocation{name, line, static_cast<int>(pos - line_start) + 1,
                        text.substr(line_start, line_end == std::string::npos ? std::string::npos : line_end - line_start)};
}

}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& name) {
  std::vector<std::set<std::string>> open;  // keys of every object being parsed
  std::map<std::string, int> key_events;     // key -> occurrences so far (for the location)
  auto check = [&](int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) {
      open.emplace_back();
    } else if (event == E::object_end) {
      if (!open.empty()) open.pop_back();
    } else if (event == E::key && !open.empty()) {
      const std::string key = parsed.get<std::string>();
      const int n = key_events[key]++;
      if (!open.back().insert(key).second) {
        const SourceLocation where = key_location(text, name, key, n);
        throw InputError(where, fmt::format("duplicate key '{}' in a JSON object (each key once)", key));
      }
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text, check);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number like 1e99999
    throw InputError(fmt::format("{}: not valid JSON: {}", name, e.what()));
  }
}

nlohmann::json load_json_file(const std::string& path) { return parse_json(read_file(path), path); }

}  // namespace nnspice

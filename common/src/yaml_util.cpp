#include "nnspice/common/yaml_util.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "nnspice/common/fs_util.hpp"

namespace nnspice {
namespace {

std::string line_of(const std::string& text, int line) {
  int cur = 1;
  size_t pos = 0;
  while (cur < line && pos != std::string::npos) {
    pos = text.find('\n', pos);
    if (pos != std::string::npos) ++pos;
    ++cur;
  }
  if (pos == std::string::npos || pos > text.size()) return {};
  size_t end = text.find('\n', pos);
  return text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

// yaml-cpp keeps the first of two equal keys of a mapping silently: every mapping (nested ones too) is
// checked. Iterative, and each node visited once (an alias shares its anchor's mark), so deep or
// alias-bombed documents cost no stack and no exponential walk.
void check_duplicate_keys(const YAML::Node& root, const std::string& text, const std::string& name) {
  std::vector<YAML::Node> todo{root};
  std::set<int> visited;
  while (!todo.empty()) {
    const YAML::Node n = todo.back();
    todo.pop_back();
    if (!n.IsMap() && !n.IsSequence()) continue;
    if (n.Mark().pos >= 0 && !visited.insert(n.Mark().pos).second) continue;
    if (n.IsSequence()) {
      for (const auto& v : n) todo.push_back(v);
      continue;
    }
    std::map<std::string, int> first_line;
    for (const auto& kv : n) {
      const YAML::Node& k = kv.first;
      if (k.IsScalar()) {
        const int line = k.Mark().line + 1;
        const auto [it, fresh] = first_line.emplace(k.Scalar(), line);
        if (!fresh)
          throw InputError(SourceLocation{name, line, k.Mark().column + 1, line_of(text, line)},
                           fmt::format("duplicate key '{}' (first at line {}; each key once)", k.Scalar(), it->second));
      }
      todo.push_back(kv.second);
    }
  }
}

}  // namespace

YAML::Node parse_yaml(const std::string& text, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    const int col = e.mark.column >= 0 ? e.mark.column + 1 : 0;
    throw InputError(SourceLocation{name, line, col, line > 0 ? line_of(text, line) : ""}, "malformed YAML: " + e.msg);
  }
  check_duplicate_keys(root, text, name);
  return root;
}

// Every YAML file is a config: the 16 MB limit whatever its name (a 48 MB YAML made yaml-cpp use GBs).
YAML::Node load_yaml_file(const std::string& path) { return parse_yaml(read_file(path, kConfigFileLimit), path); }

SourceLocation yaml_where(const YAML::Node& node, const std::string& file) {
  SourceLocation w{file, 0, 0, {}};
  if (node.IsDefined() && node.Mark().line >= 0) {
    w.line = node.Mark().line + 1;
    w.col = node.Mark().column + 1;
    w.line_text = read_line_of_file(file, w.line);
  }
  return w;
}

YamlMap::YamlMap(YAML::Node node, std::string file, std::string context)
    : node_(std::move(node)), file_(std::move(file)), context_(std::move(context)) {
  if (node_.IsNull() || !node_.IsDefined()) {
    node_ = YAML::Node(YAML::NodeType::Map);
  } else if (!node_.IsMap()) {
    throw InputError(yaml_where(node_, file_), fmt::format("{} must be a mapping (key: value)", context_.empty() ? "document" : context_));
  }
}

SourceLocation YamlMap::where(const std::string& key) const {
  if (!key.empty()) {
    for (auto it = node_.begin(); it != node_.end(); ++it)
      if (it->first.as<std::string>() == key) return yaml_where(it->first, file_);
  }
  return yaml_where(node_, file_);
}

void YamlMap::fail(const std::string& key, const std::string& what) const {
  std::string value;
  if (has(key) && node_[key].IsScalar()) value = " = " + node_[key].Scalar();
  throw InputError(where(key), fmt::format("{}{}{}{}: {}", context_, context_.empty() ? "" : ".", key, value, what));
}

void YamlMap::check_keys(const std::vector<std::string>& allowed) const {
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string k = it->first.Scalar();
    bool ok = false;
    for (auto& a : allowed) ok = ok || a == k;
    if (!ok)
      throw InputError(yaml_where(it->first, file_),
                       fmt::format("unknown key '{}'{} (allowed: {})", k, context_.empty() ? "" : " in " + context_, fmt::join(allowed, ", ")));
  }
}

bool YamlMap::has(const std::string& key) const { return node_[key].IsDefined() && !node_[key].IsNull(); }

double YamlMap::get_double(const std::string& key) const {
  if (!has(key)) throw InputError(where(), fmt::format("{} lacks the required key '{}'", context_.empty() ? "document" : context_, key));
  return get_double(key, 0.0);
}

double YamlMap::get_double(const std::string& key, double fallback) const {
  if (!has(key)) return fallback;
  const YAML::Node v = node_[key];
  if (!v.IsScalar()) fail(key, "expected a number");
  double d;
  if (!YAML::convert<double>::decode(v, d) || !std::isfinite(d)) fail(key, fmt::format("'{}' is not a finite number", v.Scalar()));
  return d;
}

long long YamlMap::get_int(const std::string& key, long long fallback) const {
  if (!has(key)) return fallback;
  const YAML::Node v = node_[key];
  long long i;
  if (!v.IsScalar() || !YAML::convert<long long>::decode(v, i)) fail(key, fmt::format("'{}' is not an integer", v.IsScalar() ? v.Scalar() : "(non-scalar)"));
  return i;
}

std::string YamlMap::get_string(const std::string& key) const {
  if (!has(key)) throw InputError(where(), fmt::format("{} lacks the required key '{}'", context_.empty() ? "document" : context_, key));
  return get_string(key, "");
}

std::string YamlMap::get_string(const std::string& key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  const YAML::Node v = node_[key];
  if (!v.IsScalar()) fail(key, "expected a string");
  return v.Scalar();
}

bool YamlMap::get_bool(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const YAML::Node v = node_[key];
  bool b;
  if (!v.IsScalar() || !YAML::convert<bool>::decode(v, b)) fail(key, "expected true or false");
  return b;
}

std::vector<long long> YamlMap::get_int_list(const std::string& key) const {
  std::vector<long long> out;
  if (!has(key)) return out;
  const YAML::Node v = node_[key];
  if (!v.IsSequence()) fail(key, "expected a list of integers");
  for (const auto& e : v) {
    long long i;
    if (!e.IsScalar() || !YAML::convert<long long>::decode(e, i))
      throw InputError(yaml_where(e, file_), fmt::format("{}.{}: '{}' is not an integer", context_, key, e.IsScalar() ? e.Scalar() : "(non-scalar)"));
    out.push_back(i);
  }
  return out;
}

std::vector<std::string> YamlMap::get_string_list(const std::string& key) const {
  std::vector<std::string> out;
  if (!has(key)) return out;
  const YAML::Node v = node_[key];
  if (v.IsScalar()) return {v.Scalar()};
  if (!v.IsSequence()) fail(key, "expected a list of strings");
  for (const auto& e : v) {
    if (!e.IsScalar())
      throw InputError(yaml_where(e, file_), fmt::format("{}.{}: expected a string, found a {}", context_, key, e.IsMap() ? "mapping" : "list"));
    out.push_back(e.Scalar());
  }
  return out;
}

YamlMap YamlMap::get_map(const std::string& key) const {
  return YamlMap(has(key) ? node_[key] : YAML::Node(YAML::NodeType::Map), file_, context_.empty() ? key : context_ + "." + key);
}

}  // namespace nnspice

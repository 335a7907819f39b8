// YAML helpers that turn yaml-cpp's exceptions into InputErrors with file:line:col, reject unknown
// keys (naming key and line), and read typed values with range checks naming the field.
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "nnspice/common/error.hpp"

namespace nnspice {

/// Parses YAML text; `name` is the file name used in messages. Syntax errors → InputError(line:col).
YAML::Node parse_yaml(const std::string& text, const std::string& name);
/// Reads and parses a YAML file.
YAML::Node load_yaml_file(const std::string& path);

/// A YAML mapping being read: remembers the file name and where it is, for messages.
class YamlMap {
 public:
  YamlMap(YAML::Node node, std::string file, std::string context);

  /// Throws unless every key is in `allowed` (message names the unknown key, its line and the allowed keys).
  void check_keys(const std::vector<std::string>& allowed) const;
  bool has(const std::string& key) const;
  double get_double(const std::string& key, double fallback) const;
  double get_double(const std::string& key) const;
  long long get_int(const std::string& key, long long fallback) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  std::string get_string(const std::string& key) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::vector<long long> get_int_list(const std::string& key) const;
  /// A list of strings (a single string = a list of one); absent = empty.
  std::vector<std::string> get_string_list(const std::string& key) const;
  YamlMap get_map(const std::string& key) const;
  YAML::Node node() const { return node_; }
  const std::string& file() const { return file_; }
  /// Where the map is in its file, e.g. "experiments[0]" ("" = the top level).
  const std::string& context() const { return context_; }
  /// A location for `key` (or for the map when key is empty or absent).
  SourceLocation where(const std::string& key = {}) const;
  /// Throws InputError at `key`: "<context>.<key> = <value>: <what>".
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;

 private:
  YAML::Node node_;
  std::string file_;
  std::string context_;
};

/// Location of a node in `file`.
SourceLocation yaml_where(const YAML::Node& node, const std::string& file);

}  // namespace nnspice

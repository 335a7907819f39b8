// Reading JSON files a user may have written or edited (calibration.json, DNPU model.json, ...): syntax
// errors and duplicate keys in an object are InputErrors naming file:line:col (nlohmann's parser would
// silently keep the last of two equal keys).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace nnspice {

/// Parses JSON text; `name` is the file name used in messages ("NAME:LINE:COL: duplicate key 'k' ...").
nlohmann::json parse_json(const std::string& text, const std::string& name);
/// Reads and parses a JSON file.
nlohmann::json load_json_file(const std::string& path);

}  // namespace nnspice

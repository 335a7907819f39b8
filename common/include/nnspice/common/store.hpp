// The checkpoint / stage store: every checkpoint record and stage result carries a format version (Kind),
// a hash of everything that produced it (Inputs: a canonical key/value list, the code version included) and
// a checksum of its payload (FNV-1a 64, below). Writes are atomic. A load that finds the record missing,
// garbled, of another kind or version, made from other inputs, failing its checksum or holding a
// non-finite value returns nothing plus the reason; the caller recomputes (never uses) it.
// Three layouts: whole files (one header line + payload bytes), JSON files (an envelope object, still
// JSON), and append-style logs (one sealed JSON object per line: a torn or edited line invalidates that line).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace nnspice {

/// FNV-1a 64-bit hash with prime 1099511628211 and offset basis 1469598103934665603 (nnspice's since 0.1, one
/// digit short of the published 14695981039346656037; kept so the RNG streams derived from it stay the same). Any change of one byte changes
/// the hash (each step is a bijection of the state), so it serves as payload checksum as well as key hash.
std::uint64_t fnv1a64(std::string_view bytes);
inline std::uint64_t fnv1a64(const std::string& bytes) { return fnv1a64(std::string_view(bytes)); }
inline std::uint64_t fnv1a64(const char* bytes) { return fnv1a64(std::string_view(bytes)); }
/// 16 lowercase hex digits.
std::string hex64(std::uint64_t v);

namespace store {

/// What a record is: its name and the version of its payload layout (bump it when the layout changes).
struct Kind {
  std::string name;
  int version = 1;
};

/// Everything that produced a record, as a canonical key/value list (order matters; callers add in a
/// fixed order). The nnspice version is always part of it.
class Inputs {
 public:
  Inputs();
  Inputs& add(std::string_view key, std::string_view value);
  Inputs& add(std::string_view key, const std::string& value) { return add(key, std::string_view(value)); }
  Inputs& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  Inputs& add(std::string_view key, double value);  ///< exact (hexadecimal floating point)
  Inputs& add(std::string_view key, std::int64_t value);
  Inputs& add(std::string_view key, const nlohmann::json& value);  ///< its dump (sorted keys: canonical)
  /// The hash of a file's bytes ("missing" when it does not exist).
  Inputs& add_file(std::string_view key, const std::string& path);
  std::uint64_t hash() const { return fnv1a64(text_); }
  const std::string& canonical() const { return text_; }

 private:
  std::string text_;
};

/// Outcome of a load: the payload, or why there is none ("" reason = the file does not exist).
template <class T>
struct Loaded {
  std::optional<T> value;
  std::string reason;
  bool missing() const { return !value && reason.empty(); }
  explicit operator bool() const { return value.has_value(); }
};

/// Checks a loaded value; returns "" when usable, else why not (e.g. "NaN in outputs[3]").
using Validator = std::function<std::string(const nlohmann::json&)>;

/// Whole-file record: "NNSPICE-STORE/1 <kind> v<version> inputs=<hex> sum=<hex> bytes=<n>\n" + payload.
void write_record(const std::string& path, const Kind& kind, std::uint64_t inputs, std::string_view payload);
/// inputs = nullopt: any inputs hash is accepted (the caller checks the inputs recorded in the payload itself).
Loaded<std::string> load_record(const std::string& path, const Kind& kind, std::optional<std::uint64_t> inputs);

/// JSON record: {"store": {"kind", "version", "inputs", "checksum"}, "payload": PAYLOAD} (checksum over the
/// payload's dump, which is canonical: sorted keys, shortest round-trip doubles). A non-finite double is
/// written as null; on load, a null anywhere (without `validate`) or a value `validate` refuses makes the
/// record invalid.
void write_json_record(const std::string& path, const Kind& kind, std::uint64_t inputs, const nlohmann::json& payload);
Loaded<nlohmann::json> load_json_record(const std::string& path, const Kind& kind, std::uint64_t inputs,
                                        const Validator& validate = {});

/// Append-style logs: one JSON object per line, sealed with `"sum":"<hex>"` over kind, version and the line.
std::string seal_line(const Kind& kind, const nlohmann::json& object);  ///< ends with '\n'
/// The object of a sealed line (without its newline), or nothing with the reason.
Loaded<nlohmann::json> unseal_line(const Kind& kind, std::string_view line);

/// "" when every number in `j` is finite and nothing is null, else the JSON path of the first bad value.
std::string first_non_finite(const nlohmann::json& j, const std::string& where = "");

/// The one-line notice for a record that is not used: "note: PATH: REASON; WHAT" on stderr.
void notice(const std::string& path, const std::string& reason, const std::string& what = "recomputing it");

}  // namespace store
}  // namespace nnspice

#include "nnspice/common/store.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/run_info.hpp"

namespace nnspice {

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 1469598103934665603ULL;  // see store.hpp: nnspice's basis since 0.1
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string hex64(std::uint64_t v) { return fmt::format("{:016x}", v); }

namespace store {
namespace {

constexpr std::string_view kMagic = "NNSPICE-STORE/1 ";

bool parse_hex64(std::string_view s, std::uint64_t& out) {
  if (s.size() != 16) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    v = v << 4 | static_cast<std::uint64_t>(d);
  }
  out = v;
  return true;
}

std::uint64_t payload_sum(const Kind& kind, std::string_view payload) {
  std::string s = fmt::format("{}/{}|", kind.name, kind.version);
  s.append(payload);
  return fnv1a64(s);
}

std::string header_line(const Kind& kind, std::uint64_t inputs, std::string_view payload) {
  return fmt::format("{}{} v{} inputs={} sum={} bytes={}\n", kMagic, kind.name, kind.version, hex64(inputs), hex64(payload_sum(kind, payload)),
                     payload.size());
}

std::string kind_mismatch(const std::string& name, int version, const Kind& kind) {
  if (name != kind.name) return fmt::format("a record of kind '{}', expected '{}'", name, kind.name);
  if (version != kind.version) return fmt::format("format version {}, expected {}", version, kind.version);
  return "";
}

std::string inputs_mismatch(std::uint64_t got, std::uint64_t want) {
  return got == want ? "" : fmt::format("made from other inputs (hash {}, now {})", hex64(got), hex64(want));
}

}  // namespace

Inputs::Inputs() { add("nnspice", nnspice_version()); }

Inputs& Inputs::add(std::string_view key, std::string_view value) {
  text_ += fmt::format("{}:{}={}:", key.size(), key, value.size());
  text_.append(value);
  text_ += ';';
  return *this;
}
Inputs& Inputs::add(std::string_view key, double value) { return add(key, std::string_view(fmt::format("{:a}", value))); }
Inputs& Inputs::add(std::string_view key, std::int64_t value) { return add(key, std::string_view(fmt::format("{}", value))); }
Inputs& Inputs::add(std::string_view key, const nlohmann::json& value) { return add(key, std::string_view(value.dump())); }
Inputs& Inputs::add_file(std::string_view key, const std::string& path) {
  return add(key, std::string_view(file_exists(path) ? hex64(fnv1a64(read_file(path))) : std::string("missing")));
}

void write_record(const std::string& path, const Kind& kind, std::uint64_t inputs, std::string_view payload) {
  std::string bytes = header_line(kind, inputs, payload);
  bytes.append(payload);
  write_file_atomic(path, bytes);
}

Loaded<std::string> load_record(const std::string& path, const Kind& kind, std::optional<std::uint64_t> inputs) {
  Loaded<std::string> r;
  if (!file_exists(path)) return r;
  std::string b;
  try {
    b = read_file(path);
  } catch (const std::exception& e) {
    r.reason = e.what();
    return r;
  }
  const std::size_t nl = b.find('\n');
  if (b.compare(0, kMagic.size(), kMagic) != 0 || nl == std::string::npos || nl > 512) {
    r.reason = "not a checkpoint record of this nnspice (no NNSPICE-STORE/1 header)";
    return r;
  }
  char name[129] = {0}, in_hex[17] = {0}, sum_hex[17] = {0};
  int version = 0;
  unsigned long long n = 0;
  const std::string head = b.substr(kMagic.size(), nl - kMagic.size());
  int used = 0;
  if (std::sscanf(head.c_str(), "%128s v%d inputs=%16s sum=%16s bytes=%llu%n", name, &version, in_hex, sum_hex, &n, &used) != 5 ||
      static_cast<std::size_t>(used) != head.size()) {
    r.reason = "garbled header line";
    return r;
  }
  std::uint64_t in = 0, sum = 0;
  if (!parse_hex64(in_hex, in) || !parse_hex64(sum_hex, sum)) {
    r.reason = "garbled header line";
    return r;
  }
  if (auto why = kind_mismatch(name, version, kind); !why.empty()) {
    r.reason = why;
    return r;
  }
  if (auto why = inputs ? inputs_mismatch(in, *inputs) : std::string(); !why.empty()) {
    r.reason = why;
    return r;
  }
  std::string payload = b.substr(nl + 1);
  if (payload.size() != n) {
    r.reason = fmt::format("{} payload bytes, the header says {} (truncated or extended)", payload.size(), n);
    return r;
  }
  if (payload_sum(kind, payload) != sum) {
    r.reason = "payload checksum mismatch (the file was changed or damaged)";
    return r;
  }
  // sscanf also takes "v01", "+5", doubled spaces: only the header write_record writes is a record.
  if (b.compare(0, nl + 1, header_line(kind, in, payload)) != 0) {
    r.reason = "garbled header line (not in the form nnspice writes)";
    return r;
  }
  r.value = std::move(payload);
  return r;
}

void write_json_record(const std::string& path, const Kind& kind, std::uint64_t inputs, const nlohmann::json& payload) {
  const std::string dump = payload.dump();
  nlohmann::json j;
  j["store"] = {{"kind", kind.name}, {"version", kind.version}, {"inputs", hex64(inputs)}, {"checksum", hex64(payload_sum(kind, dump))}};
  j["payload"] = payload;
  write_file_atomic(path, j.dump(1) + "\n");
}

Loaded<nlohmann::json> load_json_record(const std::string& path, const Kind& kind, std::uint64_t inputs, const Validator& validate) {
  Loaded<nlohmann::json> r;
  if (!file_exists(path)) return r;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const std::exception& e) {
    r.reason = fmt::format("not JSON ({})", e.what());
    return r;
  }
  const auto* s = j.is_object() && j.contains("store") && j["store"].is_object() && j.contains("payload") ? &j["store"] : nullptr;
  std::uint64_t in = 0, sum = 0;
  if (!s || !s->contains("kind") || !(*s)["kind"].is_string() || !s->contains("version") || !(*s)["version"].is_number_integer() ||
      !s->contains("inputs") || !(*s)["inputs"].is_string() || !s->contains("checksum") || !(*s)["checksum"].is_string() ||
      !parse_hex64((*s)["inputs"].get<std::string>(), in) || !parse_hex64((*s)["checksum"].get<std::string>(), sum)) {
    r.reason = "not a checkpoint record of this nnspice (no valid \"store\" header)";
    return r;
  }
  if (auto why = kind_mismatch((*s)["kind"].get<std::string>(), (*s)["version"].get<int>(), kind); !why.empty()) {
    r.reason = why;
    return r;
  }
  if (auto why = inputs_mismatch(in, inputs); !why.empty()) {
    r.reason = why;
    return r;
  }
  if (payload_sum(kind, j["payload"].dump()) != sum) {
    r.reason = "payload checksum mismatch (the file was changed or damaged)";
    return r;
  }
  std::string why;
  try {
    why = validate ? validate(j["payload"]) : first_non_finite(j["payload"]);
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (!why.empty()) {
    r.reason = fmt::format("invalid value: {}", why);
    return r;
  }
  r.value = std::move(j["payload"]);
  return r;
}

std::string seal_line(const Kind& kind, const nlohmann::json& object) {
  std::string body = object.dump();
  if (!object.is_object() || object.contains("sum") || body.size() < 2) throw std::logic_error("seal_line: needs a JSON object without \"sum\"");
  const std::uint64_t sum = payload_sum(kind, body);
  body.pop_back();  // '}'
  return body + (object.empty() ? "" : ",") + "\"sum\":\"" + hex64(sum) + "\"}\n";
}

Loaded<nlohmann::json> unseal_line(const Kind& kind, std::string_view line) {
  Loaded<nlohmann::json> r;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const std::exception&) {
    r.reason = "not JSON (cut short?)";
    return r;
  }
  std::uint64_t sum = 0;
  if (!j.is_object() || !j.contains("sum") || !j["sum"].is_string() || !parse_hex64(j["sum"].get<std::string>(), sum)) {
    r.reason = "no checksum";
    return r;
  }
  j.erase("sum");
  if (payload_sum(kind, j.dump()) != sum) {
    r.reason = "checksum mismatch (the line was changed or damaged)";
    return r;
  }
  if (auto why = first_non_finite(j); !why.empty()) {
    r.reason = fmt::format("invalid value: {}", why);
    return r;
  }
  r.value = std::move(j);
  return r;
}

std::string first_non_finite(const nlohmann::json& j, const std::string& where) {
  if (j.is_null()) return fmt::format("{} is null (a NaN or Inf when written)", where.empty() ? "the value" : where);
  if (j.is_number_float() && !std::isfinite(j.get<double>())) return fmt::format("{} = {}", where.empty() ? "the value" : where, j.get<double>());
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it)
      if (auto w = first_non_finite(it.value(), where.empty() ? it.key() : where + "." + it.key()); !w.empty()) return w;
  if (j.is_array())
    for (std::size_t i = 0; i < j.size(); ++i)
      if (auto w = first_non_finite(j[i], fmt::format("{}[{}]", where, i)); !w.empty()) return w;
  return "";
}

void notice(const std::string& path, const std::string& reason, const std::string& what) {
  std::fprintf(stderr, "note: %s: %s; %s\n", path.c_str(), reason.c_str(), what.c_str());
}

}  // namespace store
}  // namespace nnspice

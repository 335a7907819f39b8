// libFuzzer target: the checkpoint / stage store (common/store.hpp), the one reader of every checkpoint
// record. The first byte picks the layout; the rest is the file (or the log's lines).
//   0: whole-file record (load_record, with the fuzz inputs hash and with any inputs hash)
//   1: JSON record (load_json_record, with and without a validator that itself throws)
//   2: append-style log (unseal_line on each line)
// Contract: a load never throws (a bad record is "nothing + a reason"), a missing reason means the file is
// missing, and what a load accepts is exactly what the writer writes for that value: writing it again
// gives back the same bytes (whole records) or the same value (JSON records, sealed lines), finite and
// null-free.
#include <string>
#include <string_view>

#include "fuzz_util.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/store.hpp"

namespace {

using namespace nnspice;

constexpr std::uint64_t kInputs = 0x0123456789abcdefULL;  // the seeds' inputs hash

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz_store: %s\n", what.c_str());
  std::abort();
}

template <class F>
auto no_throw(const char* where, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    finding(std::string(where) + " threw: " + e.what());
  } catch (...) {
    finding(std::string(where) + " threw a non-std exception");
  }
}

template <class T>
void check_reason(const store::Loaded<T>& r, const char* where) {
  if (!r && r.reason.empty()) finding(std::string(where) + ": refused an existing file without a reason");
  if (r && !r.reason.empty()) finding(std::string(where) + ": accepted with a reason: " + r.reason);
}

void whole_record(const store::Kind& kind, const std::string& bytes) {
  const std::string path = fuzz::write_scratch("record.bin", bytes);
  const auto exact = no_throw("load_record", [&] { return store::load_record(path, kind, kInputs); });
  const auto any = no_throw("load_record(any inputs)", [&] { return store::load_record(path, kind, std::nullopt); });
  check_reason(exact, "load_record");
  check_reason(any, "load_record(any inputs)");
  if (exact && !any) finding("accepted with the inputs hash but refused with any inputs hash");
  if (!any) return;
  if (exact && *exact.value != *any.value) finding("two loads of one file gave different payloads");
  const std::string again = fuzz::scratch_dir() + "/again.bin";
  if (exact) {
    store::write_record(again, kind, kInputs, *exact.value);
    if (read_file(again) != bytes) finding("an accepted record is not what write_record writes for its payload");
  }
}

void json_record(const store::Kind& kind, const std::string& bytes) {
  const std::string path = fuzz::write_scratch("record.json", bytes);
  const auto r = no_throw("load_json_record", [&] { return store::load_json_record(path, kind, kInputs); });
  check_reason(r, "load_json_record");
  const auto v = no_throw("load_json_record(validator)", [&] {
    return store::load_json_record(path, kind, kInputs, [](const nlohmann::json& p) -> std::string {
      if (p.is_object() && p.contains("throw")) throw std::runtime_error("validator threw");
      return p.is_object() && p.contains("refuse") ? std::string("refused by the validator") : std::string();
    });
  });
  check_reason(v, "load_json_record(validator)");
  if (!r) return;
  if (const auto bad = store::first_non_finite(*r.value); !bad.empty()) finding("accepted a non-finite value: " + bad);
  const std::string again = fuzz::scratch_dir() + "/again.json";
  store::write_json_record(again, kind, kInputs, *r.value);
  const auto back = no_throw("load_json_record(rewritten)", [&] { return store::load_json_record(again, kind, kInputs); });
  if (!back || *back.value != *r.value) finding("an accepted JSON record does not survive a rewrite: " + back.reason);
}

void log_lines(const store::Kind& kind, std::string_view text) {
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const auto r = no_throw("unseal_line", [&] { return store::unseal_line(kind, line); });
    if (!r && r.reason.empty()) finding("unseal_line refused a line without a reason");
    if (!r) continue;
    if (!r.value->is_object() || r.value->contains("sum")) finding("unseal_line returned a non-object or kept \"sum\"");
    if (const auto bad = store::first_non_finite(*r.value); !bad.empty()) finding("accepted a non-finite value: " + bad);
    const std::string sealed = no_throw("seal_line", [&] { return store::seal_line(kind, *r.value); });
    const auto back = no_throw("unseal_line(resealed)", [&] {
      return store::unseal_line(kind, std::string_view(sealed).substr(0, sealed.size() - 1));
    });
    if (!back || *back.value != *r.value) finding("an accepted line does not survive a reseal: " + back.reason);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const store::Kind kind{"fuzz", 1};
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: whole_record(kind, bytes); break;
    case 1: json_record(kind, bytes); break;
    default: log_lines(kind, bytes); break;
  }
  return 0;
}

// libFuzzer target: the SPICE netlist reader (netlist/reader.cpp). What it accepts must also write and
// read back to the same text (the round trip the golden tests rely on).
#include <fmt/format.h>

#include <algorithm>

#include "fuzz_util.hpp"
#include "nnspice/netlist/writer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_input_errors([&] {
    const netlist::Circuit c = netlist::read_ngspice(text, "fuzz.cir");
    const std::string once = netlist::write_ngspice(c);
    std::string twice;
    try {
      twice = netlist::write_ngspice(netlist::read_ngspice(once, "rewritten.cir"));
    } catch (const InputError& e) {
      std::fprintf(stderr, "fuzz: the reader rejects what the writer wrote: %s\n%s", e.what(), once.c_str());
      std::abort();
    }
    if (twice != once) {
      std::size_t at = 0;
      while (at < once.size() && at < twice.size() && once[at] == twice[at]) ++at;
      auto escaped = [&](const std::string& s) {
        std::string out;
        for (std::size_t i = at >= 40 ? at - 40 : 0; i < std::min(s.size(), at + 40); ++i)
          out += (s[i] >= 32 && s[i] < 127) ? std::string(1, s[i]) : fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i]));
        return out;
      };
      std::fprintf(stderr, "fuzz: netlist round trip differs at byte %zu:\n  once:  %s\n  twice: %s\n", at, escaped(once).c_str(),
                   escaped(twice).c_str());
      std::abort();
    }
  });
  return 0;
}

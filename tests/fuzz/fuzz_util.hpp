// Helpers of the libFuzzer targets (docs/reliability.md): a private scratch folder for parsers that
// read paths, and the contract every target checks — bad input may only end in nnspice::InputError;
// any other exception escaping a parser (std::out_of_range, YAML::Exception, bad_alloc, …) aborts,
// so libFuzzer records it as a crash like a sanitizer report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "nnspice/common/error.hpp"

namespace nnspice::fuzz {

/// A folder private to this process (under /dev/shm when it exists, else $TMPDIR or /tmp), removed at exit.
const std::string& scratch_dir();
/// Writes `size` bytes to scratch_dir()/name (sub-folders created) and returns the path.
std::string write_scratch(const std::string& name, const std::uint8_t* data, std::size_t size);
std::string write_scratch(const std::string& name, const std::string& bytes);
/// The whole text of a file of the source tree (NNSPICE_SOURCE_DIR/relative).
std::string source_file(const std::string& relative);

/// Runs `f`; InputError is the expected result of bad input, anything else aborts with its message.
template <class F>
void expect_input_errors(F&& f) {
  try {
    f();
  } catch (const InputError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: exception other than InputError escaped the parser: %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "fuzz: non-std exception escaped the parser\n");
    std::abort();
  }
}

}  // namespace nnspice::fuzz

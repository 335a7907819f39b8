// Helpers shared by the train tests: a fresh scratch folder per test process and the message of an InputError.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "nnspice/common/error.hpp"

namespace nnspice::train::test {

/// An empty folder <tmp>/nnspice_test_<suite>_<pid>/<name>.
inline std::string scratch_dir(const std::string& suite, const std::string& name) {
  const std::filesystem::path d = std::filesystem::temp_directory_path() / ("nnspice_test_" + suite + "_" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d.string();
}

/// The message of the InputError that f throws, or "(no error)".
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace nnspice::train::test

// Helpers shared by the GoogleTest suites of every area: the message of the InputError a call throws, and a
// fresh scratch folder that is private to this test process (ctest runs test cases in parallel processes).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "nnspice/common/error.hpp"

namespace nnspice::test {

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

}  // namespace nnspice::test

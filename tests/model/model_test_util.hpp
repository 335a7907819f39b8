// Helper of the model tests: the message of the InputError that f throws, or "(no error)".
#pragma once

#include <string>

#include "nnspice/common/error.hpp"

namespace nnspice::model::test {

template <class F>
std::string message_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace nnspice::model::test

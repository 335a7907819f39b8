// File-system helpers: whole-file reads with clear errors, atomic writes (write to a temporary
// file in the same directory, then rename), so a killed run never leaves a half-written output.
#pragma once

#include <string>

namespace nnspice {

/// Reads a whole file; throws InputError "cannot read FILE: reason" when missing or unreadable.
std::string read_file(const std::string& path);
/// Writes `bytes` to `path` atomically. Throws std::runtime_error naming the file on failure (e.g. disk full).
void write_file_atomic(const std::string& path, const std::string& bytes);
/// Creates a directory (and parents); throws InputError when impossible.
void make_dirs(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace nnspice

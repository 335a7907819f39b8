// File-system helpers: whole-file reads with clear errors, atomic writes (write to a temporary
// file in the same directory, then rename), so a killed run never leaves a half-written output.
#pragma once

#include <cstdint>
#include <string>

namespace nnspice {

/// The largest file a reader accepts, and what kind of file that limit is for (named in the error).
struct ReadLimit {
  std::uint64_t max_bytes;
  const char* kind;
};
/// YAML configs (.yaml/.yml): a 48 MB YAML made yaml-cpp allocate GBs before failing.
inline constexpr ReadLimit kConfigFileLimit{std::uint64_t(16) << 20, "a YAML config"};
/// JSON files (.json): calibrations with per-synapse gains of a 784-100-10 chip are ~11 MB.
inline constexpr ReadLimit kJsonFileLimit{std::uint64_t(256) << 20, "a JSON file"};
/// Everything else (NPY, IDX, CSV, WAV, .pt, netlists, model cards).
inline constexpr ReadLimit kInputFileLimit{std::uint64_t(4) << 30, "an input file"};
/// The limit read_file(path) applies, chosen by the file's extension.
ReadLimit read_limit_for(const std::string& path);

/// Reads a whole file; throws InputError "cannot read FILE: reason" when missing or unreadable, when it
/// is not a regular file (a FIFO, a device such as /dev/zero, a directory; checked without blocking,
/// before reading) or larger than the limit of its kind (read_limit_for), naming the size and the limit.
std::string read_file(const std::string& path);
std::string read_file(const std::string& path, const ReadLimit& limit);
/// Writes `bytes` to `path` atomically. Throws std::runtime_error naming the file on failure (e.g. disk full).
void write_file_atomic(const std::string& path, const std::string& bytes);
/// Creates a directory (and parents); throws InputError when impossible.
void make_dirs(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace nnspice

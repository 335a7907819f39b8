#include "nnspice/common/fs_util.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nnspice/common/error.hpp"

namespace nnspice {

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(fmt::format("cannot read {}: it is a directory", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  const size_t n = std::fwrite(bytes.data(), 1, bytes.size(), f);
  const int err_write = (n != bytes.size()) ? errno : 0;
  const int rc_flush = std::fflush(f);
  const int err_flush = rc_flush != 0 ? errno : 0;
  const int rc_close = std::fclose(f);
  if (n != bytes.size() || rc_flush != 0 || rc_close != 0) {
    std::remove(tmp.c_str());
    const int e = err_write ? err_write : err_flush ? err_flush : errno;
    throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(e ? e : EIO)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(e)));
  }
}

void make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec || !std::filesystem::is_directory(path))
    throw InputError(fmt::format("cannot create directory {}: {}", path, ec ? ec.message() : "exists and is not a directory"));
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

}  // namespace nnspice

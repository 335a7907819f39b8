#include "nnspice/common/fs_util.hpp"

#include <fmt/format.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <cstdint>

#include "nnspice/common/error.hpp"

namespace nnspice {

namespace {

std::string format_bytes(std::uint64_t n) {
  if (n >= (std::uint64_t(1) << 30)) return fmt::format("{} bytes ({:.1f} GiB)", n, static_cast<double>(n) / (1 << 30));
  if (n >= (std::uint64_t(1) << 20)) return fmt::format("{} bytes ({:.1f} MiB)", n, static_cast<double>(n) / (1 << 20));
  return fmt::format("{} bytes", n);
}

const char* file_type_name(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO (named pipe)";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

/// WAV recordings (.wav): FSDD's are ~10 kB; decoded to doubles a file takes 4x its size.
constexpr ReadLimit kWavFileLimit{std::uint64_t(256) << 20, "a WAV recording"};
/// CSV tables (.csv/.txt): parsed to doubles; 10000 MNIST samples x 784 inputs are ~80 MB of text.
constexpr ReadLimit kCsvFileLimit{std::uint64_t(1) << 30, "a CSV table"};

}  // namespace

ReadLimit read_limit_for(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".yaml" || ext == ".yml") return kConfigFileLimit;
  if (ext == ".json") return kJsonFileLimit;
  if (ext == ".wav") return kWavFileLimit;
  if (ext == ".csv" || ext == ".txt") return kCsvFileLimit;
  return kInputFileLimit;
}

std::string read_file(const std::string& path) { return read_file(path, read_limit_for(path)); }

std::string read_file(const std::string& path, const ReadLimit& limit) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat on the open descriptor then refuses
  // anything that is not a regular file (FIFO, /dev/zero, a directory) before a byte is read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw InputError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw InputError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) throw InputError(fmt::format("cannot read {}: it is {}, expected a regular file", path, file_type_name(st.st_mode)));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > limit.max_bytes)
    throw InputError(fmt::format("cannot read {}: it is {}, more than the limit of {} for {}", path, format_bytes(size),
                                 format_bytes(limit.max_bytes), limit.kind));
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  std::string out(static_cast<std::size_t>(size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    if (n == 0) break;  // shrank while being read
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
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

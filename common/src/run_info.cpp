#include "nnspice/common/run_info.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>

#include "nnspice/common/fs_util.hpp"

namespace nnspice {
namespace {
std::string g_command_line;
std::string g_self_executable;
}

std::string nnspice_version() { return NNSPICE_VERSION; }

std::string self_executable() {
  if (!g_self_executable.empty()) return g_self_executable;
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return "/proc/self/exe";
  std::string path(exe, static_cast<std::size_t>(n));
  // A binary replaced (rebuilt) or removed while running reads back as "PATH (deleted)": the file to start is PATH.
  constexpr std::string_view deleted = " (deleted)";
  if (path.size() > deleted.size() && path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0) path.resize(path.size() - deleted.size());
  return path;
}

void set_self_executable(const std::string& path) { g_self_executable = path; }

std::string data_dir() {
  if (const char* env = std::getenv("NNSPICE_DATA_DIR"); env && *env) return env;
  std::error_code ec;
  // A binary in a build tree prefers the source tree's data (kept in sync with the code).
  const std::string s = self_executable();
  if (s.rfind("/usr/", 0) != 0 && std::filesystem::is_directory(NNSPICE_DATA_SOURCE_DIR, ec)) return NNSPICE_DATA_SOURCE_DIR;
  if (std::filesystem::is_directory(NNSPICE_DATA_INSTALL_DIR, ec)) return NNSPICE_DATA_INSTALL_DIR;
  return NNSPICE_DATA_SOURCE_DIR;
}

std::string resolve_data_path(const std::string& path) {
  if (path.empty() || file_exists(path) || path[0] == '/') return path;
  const std::string candidate = data_dir() + "/" + path;
  return file_exists(candidate) ? candidate : path;
}

void set_command_line(int argc, char** argv) {
  g_command_line.clear();
  for (int i = 0; i < argc; ++i) {
    if (i) g_command_line += ' ';
    g_command_line += argv[i];
  }
}

const std::string& command_line() { return g_command_line; }

nlohmann::json run_record() {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  std::time_t t = std::time(nullptr);
  char stamp[64];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return {{"tool", "nnspice"}, {"nnspice_version", nnspice_version()}, {"command_line", g_command_line}, {"time_utc", stamp}, {"host", host}};
}

void write_json(const std::string& path, const nlohmann::json& value) { write_file_atomic(path, value.dump(2) + "\n"); }

void write_run_json(const std::string& dir, const nlohmann::json& record) {
  nlohmann::json r = run_record();
  r.update(record);
  write_json(dir + "/run.json", r);
}

}  // namespace nnspice

#include "core/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "core/errors.hpp"

namespace aigc {
namespace {

std::string temporary_beside(const std::string& path) {
  return fmt::format("{}.tmp.{}", path, ::getpid());
}

// Paths a signal handler removes: fixed slots of plain char arrays, so the handler touches only
// async-signal-safe things (reading memory, unlink, signal, raise).
constexpr int kCleanupSlots = 16;
constexpr std::size_t kPathMax = 4096;
std::array<std::array<char, kPathMax>, kCleanupSlots> g_cleanup{};
std::array<std::atomic<bool>, kCleanupSlots> g_cleanup_used{};

extern "C" void remove_on_signal(int sig) {
  for (int i = 0; i < kCleanupSlots; ++i) {
    if (g_cleanup_used[i].load()) ::unlink(g_cleanup[i].data());
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// Installed at each registration (not once), so the handler is ours even where something else
// (a test framework) installed its own in between.
void install_handlers() {
  std::signal(SIGINT, remove_on_signal);
  std::signal(SIGTERM, remove_on_signal);
}

// Registers `path` for removal on SIGINT/SIGTERM; returns its slot (-1: none free).
int register_for_removal(const std::string& path) {
  install_handlers();
  if (path.size() >= kPathMax) return -1;
  for (int i = 0; i < kCleanupSlots; ++i) {
    if (g_cleanup_used[i].load()) continue;
    std::memcpy(g_cleanup[i].data(), path.c_str(), path.size() + 1);
    g_cleanup_used[i].store(true);  // the path is complete before the handler may read it
    return i;
  }
  return -1;
}

void unregister_removal(int slot) {
  if (slot >= 0) g_cleanup_used[slot].store(false);
}

// Registers `path` for removal on SIGINT/SIGTERM until the guard is destroyed.
class RemoveOnSignal {
 public:
  explicit RemoveOnSignal(const std::string& path) : slot_(register_for_removal(path)) {}
  ~RemoveOnSignal() { unregister_removal(slot_); }
  RemoveOnSignal(const RemoveOnSignal&) = delete;
  RemoveOnSignal& operator=(const RemoveOnSignal&) = delete;

 private:
  int slot_ = -1;
};

// Writes and fsyncs `content` into `path` (created or truncated); throws naming the file and
// the system's reason.
void write_and_sync(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(n < 0 ? errno : ENOSPC);
      ::close(fd);
      throw std::runtime_error(fmt::format("cannot write '{}': {}", path, why));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    throw std::runtime_error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  }
}

}  // namespace

void check_writable(const std::string& path, const std::string& argument) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.empty()) throw InvalidArgument(argument, "empty path");
  const fs::file_status st = fs::symlink_status(path, ec);
  if (fs::is_directory(st))
    throw InvalidArgument(argument, fmt::format("'{}' is a directory", path));
  if (fs::exists(st) && !fs::is_regular_file(st)) {
    throw InvalidArgument(
        argument, fmt::format("'{}' is not a regular file (a {}); it would be replaced", path,
                              fs::is_symlink(st)  ? "symlink"
                              : fs::is_fifo(st)   ? "FIFO"
                              : fs::is_socket(st) ? "socket"
                                                  : "device"));
  }
  const std::string tmp = temporary_beside(path);
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) {
    throw InvalidArgument(argument,
                          fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  }
  std::fclose(f);
  std::remove(tmp.c_str());
}

namespace {

// Two paths' (or a descriptor's and a path's) files are one file: the same device and inode.
bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

void refuse_output_over_input(const std::string& path, const std::string& argument,
                              const std::vector<std::pair<std::string, std::string>>& inputs) {
  struct stat out {};
  if (path.empty() || ::stat(path.c_str(), &out) != 0) return;  // a new file is no input
  for (const auto& [option, input] : inputs) {
    struct stat in {};
    if (input.empty() || ::stat(input.c_str(), &in) != 0) continue;
    if (same_file(in, out)) {
      throw InvalidArgument(
          argument, fmt::format("'{}' is also the input --{} ('{}'): writing it would destroy "
                                "what is read; give another path",
                                path, option, input));
    }
  }
}

void require_regular_file(const std::string& path, const std::string& argument) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.empty()) throw InvalidArgument(argument, "empty path");
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) throw InvalidArgument(argument, fmt::format("'{}': no such file", path));
  if (!fs::is_regular_file(st))
    throw InvalidArgument(argument, fmt::format("'{}' is not a regular file", path));
}

std::string open_for_reading(const std::string& path, std::ifstream& in, std::uint64_t& bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (fs::exists(st) && !fs::is_regular_file(st)) return "not a regular file";
  in.open(path, std::ios::binary);
  if (!in) return fmt::format("cannot open: {}", std::strerror(errno));
  bytes = fs::file_size(path, ec);
  if (ec) return fmt::format("cannot read its size: {}", ec.message());
  return {};
}

void write_file_atomically(const std::string& path, const std::string& content) {
  write_files_atomically({{path, content}});
}

void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> temps;
  std::vector<std::unique_ptr<RemoveOnSignal>> guards;
  auto remove_temps = [&] {
    for (const std::string& t : temps) std::remove(t.c_str());
  };
  try {
    for (const auto& [path, content] : files) {
      temps.push_back(temporary_beside(path));
      guards.push_back(std::make_unique<RemoveOnSignal>(temps.back()));
      write_and_sync(temps.back(), content);
    }
  } catch (...) {
    remove_temps();
    throw;
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (std::rename(temps[i].c_str(), files[i].first.c_str()) != 0) {
      const std::string why = std::strerror(errno);
      for (std::size_t j = i; j < temps.size(); ++j) std::remove(temps[j].c_str());
      throw std::runtime_error(fmt::format("cannot replace '{}': {}", files[i].first, why));
    }
  }
}

namespace {

// Removes `<file>.tmp.*` beside `file`: what an earlier, killed writer of it left.
void remove_stale_temporaries(const std::string& file) {
  namespace fs = std::filesystem;
  const fs::path p(file);
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  const std::string prefix = p.filename().string() + ".tmp.";
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && e.is_regular_file(ec)) fs::remove(e.path(), ec);
  }
}

}  // namespace

bool locked_file_is_at(int fd, const std::string& path) {
  struct stat held {
  }, named{};
  if (::fstat(fd, &held) != 0 || ::stat(path.c_str(), &named) != 0) return false;
  return same_file(held, named);
}

OutputLock::OutputLock(const std::string& path, const std::string& argument,
                       const std::vector<std::string>& companions)
    : lock_path_(path + ".lock") {
  // The holder unlinks the lock file before unlocking it, so a run that opened the file just
  // before may lock it after: a lock on a file no longer at the path, while a third run locks
  // the new one. Such a lock is dropped and taken again on whatever the path names now.
  for (int attempt = 0; fd_ < 0; ++attempt) {
    fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      throw InvalidArgument(argument,
                            fmt::format("cannot lock '{}': {}", lock_path_, std::strerror(errno)));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fd_ = -1;
      throw InvalidArgument(
          argument,
          fmt::format("'{}' is being written by another run (locked: '{}')", path, lock_path_));
    }
    if (!locked_file_is_at(fd_, lock_path_)) {
      ::close(fd_);
      fd_ = -1;
      if (attempt == 100) {
        throw InvalidArgument(argument, fmt::format("cannot lock '{}': it is replaced as fast as "
                                                    "it is locked",
                                                    lock_path_));
      }
    }
  }
  signal_slot_ = register_for_removal(lock_path_);
  remove_stale_temporaries(path);
  for (const std::string& c : companions) remove_stale_temporaries(c);
}

OutputLock::~OutputLock() {
  if (fd_ < 0) return;
  unregister_removal(signal_slot_);
  ::unlink(lock_path_.c_str());
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace aigc

#pragma once
// Results are written whole or not at all: temporary files beside the targets, written and
// fsync'ed completely, then rename(2), which replaces each target atomically. A set of files
// (results and their repetitions) is renamed only after every temporary is complete, the main
// file last; two renames are not one atomic step, so the writer of such a set makes the first
// file valid beside either version of the last (run_command's write_results). A run holds an
// exclusive lock beside its output, and SIGINT/SIGTERM remove its temporaries and lock before
// the process ends.
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace aigc {

// Throws InvalidArgument naming `argument` when `path` cannot be written (missing directory,
// no permission, a directory in the way, or an existing target that is not a regular file: a
// device, a FIFO or a symlink would be replaced). Leaves nothing behind.
void check_writable(const std::string& path, const std::string& argument);

// Throws InvalidArgument naming `argument` when the output `path` is the same file (device and
// inode, so through any link or spelling) as one of `inputs` ({option, path}; missing paths are
// skipped): writing it would destroy what the run reads.
void refuse_output_over_input(const std::string& path, const std::string& argument,
                              const std::vector<std::pair<std::string, std::string>>& inputs);

// Throws InvalidArgument naming `argument` unless `path` is an existing regular file (or a
// symlink to one): a FIFO would block the reader for ever, a device is not a file to load.
void require_regular_file(const std::string& path, const std::string& argument);

// Opens `path` for binary reading into `in` and sets `bytes` to its size, for the checkpoint
// readers. Returns why it cannot ("not a regular file": a FIFO would block the reader for ever;
// "cannot open: <reason>"; "cannot read its size: <reason>"), or an empty string: each reader
// throws its own error type with the message.
std::string open_for_reading(const std::string& path, std::ifstream& in, std::uint64_t& bytes);

void write_file_atomically(const std::string& path, const std::string& content);

// Writes every (path, content) to its temporary, fsyncs them all, then renames them in order:
// put the file that names the set (the results) last. A write error names the file and the
// system's reason; on any failure no target has been replaced and no temporary is left.
void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& files);

// An exclusive lock on `<path>.lock` for the life of the object, so two runs never write the
// same output at once; the second is refused naming `argument`. Holding it, the run removes the
// temporaries a killed run left beside `path` and `companions` (`<file>.tmp.<pid>`: a SIGKILL
// cannot be caught). The lock file is removed on release, and by SIGINT/SIGTERM (a SIGKILL
// leaves it, unlocked, for the next run to reuse). A lock taken on a file that was unlinked
// between this run's open and its lock is dropped and taken again on the path's file, so two
// runs never both hold it.
// Whether the open file `fd` is the one `path` names now (not unlinked or replaced since it
// was opened): OutputLock's check that the file it locked is the lock.
bool locked_file_is_at(int fd, const std::string& path);

class OutputLock {
 public:
  OutputLock(const std::string& path, const std::string& argument,
             const std::vector<std::string>& companions = {});
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  std::string lock_path_;
  int fd_ = -1;
  int signal_slot_ = -1;
};

}  // namespace aigc

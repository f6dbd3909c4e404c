// Results under faults: a set of files is replaced whole or not at all, a run locks its output,
// and SIGINT/SIGTERM leave no temporaries or lock behind.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"
#include "core/files.hpp"

using namespace aigc;
namespace fs = std::filesystem;

namespace {

struct Dir {
  fs::path path = fs::temp_directory_path() / ("aigc_files_" + std::to_string(::getpid()));
  Dir() { fs::create_directories(path); }
  ~Dir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::size_t count() const {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(path), fs::directory_iterator()));
  }
};

std::string read(const std::string& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("a set of files is replaced only when every one of them could be written") {
  Dir d;
  std::ofstream(d.file("reps.csv")) << "old reps";
  std::ofstream(d.file("results.csv")) << "old results";
  write_files_atomically({{d.file("reps.csv"), "new reps"}, {d.file("results.csv"), "new"}});
  CHECK(read(d.file("reps.csv")) == "new reps");
  CHECK(read(d.file("results.csv")) == "new");
  // The second file's temporary cannot be created (its folder is missing): nothing changes.
  CHECK_THROWS_WITH(
      write_files_atomically(
          {{d.file("reps.csv"), "newer reps"}, {d.file("missing/results.csv"), "newer"}}),
      Catch::Contains("missing/results.csv") && Catch::Contains("No such file or directory"));
  CHECK(read(d.file("reps.csv")) == "new reps");
  CHECK(d.count() == 2);  // no temporary left
}

TEST_CASE("an output that is not a regular file is refused by name, and left alone") {
  Dir d;
  REQUIRE(::mkfifo(d.file("fifo").c_str(), 0644) == 0);
  std::ofstream(d.file("real.csv")) << "x";
  fs::create_symlink(d.file("real.csv"), d.file("link.csv"));
  CHECK_THROWS_WITH(check_writable(d.file("fifo"), "out"), Catch::Contains("FIFO"));
  CHECK_THROWS_WITH(check_writable(d.file("link.csv"), "out"), Catch::Contains("symlink"));
  CHECK_THROWS_WITH(check_writable("/dev/null", "out"), Catch::Contains("not a regular file"));
  CHECK(fs::is_fifo(d.file("fifo")));
  CHECK(fs::is_symlink(d.file("link.csv")));
  // Reading: a FIFO would block for ever; it is refused before it is opened.
  CHECK_THROWS_AS(require_regular_file(d.file("fifo"), "weights"), InvalidArgument);
  CHECK_THROWS_WITH(require_regular_file(d.file("none"), "weights"), Catch::Contains("no such"));
  CHECK_NOTHROW(require_regular_file(d.file("link.csv"), "weights"));  // to a regular file
}

TEST_CASE("a second run on the same output is refused while the first holds it") {
  Dir d;
  const std::string out = d.file("results.csv");
  {
    OutputLock first(out, "out");
    CHECK_THROWS_WITH(OutputLock(out, "out"), Catch::Contains("being written by another run"));
  }
  CHECK_NOTHROW(OutputLock(out, "out"));  // released
  CHECK(d.count() == 0);                  // and its lock file removed
}

TEST_CASE("a lock on a lock file unlinked since it was opened is not the lock") {
  // The race of two runs: the holder unlinks its lock file and unlocks it; a run that opened
  // that file before could then lock an orphan while a third locks the new file at the path.
  Dir d;
  const std::string out = d.file("results.csv");
  const std::string lock_path = out + ".lock";
  const int stale = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(stale >= 0);
  CHECK(locked_file_is_at(stale, lock_path));
  REQUIRE(::unlink(lock_path.c_str()) == 0);
  CHECK_FALSE(locked_file_is_at(stale, lock_path));  // gone from the path
  {
    OutputLock third(out, "out");                      // the new file at the path
    REQUIRE(::flock(stale, LOCK_EX | LOCK_NB) == 0);   // the orphan locks: the old bug's state
    CHECK_FALSE(locked_file_is_at(stale, lock_path));  // and the check tells it is not the lock
    CHECK_THROWS_WITH(OutputLock(out, "out"), Catch::Contains("being written by another run"));
  }
  ::close(stale);
}

TEST_CASE("SIGTERM during a run removes the run's lock and temporaries, then ends it") {
  Dir d;
  const std::string out = d.file("results.csv");
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    OutputLock lock(out, "out");
    std::raise(SIGTERM);
    ::_exit(0);  // not reached
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK(d.count() == 0);
}

TEST_CASE("the next run on an output removes the temporaries a killed run left") {
  Dir d;
  const std::string out = d.file("results.csv");
  std::ofstream(out + ".tmp.999999") << "half";
  std::ofstream(d.file("results.repetitions.csv.tmp.888888")) << "half";
  std::ofstream(d.file("other.csv.tmp.1")) << "not ours";
  {
    OutputLock lock(out, "out", {d.file("results.repetitions.csv")});
    CHECK_FALSE(fs::exists(out + ".tmp.999999"));
    CHECK_FALSE(fs::exists(d.file("results.repetitions.csv.tmp.888888")));
  }
  CHECK(fs::exists(d.file("other.csv.tmp.1")));
  CHECK(d.count() == 1);
}

#pragma once
// Results are written whole or not at all: a temporary file beside the target, then
// rename(2), which replaces the target atomically. An interrupted run never leaves a
// half-written file, and an earlier file survives every failure.
#include <string>

namespace aigc {

// Throws InvalidArgument naming `argument` when `path` cannot be written
// (missing directory, no permission, a directory in the way). Leaves nothing behind.
void check_writable(const std::string& path, const std::string& argument);

void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace aigc

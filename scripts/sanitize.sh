#!/usr/bin/env bash
# Every C++ test under AddressSanitizer (with leak detection) and UndefinedBehaviorSanitizer:
# the `sanitize` preset (gcc, no CUDA parts), its own build tree (build/sanitize).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset sanitize >/dev/null
cmake --build --preset sanitize -j "$(nproc)"
# The Python scripts' test drives the Release binary; it runs in scripts/test.sh.
ctest --preset sanitize -j "$(nproc)" -E python_scripts "$@"

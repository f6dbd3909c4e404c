#!/usr/bin/env bash
# Configures and builds the Release tree (build/release) with the project's presets.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release -DAIGCBENCH_BUILD_TESTS=ON >/dev/null
cmake --build --preset release -j "$(nproc)"

#!/usr/bin/env bash
# Set-up, Release build and every test through ctest. On a machine without a GPU the
# CUDA parts still compile and link, and their tests skip with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --preset release -j "$(nproc)" "$@"

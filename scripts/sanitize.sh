#!/usr/bin/env bash
# Every C++ test under AddressSanitizer (with leak detection) and UndefinedBehaviorSanitizer:
# the `sanitize` preset (gcc, no CUDA parts, -O1 -g1: half the compile time of -O2 -g, and
# still every check), its own build tree (build/sanitize).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset sanitize >/dev/null
cmake --build --preset sanitize -j "$(nproc)"
# Left to scripts/test.sh (the Release build), as they add no code to what runs here: the Python
# scripts' test (it drives the Release binary); the probe's timing checks (timings under the
# sanitizers measure nothing, and they took 105 s alone); the real models' 32-token greedy texts
# (9 minutes of the sanitized run, on the forward pass, loaders and tokenizers that the real
# models' logit tests run here).
ctest --preset sanitize -j "$(nproc)" \
  -E "python_scripts|the_probe_measurements_alone|greedy text in f32|greedy tokens to a near-tie" "$@"

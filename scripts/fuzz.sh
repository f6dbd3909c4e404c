#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang, ASan + UBSan, -O1 -g1 as libFuzzer
# advises, half the compile time of -O2 -g) and runs each for the
# given number of seconds (default 60) from the committed seed corpus, copied so that the
# repository's corpus is not changed. A crash, a sanitizer report or a leak fails the script;
# the input that caused it is left in build/fuzz/findings/.
#   scripts/fuzz.sh          # 60 s each
#   scripts/fuzz.sh 600      # 10 minutes each
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
command -v clang++ >/dev/null || { echo "fuzz: clang++ is needed (scripts/setup.sh installs it)"; exit 2; }
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
mkdir -p build/fuzz/findings
for target in safetensors gguf probe_cache shapes tokenizer; do
  # -timeout: one input taking longer than 10 s is a hang; the tokenizer's inputs (up to 64 KB,
  # its seeds are long runs) get 2 s, far above what a linear encoding takes under the
  # sanitizers and far below what a quadratic one does.
  limits=(-timeout=10)
  [[ "$target" == tokenizer ]] && limits=(-timeout=2 -max_len=65536)
  work="$(mktemp -d)"
  cp -r "fuzz/corpus/${target}/." "$work/"
  echo "fuzz: ${target} for ${seconds} s"
  # -rss_limit_mb: an allocation beyond what the input could justify is a bug too.
  if ! "build/fuzz/fuzz/fuzz_${target}" "$work" -max_total_time="$seconds" "${limits[@]}" \
       -rss_limit_mb=2048 -artifact_prefix="build/fuzz/findings/${target}-" -print_final_stats=1 \
       2>"build/fuzz/${target}.log"; then
    tail -40 "build/fuzz/${target}.log"
    echo "fuzz: ${target} FAILED (input in build/fuzz/findings/)"
    exit 1
  fi
  grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "build/fuzz/${target}.log" | tail -1
  rm -rf "$work"
done
echo "fuzz: every target ran clean"

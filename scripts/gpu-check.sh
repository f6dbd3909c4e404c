#!/usr/bin/env bash
# Everything a GPU session must verify, as one command that finishes in minutes:
#   1. set-up and Release build (or the binaries of a bundle made by scripts/gpu-bundle.sh);
#   2. stop with exit status 3 when there is no usable GPU, saying why (before any set-up or
#      build where the NVIDIA driver sees no device);
#   3. every C++ test, the GPU ones included: a GPU test that reports itself skipped on a GPU
#      machine is a failure here;
#   4. the GPU run: matmul, attention and the decoder on cuda-naive, cuda-tiled, cuda,
#      cuda-bf16 and cublas with `--preset gpu` (the shapes the GPU targets are measured on),
#      written to results/<machine>/gpu.csv with its repetitions, a log and figures;
#   5. the targets' ratios (scripts/gpu_summary.py), printed last.
#
#   scripts/gpu-check.sh                      # on a GPU machine with Debian's packages
#   scripts/gpu-check.sh --no-build           # the same with the build/release already there
#   scripts/gpu-check.sh --bundle gpu-bundle.tar.gz [--copy-to DIR]
#                                             # on a machine that cannot install them: the
#                                             # binaries and libraries come in the bundle
#
# --copy-to DIR copies the results, the log and the figures (one .tar.gz) into DIR as well, for
# a machine whose files must be fetched from one folder; --results DIR writes them there instead
# of results/ (the tests use it). Other options go to `aigcbench run`
# (e.g. --repetitions 3). Exit status: 0 everything ran and passed (the targets are reported,
# hit or miss); 1 a test failed or a row errored; 2 bad usage; 3 no usable GPU.
set -uo pipefail
cd "$(dirname "$0")/.."

bundle="" copy_to="" build=1 results="results" run_args=()
while (($#)); do
  case "$1" in
    --bundle) bundle="${2:?--bundle needs a file (made by scripts/gpu-bundle.sh)}"; shift 2 ;;
    --bundle=*) bundle="${1#--bundle=}"; shift ;;
    --copy-to) copy_to="${2:?--copy-to needs a folder}"; shift 2 ;;
    --copy-to=*) copy_to="${1#--copy-to=}"; shift ;;
    --no-build) build=0; shift ;;
    --results) results="${2:?--results needs a folder}"; shift 2 ;;
    --results=*) results="${1#--results=}"; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) run_args+=("$1"); shift ;;
  esac
done
start=$(date +%s)
# Prints why the NVIDIA driver shows no device and succeeds; fails (prints nothing) where it
# shows one. Asks only the driver (nvidia-smi, /dev/nvidia*), so it needs no build.
driver_sees_no_gpu() {
  if command -v nvidia-smi >/dev/null 2>&1; then
    local listed
    listed="$(nvidia-smi -L 2>&1)"
    grep -q '^GPU [0-9]' <<<"$listed" && return 1
    echo "nvidia-smi lists no GPU: $(head -n 1 <<<"$listed")"
    return 0
  fi
  compgen -G '/dev/nvidia[0-9]*' >/dev/null && return 1
  echo "no NVIDIA driver: neither nvidia-smi nor /dev/nvidia0"
  return 0
}
say() { printf 'gpu-check [%4ds]: %s\n' "$(($(date +%s) - start))" "$*"; }

# 1. Binaries: from the bundle, or built here.
if [[ -n "$bundle" ]]; then
  [[ -f "$bundle" ]] || { echo "gpu-check: --bundle: $bundle: no such file" >&2; exit 2; }
  dir="build/gpu-bundle"
  rm -rf "$dir" && mkdir -p "$dir" && tar -xzf "$bundle" -C "$dir" ||
    { echo "gpu-check: --bundle: $bundle is not a bundle made by scripts/gpu-bundle.sh" >&2; exit 2; }
  bin="$dir/bin"
  # The bundle's libraries first; the CUDA libraries (cuBLAS is too large to carry) from the
  # machine's toolkit or its Python wheels.
  cuda_libs=""
  for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib \
    /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
    [[ -d "$d" ]] && cuda_libs+=":$d"
  done
  for d in $(python3 -c 'import nvidia
for p in nvidia.__path__: print(p + "/cublas/lib", p + "/cuda_runtime/lib")' 2>/dev/null); do
    [[ -d "$d" ]] && cuda_libs+=":$d"
  done
  export LD_LIBRARY_PATH="$PWD/$dir/lib${cuda_libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # libstdc++ and libgcc_s of the build machine only where the system's are older.
  if ! "$bin/aigcbench" --help >/dev/null 2>&1; then
    export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$PWD/$dir/fallback"
    "$bin/aigcbench" --help >/dev/null 2>&1 || {
      echo "gpu-check: the bundle's aigcbench does not start here:" >&2
      ldd "$bin/aigcbench" | grep -i "not found" >&2
      "$bin/aigcbench" --help 2>&1 | head -3 >&2
      exit 1
    }
  fi
  # The tests' committed data, from this checkout rather than the path the bundle was built at.
  export AIGC_TEST_DATA_DIR="$PWD/tests/data"
  say "binaries from $bundle"
else
  # No NVIDIA driver or no device it can see: say so before spending a set-up and a build.
  # (The bundle's path needs neither; its aigcbench answers below.)
  if no_gpu_reason="$(driver_sees_no_gpu)"; then
    echo "gpu-check: no usable GPU here (${no_gpu_reason}); nothing was run" >&2
    exit 3
  fi
  if ((build)); then
    say "set-up and build"
    scripts/setup.sh >/dev/null || exit 1
    scripts/build.sh >/dev/null || exit 1
  fi
  for b in driver/aigcbench tests/aigc_tests; do
    [[ -x "build/release/$b" ]] || { echo "gpu-check: build/release/$b is missing: build first (scripts/build.sh)" >&2; exit 2; }
  done
  bin="build/release/bin"
  mkdir -p "$bin"
  for b in driver/aigcbench tests/aigc_tests; do ln -sf "$PWD/build/release/$b" "$bin/"; done
fi
python="python3"
[[ -x .venv/bin/python ]] && .venv/bin/python -c "import pandas, matplotlib" 2>/dev/null &&
  python=".venv/bin/python"

# 2. A usable GPU, or exit 3 with the reason the backends give.
listing="$("$bin/aigcbench" list 2>&1)"
if ! grep -qE '^ *cuda: +available' <<<"$listing"; then
  reason="$(grep -E '^ *cuda:' <<<"$listing" | sed -E 's/^ *cuda: *unavailable \((.*)\) own CUDA.*/\1/')"
  echo "gpu-check: no usable GPU here (cuda: ${reason:-not listed}); nothing was run" >&2
  exit 3
fi
machine="$("$bin/aigcbench" machine)"
dir="$results/${machine}"  # the machine's folder: its runs, probe and figures together
mkdir -p "$dir"
log="$dir/gpu.log"
: >"$log"
say "GPU found: $(grep -E '^ *cuda:' <<<"$listing" | sed -E 's/^ *//'); machine id $machine" |
  tee -a "$log"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv >>"$log" 2>&1

# 3. Every C++ test. Those for the device ("on a GPU: ...") run on their own, and none of them
# may skip here; others may skip for their own reasons (a model file not installed), said in
# the log.
status=0
say "tests (every C++ test, then the GPU ones on their own)" | tee -a "$log"
tests_out="$(mktemp)" gpu_out="$(mktemp)"
"$bin/aigc_tests" "~on a GPU*" --durations no >"$tests_out" 2>&1
test_status=$?
"$bin/aigc_tests" "on a GPU*" --durations no >"$gpu_out" 2>&1
gpu_status=$?
cat "$tests_out" "$gpu_out" >>"$log"
skipped="$(grep -c 'test skipped:' "$gpu_out")"
tail -n 2 "$tests_out"
tail -n 2 "$gpu_out"
for result in "$test_status:$tests_out" "$gpu_status:$gpu_out"; do
  if ((${result%%:*} != 0)); then
    say "tests FAILED (exit ${result%%:*}); see $log" | tee -a "$log"
    grep -B2 -A12 -E 'FAILED:' "${result#*:}" | head -80
    status=1
  fi
done
if ((skipped > 0)); then
  say "$skipped GPU test(s) skipped themselves on a GPU machine:" | tee -a "$log"
  grep -A1 'test skipped:' "$gpu_out" | head -20
  status=1
fi
grep -q 'test skipped:' "$tests_out" &&
  say "skipped for their own reasons: $(grep -c 'test skipped:' "$tests_out") test(s) (see $log)"
rm -f "$tests_out" "$gpu_out"

# 4. The GPU run.
csv="$dir/gpu.csv"
say "GPU run -> $csv" | tee -a "$log"
"$bin/aigcbench" run --preset gpu --backends cuda-naive,cuda-tiled,cuda,cuda-bf16,cublas \
  --probe-file "$dir/probe.json" --out "$csv" "${run_args[@]}" 2>&1 | tee -a "$log"
run_status=${PIPESTATUS[0]}
((run_status == 0)) || { say "aigcbench run exited $run_status" | tee -a "$log"; status=1; }
figures="$dir/figures/gpu"
if [[ -f "$csv" ]]; then
  "$python" scripts/plot.py "$csv" --out-dir "$figures" >>"$log" 2>&1 ||
    say "plots failed; see $log" | tee -a "$log"
  # 5. The targets, last, so that they close the output.
  echo | tee -a "$log"
  "$python" scripts/gpu_summary.py "$csv" --out "$dir/gpu-summary.csv" 2>&1 |
    tee -a "$log"
fi
say "done (exit $status)" | tee -a "$log"

# One flat folder comes back, so each file there carries the machine in its name.
if [[ -n "$copy_to" ]]; then
  mkdir -p "$copy_to"
  for f in gpu.csv gpu.repetitions.csv gpu.log gpu-summary.csv; do
    [[ -f "$dir/$f" ]] && cp "$dir/$f" "$copy_to/${machine}-$f"
  done
  [[ -f "$dir/probe.json" ]] && cp "$dir/probe.json" "$copy_to/probe-${machine}.json"
  [[ -d "$figures" ]] && tar -czf "$copy_to/figures-${machine}-gpu.tar.gz" -C "$dir/figures" gpu
fi
exit $status

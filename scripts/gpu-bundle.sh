#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that cannot install Debian's packages
# (a lent machine with the CUDA toolkit and no registries): the Release aigcbench and test
# binaries, stripped, and the shared libraries they load that are not the C library, the CUDA
# driver or cuBLAS (the GPU machine's toolkit has those; cuBLASLt alone is 0.5 GB). libstdc++
# and libgcc_s go in a fallback folder that gpu-check.sh uses only where the machine's own are
# older. Writes gpu-bundle.tar.gz (git-ignored) and prints its size.
#
#   scripts/gpu-bundle.sh && scripts/gpu-check.sh --bundle gpu-bundle.tar.gz   # (on the GPU)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
scripts/build.sh >/dev/null
out="gpu-bundle.tar.gz"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/fallback"
for b in driver/aigcbench tests/aigc_tests; do
  cp "build/release/$b" "$stage/bin/"
  strip --strip-unneeded "$stage/bin/$(basename "$b")"
done
# Every library the binaries load, by name, from where this machine resolves it.
libs="$(ldd "$stage"/bin/* | awk '$3 ~ /^\// {print $1 " " $3}' | sort -u)"
while read -r name path; do
  case "$name" in
    libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|ld-linux*|libcuda.so.*) ;;
    libcublas.so.*|libcublasLt.so.*|libcudart.so.*) ;;  # the GPU machine's CUDA toolkit
    libstdc++.so.*|libgcc_s.so.*) cp -L "$path" "$stage/fallback/$name" ;;
    *) cp -L "$path" "$stage/lib/$name" ;;
  esac
done <<<"$libs"
# The libraries' own dependencies (oneDNN's OpenCL loader, OpenMP), once more.
for lib in "$stage"/lib/*; do
  ldd "$lib" | awk '$3 ~ /^\// {print $1 " " $3}' | while read -r name path; do
    case "$name" in
      libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|ld-linux*|libcuda.so.*) ;;
      libstdc++.so.*|libgcc_s.so.*) [[ -e "$stage/fallback/$name" ]] || cp -L "$path" "$stage/fallback/$name" ;;
      *) [[ -e "$stage/lib/$name" ]] || cp -L "$path" "$stage/lib/$name" ;;
    esac
  done
done
tar -czf "$out" -C "$stage" bin lib fallback
echo "gpu-bundle: $out ($(du -h "$out" | cut -f1)): $(ls "$stage/bin" "$stage/lib" "$stage/fallback" | grep -v ':$' | grep -v '^$' | tr '\n' ' ')"

#!/usr/bin/env bash
# The tensor-parallel target, interleaved: GPT-2 124M's decode (128-token prompt, 32 steps) on
# 1 rank x 2 threads (`openmp`, one process) against 2 ranks x 1 thread (mpirun -np 2, tp=2),
# one run of each per round, alternating, so the VM's drift falls on both alike. The MPI runs
# also time the collectives at the sizes around the step's messages, so their rows carry the
# distributed model. Every round's rows go to one CSV; scripts/tp_table.py reads it.
# Usage: scripts/tp_target.sh [rounds, default 3]   (after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "tp_target.sh: rounds: '$rounds' (valid: 1 or more)" >&2; exit 2; }
bin=build/release/driver/aigcbench
machine="$($bin machine)"
mkdir -p "results/${machine}"
out="results/${machine}/tp-target.csv"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
shape="cfg=gpt2-124m,prompt=128,gen=32"
collectives=""
for op in pingpong allreduce allgather; do
  for bytes in 256 1024 4096 16384 65536 262144 1048576; do
    collectives+=";op=${op},bytes=${bytes}"
  done
done
common=(--backends openmp --repetitions 5 --min-time 0.5 --no-accuracy
        --probe-file "results/${machine}/probe.json")
for ((r = 1; r <= rounds; r++)); do
  echo "round $r of $rounds: 1 rank x 2 threads"
  "$bin" run "${common[@]}" --workloads decoder --shapes "$shape" --threads 2 \
    --out "$work/one-$r.csv" > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
  grep -E "^\[" "$work/log"
  echo "round $r of $rounds: 2 ranks x 1 thread (tp=2)"
  mpirun --oversubscribe -np 2 "$bin" run "${common[@]}" --workloads collectives,decoder \
    --shapes "${shape},tp=2${collectives}" --threads 1 --out "$work/tp-$r.csv" \
    > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
  grep -E "^\[.*decoder" "$work/log"
done
# One CSV (every file has the same header; each round's rows keep their run_id), and the
# repetitions beside it.
.venv/bin/python - "$out" "$work" "$rounds" <<'PY'
import os, sys
import pandas as pd
out, work, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = [f"{kind}-{r}" for r in range(1, rounds + 1) for kind in ("one", "tp")]
for suffix in ("", ".repetitions"):
    frames = [pd.read_csv(os.path.join(work, f"{n}{suffix}.csv")) for n in names]
    pd.concat(frames).to_csv(out[:-4] + suffix + ".csv", index=False)
PY
.venv/bin/python scripts/tp_table.py "$out"
echo "results: $out"
